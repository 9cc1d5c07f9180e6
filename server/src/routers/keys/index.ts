import { router } from "../../trpc/init.js";
import { deviceProcedures } from "./devices.js";
import { pairingRouter } from "./pairing.js";

/** `keys.*` of the API contract (design/api.md): signed device logs and the pairing relay. */
export const keysRouter = router({
  ...deviceProcedures,
  pairing: pairingRouter,
});

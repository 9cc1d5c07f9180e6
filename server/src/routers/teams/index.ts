import { router } from "../../trpc/init.js";
import { auditProcedures } from "./audit.js";
import { invitesRouter } from "./invites.js";
import { manageTeamProcedures } from "./manage-team.js";
import { membershipProcedures } from "./membership.js";

/** `teams.*` of the API contract (design/api.md). Roles and their rules: `teamPermissions` in @osmynt/db. */
export const teamsRouter = router({
  ...manageTeamProcedures,
  ...membershipProcedures,
  ...auditProcedures,
  invites: invitesRouter,
});

import { router } from "../trpc/init.js";
import { authRouter } from "./auth/index.js";
import { eventsRouter } from "./events/index.js";
import { keysRouter } from "./keys/index.js";
import { sharesRouter } from "./shares/index.js";
import { teamsRouter } from "./teams/index.js";

export const appRouter = router({
  auth: authRouter,
  events: eventsRouter,
  keys: keysRouter,
  shares: sharesRouter,
  teams: teamsRouter,
});

export type AppRouter = typeof appRouter;

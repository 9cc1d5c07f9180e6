import { router } from "../trpc/init.js";
import { authRouter } from "./auth/index.js";
import { eventsRouter } from "./events/index.js";

export const appRouter = router({
  auth: authRouter,
  events: eventsRouter,
});

export type AppRouter = typeof appRouter;

/** The only thing clients import from the server: the router's type. */
import type { appRouter } from './router';

export type AppRouter = typeof appRouter;

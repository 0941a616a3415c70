/** The only thing clients import from the manager: its router's type. */
import type { managerRouter } from './router';

export type ManagerRouter = typeof managerRouter;

/** TanStack Query keys, in one place so invalidations match. */
export const queryKeys = {
  sessions: ['sessions'] as const,
  settings: ['settings'] as const,
  devices: ['devices'] as const,
  usage: ['usage'] as const,
  memories: (query: string) => ['memories', query] as const,
  memoriesAll: ['memories'] as const,
};

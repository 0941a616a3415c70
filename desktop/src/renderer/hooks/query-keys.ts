/** TanStack Query keys, in one place so invalidations match. */
export const queryKeys = {
  sessions: ['sessions'] as const,
  settings: ['settings'] as const,
  devices: ['devices'] as const,
  whoami: ['whoami'] as const,
  audit: ['audit'] as const,
  usage: ['usage'] as const,
  ledger: (query: string) => ['ledger', query] as const,
  budget: ['budget'] as const,
  notices: ['notices'] as const,
  channels: ['channels'] as const,
  channel: (name: string) => ['channels', name] as const,
  memories: (query: string) => ['memories', query] as const,
  memoriesAll: ['memories'] as const,
  skills: ['skills'] as const,
  approvals: ['skills', 'approvals'] as const,
  /** Manager queries all start with 'manager' (they outlive a gateway connection). */
  managerHealth: ['manager', 'health'] as const,
  managerSetup: (token: string) => ['manager', 'setup', token] as const,
  managerInstance: ['manager', 'instance'] as const,
  managerDevices: (instanceId: string) => ['manager', 'devices', instanceId] as const,
  managerDevicesAll: ['manager', 'devices'] as const,
  managerTailscale: ['manager', 'tailscale'] as const,
  managerBilling: ['manager', 'billing'] as const,
  managerInvoices: ['manager', 'billing', 'invoices'] as const,
};

/** Queries of the gateway connection (dropped when it goes away). */
export const isGatewayQuery = (key: readonly unknown[]): boolean => key[0] !== 'manager';

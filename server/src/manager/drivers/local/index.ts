/** The local driver's door. */
export { createLocalDriver, defaultGatewayCommand } from './local-driver';
export type { LocalDriver, LocalDriverOptions } from './local-driver';
export { instanceDir, LOG_FILE } from './instance-files';

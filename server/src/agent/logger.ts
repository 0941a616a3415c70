/** The logging surface the agent needs (pino's shape); secrets are never passed to it. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** For callers that do not want logs (tests that assert on state instead). */
export const SILENT_LOGGER: Logger = {
  info() {},
  warn() {},
  error() {},
};

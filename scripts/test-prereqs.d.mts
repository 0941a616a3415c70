export declare const CHROMIUM_ENV: string;
export declare const POSTGRES_BIN_ENV: string;
export declare function findChromium(env?: NodeJS.ProcessEnv): string | null;
export declare function findPostgresBin(env?: NodeJS.ProcessEnv): string | null;
export declare function ensureTestPrereqs(options?: { env?: NodeJS.ProcessEnv; log?: (line: string) => void }): string | null;

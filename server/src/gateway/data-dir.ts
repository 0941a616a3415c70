/** The files of a data directory. */
import { join } from 'node:path';

export const DATABASE_FILE = 'gateway.db';
export const DATA_KEY_FILE = 'data.key';
export const WORKSPACE_DIR = 'workspace';

export const databasePath = (dataDir: string): string => join(dataDir, DATABASE_FILE);
export const dataKeyPath = (dataDir: string): string => join(dataDir, DATA_KEY_FILE);
export const workspacePath = (dataDir: string): string => join(dataDir, WORKSPACE_DIR);
/** Temp folders of skill processes (emptied whenever one starts). */
export const skillsTmpPath = (dataDir: string): string => join(dataDir, 'skills-tmp');

export * from './errors';
export * from './prices';
export * from './cost';
export * from './models';
export * from './limits';
export * from './schemas';
export * from './auth';
export * from './ticket';

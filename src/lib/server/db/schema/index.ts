/** The whole Drizzle schema, one module per area. drizzle.config.ts points here. */
export * from './plant';
export * from './limits';
export * from './measurements';
export * from './quality';
export * from './ops';
export * from './auth';
export * from './records';
export * from './production';
export * from './change';

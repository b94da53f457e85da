export * from './databases.js';
export * from './postgres-server.js';
export * from './process.js';
export * from './auth.js';
export * from './idempotency.js';
export * from './access.js';

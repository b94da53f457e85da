export { createServiceApp, type AppConfig, type ServiceAppOptions } from './app.js';
export {
  loadConfig,
  ConfigError,
  type AuthConfig,
  type Config,
  type JsonWebKeySet,
  type ServiceIdentity,
} from './config.js';
export {
  constraintName,
  isDatabaseUnavailable,
  sqlState,
  type Database,
  type Queryable,
  type QueryResult,
  type Versioned,
} from './db/database.js';
export { migrate } from './db/migrate.js';
export { openPGlite } from './db/pglite.js';
export { openPostgres } from './db/postgres.js';
export { IdCursor, TimeIdCursor, idCursor, timeIdCursor } from './http/cursor.js';
export {
  IDEMPOTENCY_TTL_SECONDS,
  IdempotencyKeyHeaders,
  IdempotencyStore,
  type StoredResponse,
} from './http/idempotency.js';
export { etagOf, expectedVersions, notModified } from './http/etag.js';
export {
  HttpProblem,
  conflict,
  invalid,
  notFound,
  preconditionFailed,
  unprocessable,
  type ProblemDetails,
} from './http/problems.js';
export {
  DEFAULT_LIMIT,
  ETagHeader,
  json,
  NotModified,
  IfMatchHeaders,
  IfNoneMatchHeaders,
  Instant,
  Limit,
  LocationHeader,
  ProblemSchema,
  Text,
  Uuid,
  problems,
} from './http/schemas.js';
export { Lifecycle } from './lifecycle.js';
export { main, type ServiceDefinition } from './server.js';
// Also brings the request.principal declaration to the services.
export { registerAuth } from './auth/plugin.js';
export { principalFromClaims, type Principal, type Role } from './auth/principal.js';
export {
  createVerifier,
  forbidden,
  unauthorized,
  type Verifier,
  type VerifierOptions,
} from './auth/verifier.js';
export { remoteKeys, localKeys, KeysUnavailable, type KeySource } from './auth/keys.js';
export {
  TokenIssuer,
  DEV_AUDIENCE,
  DEV_ISSUER,
  demoPrincipal,
  generateSigningKey,
  type SigningKey,
  type TokenOptions,
} from './auth/issuer.js';

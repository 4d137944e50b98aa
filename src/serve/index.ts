/**
 * The viewer (`assay serve`) as a library: `createViewer(pool, options)` builds the hono app (JSON API and pages);
 * `serve(pool, options)` runs it on an HTTP server. Tokens, audit log, notes and rate limiting: ./auth.ts, ./notes.ts.
 */
export { createViewer, type ViewerApp, type ViewerOptions } from './app.ts';
export { isLoopback, serve, type RunningViewer, type ServeOptions } from './server.ts';
export {
  defaultStateDir, FileAuditLog, FileTokenStore, MemoryAuditLog, MemoryTokenStore, RateLimiter, ROLES, roleAtLeast, stateFiles,
  type AuditEntry, type AuditLog, type Role, type TokenRecord, type TokenStore,
} from './auth.ts';
export { NoteStore, type Note } from './notes.ts';

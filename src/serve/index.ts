/**
 * The viewer (`assay serve`) as a library: `createViewer(pool, options)` builds the hono app (JSON API and pages);
 * `serve(pool, options)` runs it on an HTTP server, its heavy reads on a worker thread (./analysis-thread.ts);
 * `startCluster` runs it in several processes (./cluster.ts). Tokens, audit log, notes and rate limiting: ./auth.ts, ./notes.ts.
 */
export { createViewer, type ViewerApp, type ViewerOptions } from './app.ts';
export { checkAccess, isLoopback, serve, type RunningViewer, type ServeOptions } from './server.ts';
export {
  defaultStateDir, FileAuditLog, FileTokenStore, MemoryAuditLog, MemoryTokenStore, RateLimiter, ROLES, roleAtLeast, stateFiles,
  type AuditEntry, type AuditLog, type RateLimit, type Role, type TokenRecord, type TokenStore,
} from './auth.ts';
export { NoteStore, type Note } from './notes.ts';
export { ANALYSES, inlineAnalyses, type AnalysisOp, type AnalysisRunner, type RunStats } from './analyses.ts';
export { AnalysisThread } from './analysis-thread.ts';
export { announceListening, isServeWorker, onStopRequest, startCluster, workerLimiters, type ClusterOptions, type RunningCluster } from './cluster.ts';

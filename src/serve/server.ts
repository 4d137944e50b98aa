/**
 * `serve(pool, options)`: the viewer (src/serve/app.ts) on an HTTP server (@hono/node-server). It listens on
 * 127.0.0.1 unless told otherwise; on any other address it refuses to start without an active API token (anyone who
 * can reach the port could otherwise read the pool). On loopback it requires tokens as soon as one is active, or when
 * `requireTokens` is set; without any, every request is `read` and must name the loopback host (DNS-rebinding guard).
 */
import { serve as nodeServe } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { InputError } from '../core/errors.ts';
import type { Pool } from '../store/types.ts';
import type { AnalysisRunner } from './analyses.ts';
import { AnalysisThread } from './analysis-thread.ts';
import { createViewer, type ViewerApp, type ViewerOptions } from './app.ts';
import type { TokenStore } from './auth.ts';

/** Options of {@link serve}: the viewer's, plus where to listen. */
export interface ServeOptions extends Omit<ViewerOptions, 'tokens'> {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8400; 0: any free port). */
  port?: number;
  /** Where tokens are checked. Required (with an active token) for a non-loopback host. */
  tokens?: TokenStore | null;
  /** Require tokens on loopback too (default: only when an active token exists). */
  requireTokens?: boolean;
  /**
   * The pool's address for the analysis thread, which opens it again read-only (src/serve/analysis-thread.ts): give
   * a PostgreSQL url with its password here (the pool's own `url` has none). Default: the pool's url when it is a
   * SQLite file; null (and a `memory:` pool): the analyses run on the HTTP thread. Ignored when `analyses` is given.
   */
  analysisPoolUrl?: string | null;
}

/** A running viewer. */
export interface RunningViewer {
  url: string;
  host: string;
  port: number;
  /** Whether requests need a token. */
  tokens: boolean;
  viewer: ViewerApp;
  server: Server;
  /** Stop accepting connections and close the idle ones; resolves when the server is closed. */
  close(): Promise<void>;
}

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Whether a viewer on `host` requires tokens (see the module comment). Errors: InputError for a non-loopback host
 * without an active token, or for `requireTokens` without one.
 */
export function checkAccess(host: string, tokens: TokenStore | null | undefined, requireTokens: boolean): boolean {
  const loopback = isLoopback(host);
  const active = !!tokens?.hasActive();
  if (!loopback && !active) {
    throw new InputError(`listening on ${host} (not a loopback address) needs API tokens, and there is no active one: create one with \`assay serve tokens create --name <who> --role read\` (the pool's tokens live beside it), or listen on 127.0.0.1`, { field: 'host' });
  }
  if (requireTokens && !active) throw new InputError('--require-tokens, but there is no active API token: create one with `assay serve tokens create --name <who> --role read`', { field: 'require-tokens' });
  return !loopback || active || requireTokens;
}

/**
 * Start the viewer over `pool`; its heavy reads run on a worker thread (see `analysisPoolUrl`). Errors: InputError
 * for a non-loopback host without an active token, or for `requireTokens` without one; the listen error
 * (EADDRINUSE…) as an InputError naming the address.
 */
export async function serve(pool: Pool, o: ServeOptions = {}): Promise<RunningViewer> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 8400;
  const loopback = isLoopback(host);
  const useTokens = checkAccess(host, o.tokens, !!o.requireTokens);
  const allowedHosts = o.allowedHosts ?? ['127.0.0.1', 'localhost', '[::1]', '::1', ...(loopback && !['127.0.0.1', 'localhost', '::1'].includes(host) ? [host] : [])];
  const threadUrl = o.analysisPoolUrl !== undefined ? o.analysisPoolUrl : /^sqlite:(?!:memory:)/.test(pool.url) ? pool.url : null;
  const analyses: AnalysisRunner | undefined = o.analyses ?? (threadUrl ? new AnalysisThread(threadUrl) : undefined);
  const viewer = createViewer(pool, { ...o, analyses, tokens: useTokens ? o.tokens! : null, allowedHosts });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = nodeServe({ fetch: viewer.fetch, hostname: host, port }, () => resolve(s as Server)) as Server;
    s.once('error', (e: NodeJS.ErrnoException) => reject(new InputError(`cannot listen on ${host}:${port}: ${e.code ?? e.message}`, { field: 'port' })));
  }).catch(async (e) => {
    if (!o.analyses) await analyses?.close();
    throw e;
  });
  // The run list read ahead (on the analysis thread when there is one): the first page of runs need not wait for it.
  viewer.data.runs().catch(() => {});
  // Keep-alive connections are closed when idle longer than this (slow clients cannot hold sockets forever).
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`, host: addr.address, port: addr.port, tokens: useTokens, viewer, server,
    close: async () => {
      await new Promise<void>((res, rej) => {
        server.close((e) => (e ? rej(e) : res()));
        server.closeIdleConnections();
      });
      if (!o.analyses) await analyses?.close();
    },
  };
}

/**
 * HTTP transport for providers that POST JSON (the OpenAI-compatible provider, the embeddings client): Node's own
 * `http`/`https` client with one keep-alive Agent per provider, at most `maxSockets` connections (the run's
 * concurrency), so a run reuses its connections instead of opening one per request.
 *
 * Why Node's client and not undici: on the hot path both reach the same throughput on loopback (≈2.4–3.9k req/s
 * each at 64 in flight, measured in turn on this machine), but undici's HTTP/1 parser is a WebAssembly module
 * compiled in every process that loads it: a client that sent 20,000 requests peaked at 112–121 MB RSS with undici
 * and at 68–69 MB with `node:http` (whose parser, llhttp, is built into Node). `assay run`'s memory bound
 * (bench/memory.ts) needs that difference.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

/** A response whose status and headers have arrived; `body` is still to be read (or drained) by the caller. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

/** Keep-alive POST client for one provider. `close()` ends its connections. */
export class HttpClient {
  private readonly agents: { http?: http.Agent; https?: https.Agent } = {};
  private readonly targets = new Map<string, { mod: typeof http | typeof https; options: http.RequestOptions }>();

  /** @param maxSockets connections open at once per host (≥ 1); further requests wait for a free one. */
  constructor(private readonly maxSockets: number) {}

  private agentFor(url: URL): http.Agent {
    const opts = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: Math.max(1, this.maxSockets) };
    if (url.protocol === 'https:') return (this.agents.https ??= new https.Agent(opts));
    if (url.protocol === 'http:') return (this.agents.http ??= new http.Agent(opts));
    throw new TypeError(`unsupported protocol ${url.protocol} in ${url.origin} (http: or https: only)`);
  }

  /**
   * POST `body` (a JSON string) to `url` with `headers` (content-length is set here). Resolves when the status line and
   * headers have arrived. Errors: a refused or dropped connection rejects with the socket error; an aborted `signal`
   * rejects with its AbortError (also while the body is read).
   */
  post(url: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<HttpResponse> {
    const t = this.target(url);
    return new Promise((resolve, reject) => {
      const req = t.mod.request({ ...t.options, headers: { ...headers, 'content-length': Buffer.byteLength(body) }, signal }, (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Request options of `url`, parsed once per URL (a provider posts to one or two URLs, thousands of times). */
  private target(url: string): { mod: typeof http | typeof https; options: http.RequestOptions } {
    let t = this.targets.get(url);
    if (!t) {
      const u = new URL(url);
      const agent = this.agentFor(u);
      t = {
        mod: u.protocol === 'https:' ? https : http,
        options: { method: 'POST', protocol: u.protocol, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || undefined, path: `${u.pathname}${u.search}`, agent, auth: u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined },
      };
      this.targets.set(url, t);
    }
    return t;
  }

  /** Close every connection of this client (call it when no request is in flight: those would fail). */
  close(): void {
    this.agents.http?.destroy();
    this.agents.https?.destroy();
  }
}

/**
 * Read a whole response body as UTF-8 text (decoded across chunk boundaries). Errors: rejects if the connection
 * drops or the request's signal aborts before the body ends.
 */
export function readText(body: IncomingMessage): Promise<string> {
  // Events rather than `for await`: an async iterator per response allocates several objects per chunk, and this
  // runs once per attempt.
  return new Promise((resolve, reject) => {
    let text = '';
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => (text += chunk));
    body.on('error', reject);
    body.on('end', () => (body.complete ? resolve(text) : reject(new Error('the connection closed before the response body ended'))));
    body.on('close', () => {
      if (!body.complete) reject(new Error('the connection closed before the response body ended'));
    });
  });
}

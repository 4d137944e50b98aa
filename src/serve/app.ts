/**
 * The viewer as a hono app (`createViewer`): a JSON API and server-rendered pages over one pool, behind access
 * control. The server around it (`serve`, src/serve/server.ts) binds it to an address.
 *
 * Access: with a token store, every route but `/static/*` and `/login` needs a token — `Authorization: Bearer <token>`
 * (API clients) or the `assay_token` cookie set by `/login` (browsers; HttpOnly, SameSite=Strict). Roles: `read` for
 * everything that reads, `write` for notes, `admin` for tokens, the audit log and private-set records (src/serve/auth.ts).
 * Without a token store (`tokens: null`, loopback only) every request is `read`, and the Host header must name the
 * loopback address (a DNS-rebinding page cannot read the API).
 *
 * Every request: a body limit (`maxBodyBytes`, 413), a token-bucket rate limit per token or client address (429 with
 * Retry-After; failed authentications have their own, stricter bucket per address), validated ids (400), security
 * headers (CSP with scripts and styles from this origin only, no inline script; frame-ancestors 'none'; nosniff;
 * no-referrer; no-store). Requests that change state with a cookie must come from this origin (Origin header), so a
 * cross-site form cannot use a logged-in browser. Writes (tokens created or revoked, notes, failed logins) go to the
 * audit log.
 *
 * JSON routes (GET unless said; `format=csv|json|jsonl` on a table route streams the table as a download):
 *   /api/me · /api/runs · /api/runs/:run · /api/runs/:run/stats · /api/runs/:run/progress
 *   /api/runs/:run/attempts?after=&limit=&filter=&scorer=&q= · /api/runs/:run/sample?id= · /api/runs/:run/attempt?id=&epoch=
 *   /api/runs/:run/measurements?scorer= · /api/runs/:run/calibration · /api/runs/:run/context
 *   /api/runs/:run/notes?id= (GET; POST with write: {label, text}) · /api/compare?runs=a,b[,…]&scorer= · /api/ranking
 *   /api/eval-sets · /api/eval-sets/:id · /api/images/:sha256
 *   admin: /api/tokens (GET, POST {name, role}) · DELETE /api/tokens/:id · /api/audit · /api/private-sets
 *   /health (no token: {status, worker}; answered while analyses compute on their own thread)
 * Pages: / · /runs/:run · /runs/:run/sample?id= · /runs/:run/live · /runs/:run/calibration · /runs/:run/context
 *   /compare?runs= · /compare/sample?a=&b=&id= · /ranking · /eval-sets[/:id] · /admin/tokens · /admin/audit
 *   /admin/private-sets · /login · /logout
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { InputError } from '../core/errors.ts';
import type { Pool, RunSummary } from '../store/types.ts';
import type { AnalysisRunner } from './analyses.ts';
import { MemoryAuditLog, RateLimiter, roleAtLeast, TOKEN_ID_RE, type AuditLog, type RateLimit, type Role, type TokenStore } from './auth.ts';
import {
  ATTEMPT_COLUMNS, checkSampleId, HttpError, isPrivateRun, OUTCOME_FILTERS, parseCursor, SHA256_RE, ViewerData, WITHHELD, type OutcomeFilter,
} from './data.ts';
import { NoteStore } from './notes.ts';
import * as pages from './pages.ts';
import type { Viewer } from './pages.ts';
import { APP_CSS, APP_JS, etagOf } from './static.ts';
import { TABLE_FORMATS, tableResponse, type TableFormat } from './tables.ts';

/** Options of {@link createViewer}. */
export interface ViewerOptions {
  /** Where API tokens are checked; null: no tokens (every request is `read`; for a loopback address only). */
  tokens: TokenStore | null;
  /** Where writes are recorded (default: in memory, lost on exit). */
  audit?: AuditLog;
  /** Notes on samples (default: in memory). */
  notes?: NoteStore;
  /** Requests per second and burst per token or client address (default 50/s, burst 200); null: no limit. */
  rateLimit?: { perSecond: number; burst: number } | null;
  /** Largest request body in bytes (default 64 KiB). */
  maxBodyBytes?: number;
  /** Without tokens: the Host header names this host (default: 127.0.0.1, localhost, [::1], with any port). */
  allowedHosts?: string[];
  /** Bootstrap replicates of the analyses (default 2000). */
  replicates?: number;
  /** Attempts looked at per request for a filtered page (default 20,000). */
  scanBudget?: number;
  /** Failed authentications per second and burst per client address before 429 (default 1/s, burst 20). */
  authFailureLimit?: { perSecond: number; burst: number };
  /**
   * The rate limits themselves, instead of this process's own buckets from `rateLimit` and `authFailureLimit`: the
   * cluster's workers take from the primary's (src/serve/cluster.ts), so a limit holds across processes.
   */
  limiters?: { requests: RateLimit | null; failures: RateLimit };
  /** Where the heavy reads run (src/serve/analyses.ts; default: this thread). `serve` gives a worker thread. */
  analyses?: AnalysisRunner;
  /** How long a run page waits for the run's statistics before showing that they are being computed, in ms (default 2000). */
  statsWaitMs?: number;
  /** This process's number among the cluster's workers: sent as `x-assay-worker` on every answer and in `/health`. */
  workerId?: number;
}

/** The viewer: the hono app and its data layer. `fetch` answers a Request (what a server or a test calls). */
export interface ViewerApp {
  app: Hono<Env>;
  fetch: (req: Request, env?: unknown) => Response | Promise<Response>;
  data: ViewerData;
}

type Env = { Variables: { viewer: Viewer; actor: string; ip: string } };

const COOKIE = 'assay_token';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]', '::1'];

const isApi = (c: Context) => c.req.path.startsWith('/api/');

/** A query parameter, at most `max` characters (400 otherwise); '' when absent. */
function param(c: Context, name: string, max = 200): string {
  const v = c.req.query(name) ?? '';
  if (v.length > max) throw new HttpError(400, `parameter ${name} is at most ${max} characters`);
  return v;
}

function intParam(c: Context, name: string, dflt: number, min: number, max: number): number {
  const v = param(c, name, 12);
  if (v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new HttpError(400, `parameter ${name} is an integer in ${min}..${max}`);
  return Number(v);
}

function enumParam<T extends string>(c: Context, name: string, values: readonly T[], dflt: T): T {
  const v = param(c, name, 40);
  if (v === '') return dflt;
  if (!(values as readonly string[]).includes(v)) throw new HttpError(400, `parameter ${name} is one of ${values.join(', ')}`);
  return v as T;
}

function formatOf(c: Context): TableFormat | null {
  const f = param(c, 'format', 10);
  if (!f) return null;
  if (!(TABLE_FORMATS as readonly string[]).includes(f)) throw new HttpError(400, `format is one of ${TABLE_FORMATS.join(', ')}`);
  return f as TableFormat;
}

function need(c: Context<Env>, role: Role): void {
  const v = c.get('viewer');
  if (!roleAtLeast(v.role, role)) throw new HttpError(403, `this needs the ${role} role; this token has ${v.role}`);
}

/** The client's address (the socket's, from @hono/node-server), or `local` for in-process requests. */
function clientIp(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'local';
}

function hostOk(hostHeader: string | undefined, allowed: string[]): boolean {
  if (!hostHeader) return false;
  const h = hostHeader.toLowerCase();
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d+$/, '');
  return allowed.includes(name);
}

/**
 * Whether a request comes from a page of this origin: the browser's `Sec-Fetch-Site` when it sends one (Chromium,
 * Firefox, Safari), else an `Origin` naming this host. A page with `Referrer-Policy: no-referrer` makes browsers send
 * `Origin: null` on form posts, so `Sec-Fetch-Site` is read first. Neither header: not a browser page (use a bearer token).
 */
function sameOrigin(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  if (!origin || origin === 'null' || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const summaryRow = (r: RunSummary) => ({ ...r, scorers: r.scorers.join(' '), lease: r.lease ? `${r.lease.host ?? '?'}:${r.lease.pid ?? '?'}` : null });

/**
 * Build the viewer over `pool` (which it only reads; open it read-only). Errors: none at build time; each request
 * answers 400 (bad parameter), 401 (no or bad token), 403 (role), 404, 413 (body too large), 429 (rate limit).
 */
export function createViewer(pool: Pool, o: ViewerOptions): ViewerApp {
  const data = new ViewerData(pool, { replicates: o.replicates, analyses: o.analyses });
  const notes = o.notes ?? new NoteStore(null);
  const audit = o.audit ?? new MemoryAuditLog();
  const limiter: RateLimit | null = o.limiters ? o.limiters.requests : o.rateLimit === null ? null : new RateLimiter(o.rateLimit?.perSecond ?? 50, o.rateLimit?.burst ?? 200);
  const failures: RateLimit = o.limiters?.failures ?? new RateLimiter(o.authFailureLimit?.perSecond ?? 1, o.authFailureLimit?.burst ?? 20);
  const allowedHosts = (o.allowedHosts ?? LOOPBACK_HOSTS).map((h) => h.toLowerCase());
  const app = new Hono<Env>();

  const fail = (c: Context<Env>, status: number, message: string, extra: Record<string, string> = {}) => {
    for (const [k, v] of Object.entries(extra)) c.header(k, v);
    if (isApi(c) || c.req.path.startsWith('/static/')) return c.json({ error: message }, status as 400);
    const viewer = c.get('viewer') ?? null;
    return c.html(status === 401 ? pages.loginPage(message) : pages.errorPage(status, message, viewer), status as 400);
  };

  // Security headers on every answer, errors included.
  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!c.res.headers.has(k)) c.res.headers.set(k, v);
    if (!c.req.path.startsWith('/static/')) c.res.headers.set('cache-control', 'no-store');
    if (o.workerId !== undefined) c.res.headers.set('x-assay-worker', String(o.workerId));
  });

  app.use('*', bodyLimit({ maxSize: o.maxBodyBytes ?? 65536, onError: (c) => fail(c as Context<Env>, 413, `the request body is larger than ${o.maxBodyBytes ?? 65536} bytes`) }));

  // Who is asking, the rate limit, and the access rule.
  app.use('*', async (c, next) => {
    const ip = clientIp(c);
    c.set('ip', ip);
    if (c.req.url.length > 8192) return fail(c, 400, 'the URL is longer than 8192 characters');
    const open = !o.tokens;
    if (open && !hostOk(c.req.header('host'), allowedHosts)) return fail(c, 400, 'this viewer runs without tokens and answers only requests to its loopback address (Host header)');
    const auth = c.req.header('authorization');
    const cookie = getCookie(c, COOKIE);
    let viewer: Viewer | null = null;
    let presented = false;
    if (open) viewer = { role: 'read', via: 'none', name: null };
    else {
      const bearer = auth && /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      const token = bearer || cookie;
      if (token) {
        presented = true;
        const rec = o.tokens!.verify(token);
        if (rec) {
          viewer = { role: rec.role, via: bearer ? 'bearer' : 'cookie', name: rec.name };
          c.set('actor', `token:${rec.id}`);
        }
      }
    }
    const key = viewer && c.get('actor') ? c.get('actor') : `ip:${ip}`;
    if (!c.get('actor')) c.set('actor', 'anonymous');
    if (limiter) {
      const wait = await limiter.take(key);
      if (wait > 0) return fail(c, 429, 'too many requests; slow down', { 'retry-after': String(Math.ceil(wait)) });
    }
    const pub = c.req.path.startsWith('/static/') || c.req.path === '/login' || c.req.path === '/favicon.ico' || c.req.path === '/health';
    if (!viewer) {
      if (presented) {
        const wait = await failures.take(`ip:${ip}`);
        if (wait > 0) return fail(c, 429, 'too many failed authentications; slow down', { 'retry-after': String(Math.ceil(wait)) });
        if (cookie && !auth) deleteCookie(c, COOKIE, { path: '/' });
      }
      if (!pub) return fail(c, 401, presented ? 'this token is not valid (unknown, revoked or malformed)' : 'a token is required: Authorization: Bearer <token>, or log in');
    } else c.set('viewer', viewer);
    // State changes carried by a cookie must come from this origin.
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && (viewer?.via === 'cookie' || c.req.path === '/login') && !sameOrigin(c)) {
      return fail(c, 403, 'a form or script from another origin cannot change anything here');
    }
    await next();
  });

  app.onError((err, c) => {
    if (err instanceof HttpError) return fail(c, err.status, err.message);
    if (err instanceof InputError) return fail(c, 400, err.message);
    if (err instanceof RangeError) return fail(c, 400, err.message);
    process.stderr.write(`assay serve: ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}\n`);
    return fail(c, 500, 'internal error (logged on the server)');
  });
  app.notFound((c) => fail(c, 404, 'no such page'));

  // --- static --------------------------------------------------------------------------------------------------------
  const statics: Record<string, { body: string; type: string; etag: string }> = {
    '/static/app.js': { body: APP_JS, type: 'text/javascript; charset=utf-8', etag: etagOf(APP_JS) },
    '/static/app.css': { body: APP_CSS, type: 'text/css; charset=utf-8', etag: etagOf(APP_CSS) },
  };
  app.get('/static/:name', (c) => {
    const s = statics[c.req.path];
    if (!s) return fail(c, 404, 'no such file');
    if (c.req.header('if-none-match') === s.etag) return c.body(null, 304);
    return c.body(s.body, 200, { 'content-type': s.type, etag: s.etag, 'cache-control': 'public, max-age=300' });
  });

  app.get('/favicon.ico', (c) => c.body(null, 204));

  // Liveness (no token needed; says nothing of the pool): answered by the HTTP thread, whatever the analysis thread is computing.
  app.get('/health', (c) => c.json({ status: 'ok', worker: o.workerId ?? 0 }));

  // --- helpers over the data layer -----------------------------------------------------------------------------------
  const runOf = (c: Context) => data.run(c.req.param('run'));
  const viewerOf = (c: Context<Env>) => c.get('viewer');
  const filterOf = (c: Context) => enumParam<OutcomeFilter>(c, 'filter', OUTCOME_FILTERS, 'all');
  const afterOf = async (c: Context) => {
    const from = param(c, 'from', 12);
    if (from !== '') {
      if (!/^\d{1,9}$/.test(from)) throw new HttpError(400, 'from is a sample index (0, 1, …)');
      return Number(from) === 0 ? null : { index: Number(from) - 1, epoch: Number.MAX_SAFE_INTEGER };
    }
    return parseCursor(param(c, 'after', 20));
  };
  const filteredRuns = async (c: Context) => {
    const all = await data.runs();
    const task = param(c, 'task'), model = param(c, 'model', 500), status = param(c, 'status', 20), q = param(c, 'q').toLowerCase();
    const runs = all.filter((r) => (!task || (r.task ?? '(none)') === task) && (!model || r.model === model) && (!status || r.status === status) && (!q || [r.id, r.model, r.dataset, r.task ?? ''].some((s) => s.toLowerCase().includes(q))));
    return { all, runs: runs.reverse(), f: { task, model, status, q: param(c, 'q'), page: intParam(c, 'page', 0, 0, 1_000_000) } };
  };
  const compareRefs = (c: Context): string[] => {
    const list = [...c.req.queries('runs') ?? []].flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
    if (list.length > 10) throw new HttpError(400, 'compare at most 10 runs at once');
    return [...new Set(list)];
  };

  // --- JSON API ------------------------------------------------------------------------------------------------------
  app.get('/api/me', (c) => c.json({ role: viewerOf(c).role, via: viewerOf(c).via, name: viewerOf(c).name }));

  app.get('/api/runs', async (c) => {
    const { runs } = await filteredRuns(c);
    const format = formatOf(c);
    if (format) return tableResponse({ columns: ['id', 'status', 'created_at', 'dataset', 'model', 'task', 'epochs', 'samples', 'attempts', 'failed', 'scorers', 'lease'], rows: runs.map(summaryRow) }, format, 'runs');
    return c.json({ runs });
  });

  app.get('/api/runs/:run', async (c) => {
    const run = await runOf(c);
    const summary = (await data.runs()).find((r) => r.id === run.id) ?? null;
    return c.json({ run: { id: run.id, status: run.status, created_at: run.created_at, updated_at: run.updated_at, spec: run.spec, manifest: run.manifest }, summary, scorers: await data.scorers(run), private: isPrivateRun(run) });
  });

  app.get('/api/runs/:run/stats', async (c) => {
    const run = await runOf(c);
    const stats = await data.stats(run);
    const format = formatOf(c);
    if (format) {
      const rows = stats.scorers.map(({ scorer, statistics: s }) => ({
        scorer, accuracy: s.accuracy, ci95_lo: s.ci95.lo, ci95_hi: s.ci95.hi, ci95_method: s.ci95.method, bootstrap_lo: s.ci95_bootstrap.lo, bootstrap_hi: s.ci95_bootstrap.hi,
        wald_lo: s.ci95_wald.lo, wald_hi: s.ci95_wald.hi, samples: s.samples, samples_planned: s.samples_planned, epochs: s.epochs, attempts: s.attempts, failed: s.failed, ungraded: s.ungraded, truncated: s.truncated,
        maj_at_k: s.maj_at_k?.value ?? null, ...Object.fromEntries(Object.entries(s.pass_at_k)),
      }));
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      return tableResponse({ columns, rows }, format, `stats-${run.id}`);
    }
    return c.json(stats);
  });

  app.get('/api/runs/:run/progress', async (c) => c.json(await data.progress(await runOf(c))));

  app.get('/api/runs/:run/attempts', async (c) => {
    const run = await runOf(c);
    const scorer = await data.scorerOf(run, param(c, 'scorer', 500) || undefined);
    const filter = filterOf(c), q = param(c, 'q');
    const format = formatOf(c);
    if (format) return tableResponse({ columns: [...ATTEMPT_COLUMNS, ...(await data.scorers(run)).map((s) => `score:${s}`)], rows: data.attemptRows(run, { filter, q, scorer, role: viewerOf(c).role }) }, format, `attempts-${run.id}`);
    const page = await data.attemptsPage(run, { after: await afterOf(c), limit: intParam(c, 'limit', 50, 1, 500), filter, q, scorer, role: viewerOf(c).role, budget: o.scanBudget });
    return c.json({ run_id: run.id, scorer, filter, ...page });
  });

  app.get('/api/runs/:run/sample', async (c) => {
    const run = await runOf(c);
    const id = checkSampleId(c.req.query('id'));
    const s = await data.sample(run, id, viewerOf(c).role);
    return c.json({ run_id: run.id, sample: s.planned, attempts: s.attempts, withheld: s.redacted, notes: notes.of(run.id, id) });
  });

  app.get('/api/runs/:run/attempt', async (c) => {
    const run = await runOf(c);
    const id = checkSampleId(c.req.query('id'));
    const epoch = intParam(c, 'epoch', -1, 0, 1_000_000);
    if (epoch < 0) throw new HttpError(400, 'epoch is required');
    const s = await data.sample(run, id, viewerOf(c).role);
    const a = s.attempts.find((x) => x.epoch === epoch);
    if (!a) throw new HttpError(404, `run ${run.id} has no attempt of sample "${id.slice(0, 200)}" at epoch ${epoch}`);
    return c.json({ run_id: run.id, attempt: a, withheld: s.redacted });
  });

  app.get('/api/runs/:run/measurements', async (c) => {
    const run = await runOf(c);
    const scorer = await data.scorerOf(run, param(c, 'scorer', 500) || undefined);
    if (!scorer) throw new HttpError(404, `run ${run.id} has no measurements`);
    const redact = isPrivateRun(run) && !roleAtLeast(viewerOf(c).role, 'admin');
    async function* rows() {
      for await (const m of pool.iterateMeasurements(run.id, scorer!)) yield redact ? { ...m, extracted: m.extracted == null ? null : WITHHELD, explanation: null } : m;
    }
    const columns = ['run_id', 'sample_id', 'epoch', 'scorer', 'kind', 'value', 'status', 'extracted', 'explanation', 'finish_reason', 'attempt_status'];
    return tableResponse({ columns, rows: rows() }, formatOf(c) ?? 'jsonl', `measurements-${run.id}`);
  });

  app.get('/api/runs/:run/calibration', async (c) => {
    const run = await runOf(c);
    const cal = await data.calibration(run, param(c, 'scorer', 500) || undefined);
    const format = formatOf(c);
    if (format) return tableResponse({ columns: ['lo', 'hi', 'n', 'mean_confidence', 'accuracy', 'gap'], rows: cal.calibration.reliability.equal_mass as unknown as Record<string, unknown>[] }, format, `calibration-${run.id}`);
    return c.json(cal);
  });

  app.get('/api/runs/:run/context', async (c) => {
    const run = await runOf(c);
    const l = await data.contextLimit(run, param(c, 'scorer', 500) || undefined);
    const format = formatOf(c);
    if (format) {
      const rows = [['all', l.all] as const, ...Object.entries(l.tasks)].flatMap(([task, r]) => r.heatmap.cells.map((x) => ({ task, ...x })));
      return tableResponse({ columns: ['task', 'depth', 'length', 'samples', 'accuracy'], rows }, format, `context-${run.id}`);
    }
    return c.json(l);
  });

  app.get('/api/runs/:run/notes', async (c) => {
    const run = await runOf(c);
    return c.json({ notes: notes.of(run.id, checkSampleId(c.req.query('id'))) });
  });

  const addNote = async (c: Context<Env>, body: { label?: unknown; text?: unknown }) => {
    need(c, 'write');
    const run = await runOf(c);
    const id = checkSampleId(c.req.query('id'));
    if (!(await pool.getPlanned(run.id, id))) throw new HttpError(404, `run ${run.id} has no sample "${id.slice(0, 200)}"`);
    const label = typeof body.label === 'string' ? body.label.trim() : '';
    const text = typeof body.text === 'string' ? body.text : '';
    const note = notes.add({ run_id: run.id, sample_id: id, label, text, by: c.get('actor') });
    audit.append({ actor: c.get('actor'), ip: c.get('ip'), action: 'note.add', target: `${run.id}/${id}`, details: { label, chars: text.length } });
    return note;
  };
  app.post('/api/runs/:run/notes', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HttpError(400, 'the body is JSON: {"label": "...", "text": "..."}');
    }
    return c.json({ note: await addNote(c, (body ?? {}) as { label?: unknown; text?: unknown }) }, 201);
  });

  app.get('/api/compare', async (c) => {
    const refs = compareRefs(c);
    if (refs.length < 2) throw new HttpError(400, 'give two or more runs: runs=<id>,<id>');
    const runs = await Promise.all(refs.map((r) => data.run(r)));
    const report = await data.compare(runs, param(c, 'scorer', 500) || undefined);
    const format = formatOf(c);
    if (format) {
      const rows = report.pairs.map((p) => ({ a: p.a, b: p.b, a_label: p.a_label, b_label: p.b_label, samples: p.samples, mean_a: p.mean_a, mean_b: p.mean_b, difference: p.difference, ci95_lo: p.ci95.lo, ci95_hi: p.ci95.hi, bootstrap_lo: p.ci95_bootstrap.lo, bootstrap_hi: p.ci95_bootstrap.hi, p_sign_flip: p.sign_flip.p, p_adjusted: p.p_adjusted, significant: p.significant, verdict: p.verdict }));
      return tableResponse({ columns: Object.keys(rows[0] ?? { a: 0 }), rows }, format, 'comparison');
    }
    return c.json(report);
  });

  app.get('/api/ranking', async (c) => {
    const r = await data.poolRanking();
    const format = formatOf(c);
    if (format) return tableResponse({ columns: ['model', 'score', 'ci_lo', 'ci_hi', 'rank', 'rank_lo', 'rank_hi', 'samples', 'measurements', 'mean_score'], rows: r.models.map((m) => ({ ...m, ci_lo: m.ci[0], ci_hi: m.ci[1], rank_lo: m.rank_interval[0], rank_hi: m.rank_interval[1] })) }, format, 'ranking');
    const { bootstrap_scores: _b, ...rest } = r;
    return c.json(rest);
  });

  app.get('/api/eval-sets', async (c) => {
    const sets = await pool.listEvalSets();
    const format = formatOf(c);
    if (format) return tableResponse({ columns: ['id', 'name', 'status', 'tasks', 'models', 'created_at', 'updated_at'], rows: sets.map((s) => ({ ...s, tasks: s.tasks.join(' '), models: s.models.join(' ') })) }, format, 'eval-sets');
    return c.json({ eval_sets: sets });
  });

  app.get('/api/eval-sets/:id', async (c) => {
    const t = await data.evalSet(c.req.param('id'));
    const format = formatOf(c);
    if (format) return tableResponse({ columns: ['task', 'model', 'run_id', 'scorer', 'status', 'accuracy', 'ci95_lo', 'ci95_hi', 'samples', 'failed'], rows: t.rows.map((r) => ({ ...r, accuracy: r.statistics.accuracy, ci95_lo: r.statistics.ci95.lo, ci95_hi: r.statistics.ci95.hi, samples: r.statistics.samples, failed: r.statistics.failed })) }, format, `eval-set-${t.eval_set_id.slice(0, 16)}`);
    return c.json(t);
  });

  app.get('/api/images/:sha', async (c) => {
    const sha = c.req.param('sha');
    if (!SHA256_RE.test(sha)) throw new HttpError(400, 'an image is named by its sha256: 64 lower-case hex digits');
    const img = await pool.getImage(sha);
    if (!img) throw new HttpError(404, 'no image with this sha256 in the pool');
    return c.body(new Uint8Array(img.bytes), 200, { 'content-type': img.mime_type, 'content-disposition': 'inline', 'content-security-policy': "default-src 'none'; frame-ancestors 'none'; sandbox", etag: `"${sha}"` });
  });

  app.get('/api/private-sets', async (c) => {
    need(c, 'admin');
    return c.json({ private_sets: await pool.listPrivateSets() });
  });

  app.get('/api/tokens', (c) => {
    need(c, 'admin');
    if (!o.tokens) throw new HttpError(404, 'this viewer runs without tokens');
    const format = formatOf(c);
    const rows = o.tokens.list().map(({ sha256: _h, ...t }) => t);
    if (format) return tableResponse({ columns: ['id', 'name', 'role', 'created_at', 'created_by', 'revoked_at'], rows }, format, 'tokens');
    return c.json({ tokens: rows });
  });

  const createToken = (c: Context<Env>, name: unknown, role: unknown) => {
    need(c, 'admin');
    if (!o.tokens) throw new HttpError(404, 'this viewer runs without tokens');
    const made = o.tokens.create({ name: String(name ?? ''), role: String(role ?? '') as Role, by: c.get('actor') });
    audit.append({ actor: c.get('actor'), ip: c.get('ip'), action: 'token.create', target: made.record.id, details: { name: made.record.name, role: made.record.role } });
    return made;
  };
  const revokeToken = (c: Context<Env>, id: string) => {
    need(c, 'admin');
    if (!o.tokens) throw new HttpError(404, 'this viewer runs without tokens');
    if (!TOKEN_ID_RE.test(id)) throw new HttpError(400, 'a token id is 12 hex digits');
    if (!o.tokens.revoke(id, c.get('actor'))) throw new HttpError(404, `no active token ${id}`);
    audit.append({ actor: c.get('actor'), ip: c.get('ip'), action: 'token.revoke', target: id, details: {} });
  };
  app.post('/api/tokens', async (c) => {
    let body: { name?: unknown; role?: unknown };
    try {
      body = (await c.req.json()) ?? {};
    } catch {
      throw new HttpError(400, 'the body is JSON: {"name": "...", "role": "read|write|admin"}');
    }
    const { token, record } = createToken(c, body.name, body.role);
    const { sha256: _h, ...rec } = record;
    return c.json({ token, record: rec }, 201);
  });
  app.delete('/api/tokens/:id', (c) => {
    revokeToken(c, c.req.param('id'));
    return c.json({ revoked: c.req.param('id') });
  });

  app.get('/api/audit', (c) => {
    need(c, 'admin');
    const entries = audit.tail(intParam(c, 'limit', 1000, 1, 100_000));
    const format = formatOf(c);
    if (format) return tableResponse({ columns: ['at', 'actor', 'ip', 'action', 'target', 'details'], rows: entries as unknown as Record<string, unknown>[] }, format, 'audit');
    return c.json({ entries });
  });

  // --- pages ---------------------------------------------------------------------------------------------------------
  app.get('/login', (c) => (o.tokens ? c.html(pages.loginPage(null)) : c.redirect('/', 303)));
  app.post('/login', async (c) => {
    if (!o.tokens) return c.redirect('/', 303);
    const body = await c.req.parseBody();
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const rec = o.tokens.verify(token);
    if (!rec) {
      audit.append({ actor: 'anonymous', ip: c.get('ip'), action: 'login.failed', target: '-', details: {} });
      const wait = await failures.take(`ip:${c.get('ip')}`);
      if (wait > 0) return fail(c, 429, 'too many failed authentications; slow down', { 'retry-after': String(Math.ceil(wait)) });
      return c.html(pages.loginPage('This token is not valid (unknown, revoked or malformed).'), 401);
    }
    setCookie(c, COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 12 * 3600 });
    return c.redirect('/', 303);
  });
  app.post('/logout', (c) => {
    deleteCookie(c, COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  app.get('/', async (c) => {
    const { all, runs, f } = await filteredRuns(c);
    return c.html(pages.runListPage(runs, all, f, 100, viewerOf(c)));
  });

  app.get('/runs/:run', async (c) => {
    const run = await runOf(c);
    const scorers = await data.scorers(run);
    const scorer = await data.scorerOf(run, param(c, 'scorer', 500) || undefined);
    const filter = filterOf(c), q = param(c, 'q');
    const after = await afterOf(c);
    let stats = null, statsError: string | null = null;
    try {
      // The rendered section is kept with the statistics: a run page of a run that did not change renders no table or plot.
      // Statistics not ready within `statsWaitMs` (the first view of a large run: seconds on the analysis thread) are
      // said to be computing; the page shows its attempts meanwhile, and a reload shows them once ready.
      if (scorers.length) {
        const pending = data.stats(run);
        const s = await Promise.race([pending, new Promise<null>((r) => setTimeout(r, o.statsWaitMs ?? 2000, null).unref())]);
        if (s) stats = await data.cache.get(`stats-html:${run.id}`, await data.fingerprint(run), async () => pages.statsSection(run, s));
        else {
          pending.catch(() => {});
          statsError = 'The statistics of this run are being computed (a large run takes some seconds); reload the page in a moment.';
        }
      }
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      statsError = e.message;
    }
    const page = await data.attemptsPage(run, { after, limit: 50, filter, q, scorer, role: viewerOf(c).role, budget: o.scanBudget });
    const from = param(c, 'from', 12);
    const afterLabel = from ? `sample #${from}` : param(c, 'after', 20) || null;
    return c.html(pages.runPage({ run, stats, statsError, scorers, scorer, filter, q, page, after: afterLabel, limit: 50 }, viewerOf(c)));
  });

  app.get('/runs/:run/sample', async (c) => {
    const run = await runOf(c);
    const id = checkSampleId(c.req.query('id'));
    const s = await data.sample(run, id, viewerOf(c).role);
    return c.html(pages.samplePage({ run, planned: s.planned, attempts: s.attempts, redacted: s.redacted, notes: notes.of(run.id, id) }, viewerOf(c)));
  });

  app.post('/runs/:run/notes', async (c) => {
    const body = await c.req.parseBody();
    const run = await runOf(c);
    const id = checkSampleId(c.req.query('id'));
    await addNote(c, { label: body.label, text: body.text });
    return c.redirect(pages.sampleHref(run.id, id), 303);
  });

  app.get('/runs/:run/live', async (c) => {
    const run = await runOf(c);
    return c.html(pages.livePage(run, await data.progress(run), viewerOf(c)));
  });

  app.get('/runs/:run/calibration', async (c) => {
    const run = await runOf(c);
    try {
      return c.html(pages.calibrationPage(run, await data.calibration(run, param(c, 'scorer', 500) || undefined), null, viewerOf(c)));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return c.html(pages.calibrationPage(run, null, e.message, viewerOf(c)));
    }
  });

  app.get('/runs/:run/context', async (c) => {
    const run = await runOf(c);
    try {
      return c.html(pages.contextPage(run, await data.contextLimit(run, param(c, 'scorer', 500) || undefined), null, viewerOf(c)));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return c.html(pages.contextPage(run, null, e.message, viewerOf(c)));
    }
  });

  app.get('/compare', async (c) => {
    const refs = compareRefs(c);
    const all = (await data.runs()).slice().reverse();
    if (refs.length < 2) return c.html(pages.comparePage(all, refs, null, refs.length ? 'Tick two or more runs.' : null, viewerOf(c)));
    const runs = await Promise.all(refs.map((r) => data.run(r)));
    try {
      return c.html(pages.comparePage(all, runs.map((r) => r.id), await data.compare(runs, param(c, 'scorer', 500) || undefined), null, viewerOf(c)));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return c.html(pages.comparePage(all, runs.map((r) => r.id), null, e.message, viewerOf(c)));
    }
  });

  app.get('/compare/sample', async (c) => {
    const id = checkSampleId(c.req.query('id'));
    if (!param(c, 'b', 128)) return c.html(pages.sideBySidePicker(await data.run(param(c, 'a', 128)), id, (await data.runs()).slice().reverse(), viewerOf(c)));
    const runs = await Promise.all([data.run(param(c, 'a', 128)), data.run(param(c, 'b', 128))]);
    const sides = await Promise.all(runs.map(async (run) => {
      try {
        const s = await data.sample(run, id, viewerOf(c).role);
        return { run, planned: s.planned, attempts: s.attempts, redacted: s.redacted };
      } catch (e) {
        if (e instanceof HttpError && e.status === 404) return { run, planned: null, attempts: [], redacted: false };
        throw e;
      }
    }));
    return c.html(pages.sideBySidePage(id, sides, viewerOf(c)));
  });

  app.get('/ranking', async (c) => {
    try {
      return c.html(pages.poolRankingPage(await data.poolRanking(), null, viewerOf(c)));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return c.html(pages.poolRankingPage(null, e.message, viewerOf(c)));
    }
  });

  app.get('/eval-sets', async (c) => c.html(pages.evalSetsPage(await pool.listEvalSets(), viewerOf(c))));
  app.get('/eval-sets/:id', async (c) => c.html(pages.evalSetPage(await data.evalSet(c.req.param('id')), viewerOf(c))));

  app.get('/admin/tokens', (c) => {
    need(c, 'admin');
    if (!o.tokens) throw new HttpError(404, 'this viewer runs without tokens');
    return c.html(pages.tokensPage(o.tokens.list(), null, viewerOf(c)));
  });
  app.post('/admin/tokens', async (c) => {
    const body = await c.req.parseBody();
    const made = createToken(c, body.name, body.role);
    return c.html(pages.tokensPage(o.tokens!.list(), made, viewerOf(c)), 201);
  });
  app.post('/admin/tokens/:id/revoke', (c) => {
    revokeToken(c, c.req.param('id'));
    return c.redirect('/admin/tokens', 303);
  });
  app.get('/admin/audit', (c) => {
    need(c, 'admin');
    return c.html(pages.auditPage(audit.tail(500), viewerOf(c)));
  });
  app.get('/admin/private-sets', async (c) => {
    need(c, 'admin');
    return c.html(pages.privateSetsPage(await pool.listPrivateSets(), viewerOf(c)));
  });

  return { app, fetch: (req, env) => app.fetch(req, env as never), data };
}

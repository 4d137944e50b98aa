/**
 * `assay serve`: the viewer and JSON API over a pool (src/serve/), read-only, on 127.0.0.1:8400 by default; and
 * `assay serve tokens create|list|revoke`: its API tokens (stored as sha256 hashes in the viewer's state directory,
 * `<pool file>.serve/`, beside the pool). `assay tokens` (tokenizer statistics) is a different command and unchanged.
 * `--workers N`: this process becomes the primary of N server processes running this command again
 * (src/serve/cluster.ts); each worker opens the pool read-only and serves, taking its rate limits from the primary.
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { table } from '../../report/text.ts';
import { defaultStateDir, FileAuditLog, FileTokenStore, ROLES, stateFiles, TOKEN_ID_RE, type Role } from '../../serve/auth.ts';
import { announceListening, isServeWorker, onStopRequest, startCluster, workerId, workerLimiters } from '../../serve/cluster.ts';
import { NoteStore } from '../../serve/notes.ts';
import { checkAccess, serve } from '../../serve/server.ts';
import { defaultPoolPath, int, openPool, printJson } from '../common.ts';

/** The state directory of a pool: `--state-dir`, else beside the pool file. */
function stateDirOf(o: { pool?: string; stateDir?: string }): string {
  if (o.stateDir) return o.stateDir;
  const url = o.pool || defaultPoolPath();
  return defaultStateDir(/^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `sqlite:${url}`);
}

/** `--workers`: a count in 1..64, or `auto` (one per core). Errors: InputError naming the flag. */
function workersOf(v: string): number {
  if (v === 'auto') return availableParallelism();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) throw new InputError(`--workers is a count in 1..64 or "auto", got "${v}"`, { field: 'workers' });
  return Number(v);
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('the viewer and JSON API over the pool (read-only): runs, statistics with CIs, samples and transcripts, comparisons, rankings; `assay serve tokens` manages its API tokens')
    .option('--pool <file>', 'pool file or url')
    .option('--host <address>', 'address to listen on (any address but loopback needs API tokens)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', int('--port', 0, 65535), 8400)
    .option('--state-dir <dir>', "the viewer's tokens, audit log and notes (default: <pool file>.serve beside the pool)")
    .option('--require-tokens', 'require API tokens on loopback too (default: only once a token exists)')
    .option('--rate-limit <n>', 'requests per second per token or client address (0: no limit)', int('--rate-limit', 0, 1_000_000), 50)
    .option('--burst <n>', 'requests at once per token or client address', int('--burst', 1, 1_000_000), 200)
    .option('--max-body <bytes>', 'largest request body', int('--max-body', 1024, 16 << 20), 65536)
    .option('--replicates <n>', 'bootstrap replicates of the statistics', int('--replicates', 100, 1_000_000), 2000)
    .option('--workers <n>', 'server processes sharing the port (node:cluster; "auto": one per core); rate limits, tokens, notes and the audit log hold across them', '1')
    .action(async (o) => {
      const stateDir = stateDirOf(o);
      const files = stateFiles(stateDir);
      const workers = workersOf(String(o.workers));
      const rateLimit = o.rateLimit === 0 ? null : { perSecond: o.rateLimit, burst: o.burst };
      const inWorker = isServeWorker();
      if (workers > 1 && !inWorker) {
        // The primary: check what every worker would (the pool opens, the address is allowed), then start them.
        const pool = await openPool(o.pool, { readonly: true });
        const url = pool.url;
        await pool.close();
        const tokens = checkAccess(o.host, new FileTokenStore(files.tokens), !!o.requireTokens);
        const running = await startCluster({ workers, rateLimit });
        process.stderr.write(`assay serve: ${running.url}/ over ${url} (read-only), ${workers} worker processes; ${tokens ? `API tokens required (${files.tokens})` : 'no tokens: loopback only, every request may read'}; Ctrl-C to stop\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await running.close();
        return;
      }
      const pool = await openPool(o.pool, { readonly: true });
      const tokens = new FileTokenStore(files.tokens);
      let running;
      try {
        running = await serve(pool, {
          host: o.host, port: o.port, tokens, requireTokens: !!o.requireTokens, audit: new FileAuditLog(files.audit), notes: new NoteStore(files.notes),
          rateLimit, maxBodyBytes: o.maxBody, replicates: o.replicates, analysisPoolUrl: /^postgres(ql)?:\/\//i.test(o.pool ?? '') ? o.pool : undefined,
          ...(inWorker ? { limiters: workerLimiters(!!rateLimit), workerId: workerId() } : {}),
        });
      } catch (e) {
        await pool.close();
        throw e;
      }
      if (inWorker) announceListening(running.url);
      else process.stderr.write(`assay serve: ${running.url}/ over ${pool.url} (read-only); ${running.tokens ? `API tokens required (${files.tokens})` : 'no tokens: loopback only, every request may read'}; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        // A worker keeps its handlers (Ctrl-C reaches the primary and every worker; the primary then asks each to stop).
        const stop = () => {
          if (!inWorker) {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
          }
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        if (inWorker) onStopRequest(stop);
      });
      await running.close();
      await pool.close();
      if (inWorker) process.exit(0);
    });

  // `--pool` and `--state-dir` given after `serve tokens …` may be parsed as `serve`'s own options (commander reads a
  // parent's options after its subcommands): the subcommands take them from either.
  const where = (o: { pool?: string; stateDir?: string }) => ({ pool: o.pool ?? cmd.opts().pool, stateDir: o.stateDir ?? cmd.opts().stateDir });
  const tokens = cmd.command('tokens').description("the viewer's API tokens (only their sha256 is stored, in <pool file>.serve/tokens.json)");
  tokens
    .command('create')
    .description('create a token; it is printed once')
    .requiredOption('--name <name>', 'who or what uses it')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'read')
    .option('--pool <file>', 'pool file (the tokens live beside it)')
    .option('--state-dir <dir>', "the viewer's state directory")
    .option('--json', 'one JSON document on stdout')
    .action((o) => {
      if (!(ROLES as readonly string[]).includes(o.role)) throw new InputError(`--role is one of ${ROLES.join(', ')}, got "${o.role}"`, { field: 'role' });
      const files = stateFiles(stateDirOf(where(o)));
      const store = new FileTokenStore(files.tokens);
      const { token, record } = store.create({ name: o.name, role: o.role as Role, by: 'cli' });
      new FileAuditLog(files.audit).append({ actor: 'cli', ip: null, action: 'token.create', target: record.id, details: { name: record.name, role: record.role } });
      if (o.json) return printJson({ token, id: record.id, name: record.name, role: record.role, created_at: record.created_at, file: files.tokens });
      process.stdout.write(`${token}\n`);
      process.stderr.write(`token ${record.id} (${record.role}, "${record.name}") created; it is shown this once (only its sha256 is kept in ${files.tokens})\n`);
    });
  tokens
    .command('list')
    .description('list tokens (ids, names, roles; never the tokens)')
    .option('--pool <file>', 'pool file (the tokens live beside it)')
    .option('--state-dir <dir>', "the viewer's state directory")
    .option('--json', 'one JSON document on stdout')
    .action((o) => {
      const files = stateFiles(stateDirOf(where(o)));
      const list = new FileTokenStore(files.tokens).list().map(({ sha256: _h, ...t }) => t);
      if (o.json) return printJson({ tokens: list });
      if (!list.length) return void process.stdout.write('no API tokens yet (assay serve tokens create --name <who> --role read)\n');
      process.stdout.write(table(['id', 'name', 'role', 'created', 'by', 'revoked'], list.map((t) => [t.id, t.name, t.role, t.created_at.slice(0, 19), t.created_by, t.revoked_at?.slice(0, 19) ?? '-'])) + '\n');
    });
  tokens
    .command('revoke <id>')
    .description('revoke a token (a running server stops accepting it within a second)')
    .option('--pool <file>', 'pool file (the tokens live beside it)')
    .option('--state-dir <dir>', "the viewer's state directory")
    .action((id: string, o) => {
      if (!TOKEN_ID_RE.test(id)) throw new InputError(`a token id is 12 hex digits (see \`assay serve tokens list\`), got "${id}"`, { field: 'id' });
      const files = stateFiles(stateDirOf(where(o)));
      if (!new FileTokenStore(files.tokens).revoke(id, 'cli')) throw new InputError(`no active token ${id} (see \`assay serve tokens list\`)`, { field: 'id' });
      new FileAuditLog(files.audit).append({ actor: 'cli', ip: null, action: 'token.revoke', target: id, details: {} });
      process.stderr.write(`token ${id} revoked\n`);
    });
}

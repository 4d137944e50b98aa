/**
 * Needle threading end to end: the default grid written as JSONL, read by the generic loader, run against the exact
 * reference solver (100%) and against the local OpenAI-compatible test server answering from the haystack with
 * errors at long lengths; the run appears in `assay stats`, and `assay needle-limit` finds the length where the
 * errors start. Also `assay gen needle` and `assay tokens` as a user runs them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { DEFAULT_GRID, hashGrid, writeGridJsonl } from '../../src/generators/needle/index.ts';
import { answerNeedlePrompt } from '../../src/providers/reference-needle.ts';
import { executeRun } from '../../src/runner/run.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { contextLimitsOfRun } from '../../src/analyses/context-limit.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { openPool } from '../../src/store/open.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const assay = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('the default grid runs end to end: reference solver 100%, test server with long-context errors, stats and effective limit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-needle-'));
  const file = join(dir, 'needle.jsonl');
  const written = await writeGridJsonl(DEFAULT_GRID, 0, file);
  assert.equal(written.sha256, hashGrid(DEFAULT_GRID, 0).sha256, 'the file holds exactly the grid bytes');
  const ds = await loadDataset(file);
  assert.equal(ds.samples.length, 90);
  assert.equal(ds.samples[0]!.metadata.generator, 'needle');
  const poolPath = join(dir, 'pool.sqlite');
  const pool = await openPool(poolPath, { create: true });
  const scorers = [createScorer('needle'), createScorer('needle?credit=partial')];
  const common = { pool, dataset: ds, template: getTemplate('plain'), scorers, concurrency: 8 };
  try {
    const ref = await executeRun({ ...common, model: 'reference:needle', config: { seed: 0, chat_template: true }, epochs: 1 });
    assert.equal(ref.status, 'complete');
    for (const s of ['needle', 'needle?credit=partial']) assert.equal((await runStatistics(pool, ref.run_id, { scorer: s })).statistics.accuracy, 1, `reference:needle scores 100% (${s})`);

    // The test server answers from the haystack: right up to 8,000 characters, right with probability 8000/chars beyond.
    const server = await startFakeOpenAIServer({
      modelId: 'fake-needle',
      answer: (question, body) => {
        const a = answerNeedlePrompt(question, { p: 1, limit: 8000, seed: 7 }, `${question.slice(-120)}\u0000${String(body.seed)}`);
        return { content: a ? a.text : 'no idea' };
      },
    });
    try {
      const r = await executeRun({ ...common, model: `openai-compatible:${server.url}#fake-needle`, config: { seed: 0, temperature: 0, chat_template: true }, epochs: 2, backoffBaseMs: 5 });
      assert.equal(r.status, 'complete');
      assert.equal(r.counts.ok, 180);
      assert.deepEqual(r.reported_model_ids, ['fake-needle']);
      const exact = (await runStatistics(pool, r.run_id, { scorer: 'needle' })).statistics;
      const partial = (await runStatistics(pool, r.run_id, { scorer: 'needle?credit=partial' })).statistics;
      assert.ok(exact.accuracy > 0.5 && exact.accuracy < 0.95, `accuracy ${exact.accuracy}`);
      assert.ok(partial.accuracy > exact.accuracy, 'partial credit is at least exact credit');
      const lim = await contextLimitsOfRun(pool, r.run_id, 'needle', { replicates: 300 });
      assert.equal(lim.all.effective_limit, 8000);
      for (const b of lim.all.by_length) if (b.length <= 8000) assert.equal(b.accuracy, 1);
      assert.deepEqual(Object.keys(lim.tasks).sort(), ['branched', 'conditional', 'multi-threading', 'multiple', 'single', 'threading']);
      await pool.flush();

      const stats = assay(['stats', r.run_id.slice(0, 8), '--pool', poolPath]);
      assert.equal(stats.code, 0, stats.err);
      assert.match(stats.out, /needle\.jsonl × openai-compatible:.*#fake-needle/);
      assert.match(stats.out, /scorer needle\?credit=partial/);
      const cli = assay(['needle-limit', r.run_id, '--pool', poolPath, '--json', '--replicates', '200']);
      assert.equal(cli.code, 0, cli.err);
      const doc = JSON.parse(cli.out);
      assert.equal(doc.all.effective_limit, 8000);
      // the limit in tokens, from the prompt_tokens the server recorded (the test server counts ceil(chars / 4))
      assert.equal(doc.token_scale.source, 'recorded');
      assert.equal(doc.all.tokens.source, 'recorded');
      const at8k = doc.token_scale.by_length.find((b: { length: number }) => b.length === 8000);
      assert.equal(doc.all.tokens.effective_limit, at8k.tokens);
      assert.ok(at8k.tokens >= 2000 && at8k.tokens <= 2400, `8,000 haystack chars + question ≈ 2,000–2,400 test-server tokens, got ${at8k.tokens}`);
      for (const t of Object.values(doc.tasks) as { effective_limit: number | null; tokens: { effective_limit: number | null } }[]) {
        if (t.effective_limit != null) assert.ok(t.tokens.effective_limit! > 0);
      }
      const text = assay(['needle-limit', r.run_id.slice(0, 8), '--pool', poolPath, '--replicates', '200']);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^tokens: prompt_tokens the server reported \(model fake-needle; /m);
      assert.match(text.out, new RegExp(`all tasks: effective limit 8k chars = ${at8k.tokens.toLocaleString('en-US')} tokens`));
      assert.match(text.out, /length \(chars\)\s+tokens \(recorded\)/);
      // a named tokenizer instead: counted here, and said so
      const tk = JSON.parse(assay(['needle-limit', r.run_id, '--pool', poolPath, '--json', '--replicates', '200', '--tokenizer', 'o200k']).out);
      assert.equal(tk.all.tokens.source, 'tokenizer');
      assert.equal(tk.all.tokens.tokenizer, 'o200k');
      assert.ok(tk.all.tokens.effective_limit > 1000 && tk.all.tokens.effective_limit < 8000, `o200k tokens at 8k chars: ${tk.all.tokens.effective_limit}`);
      assert.match(tk.token_scale.description, /OpenAI o200k_base .*--tokenizer/);
      // the reference model reports no tokens and has no known family: characters only, and the note says what to pass
      const refDoc = JSON.parse(assay(['needle-limit', ref.run_id, '--pool', poolPath, '--json', '--replicates', '100']).out);
      assert.equal(refDoc.token_scale, null);
      assert.match(refDoc.token_note, /pass --tokenizer <family>/);
      assert.equal(assay(['needle-limit', r.run_id, '--pool', poolPath, '--tokenizer', 'nope']).code, 2);
    } finally {
      await server.close();
    }
  } finally {
    await pool.close();
  }
});

test('`assay gen needle` writes the grid it hashes; bad grids exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-needle-gen-'));
  const g = assay(['gen', 'needle', '-o', join(dir, 'g.jsonl'), '--tokens', 'none', '--tasks', 'single,threading', '--lengths', '1k,4k', '--json']);
  assert.equal(g.code, 0, g.err);
  const doc = JSON.parse(g.out);
  assert.equal(doc.samples, 2 * 3 + 2 * 2);
  const h = assay(['gen', 'needle', '--tasks', 'single,threading', '--lengths', '1k,4k', '--json']);
  assert.equal(JSON.parse(h.out).sha256, doc.sha256, 'hash-only and written file agree');
  assert.equal(assay(['gen', 'needle', '--lengths', '10']).code, 2);
  assert.equal(assay(['gen', 'needle', '--tasks', 'multiple', '--lengths', '200', '--k', '5']).code, 2);
});

test('`assay tokens` reports characters per token on the haystack and on prose', () => {
  const t = assay(['tokens', '--families', 'o200k,claude', '--haystack-chars', '8000', '--json']);
  assert.equal(t.code, 0, t.err);
  const rows = JSON.parse(t.out).rows as { text: string; chars_per_token: Record<string, number> }[];
  assert.equal(rows.length, 2);
  for (const f of ['o200k', 'claude']) assert.ok(rows[0]!.chars_per_token[f]! < rows[1]!.chars_per_token[f]!, 'UUID haystacks take more tokens per character than prose');
});

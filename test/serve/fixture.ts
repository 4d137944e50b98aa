/**
 * The pool the viewer tests look at: runs written through the pool interface with everything a viewer must show and
 * must not show — hostile model output (a script, an image with onerror, a javascript: link) in responses, transcripts,
 * extracted answers, explanations, errors, sample ids, sample text and a model name; a multi-turn transcript; an image
 * in a prompt; failed, truncated and disagreeing attempts; stated confidences (calibration); a needle-threading grid
 * (heatmap); three runs on the same samples (comparison, ranking); an eval set; a run over a private held-out set whose
 * stored text must never reach a read token; a private set record with a canary.
 */
import { hostname } from 'node:os';
import { hashJson, sha256 } from '../../src/core/hash.ts';
import type { Attempt, Measurement, Message, PlannedSample, RunRecord, Sample } from '../../src/core/schemas.ts';
import { svgToPng } from '../../src/generators/charts/png.ts';
import type { Pool } from '../../src/store/types.ts';

/** Markup that would run if a page inserted it unescaped: each part sets a different window flag. */
export const HOSTILE = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2"><a href="javascript:window.__xss=3">click me</a>`;
/** A sample id made of markup. */
export const HOSTILE_ID = `<img src=x onerror="window.__xss=4">&"'`;
/** A model name made of markup. */
export const HOSTILE_MODEL = `replay:answers.jsonl#<script>window.__xss=5</script>`;
/** Text a read token must never see: the stored content of a run over a private held-out set. */
export const SECRET = 'SECRET-ITEM-7f3a';
export const CANARY = 'ASSAY-CANARY-0123456789abcdef0123456789abcdef';

export const IDS = { alpha: 'a1a1a1a1a1a1a1a1', beta: 'b2b2b2b2b2b2b2b2', gamma: 'c3c3c3c3c3c3c3c3', priv: 'd4d4d4d4d4d4d4d4', needle: 'e5e5e5e5e5e5e5e5', live: 'f6f6f6f6f6f6f6f6' };
export const N = 24;
export const EPOCHS = 3;

export function sampleId(i: number): string {
  return i === 0 ? HOSTILE_ID : `s${String(i).padStart(3, '0')}`;
}

/** A small real PNG (a red square), rendered by resvg. */
export function redSquare(): { sha256: string; mime_type: 'image/png'; bytes: Buffer } {
  const { png, sha256: h } = svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="#d22"/></svg>');
  return { sha256: h, mime_type: 'image/png', bytes: Buffer.from(png) };
}

function planOf(samples: Sample[]): PlannedSample[] {
  return samples.map((sample, index) => {
    const messages: Message[] = typeof sample.input === 'string' ? [{ role: 'user', content: sample.input }] : sample.input;
    return { sample, index, messages, prompt_hash: sha256(JSON.stringify(messages)), target_hash: sha256(sample.target), content_hash: hashJson({ input: sample.input, target: sample.target }) };
  });
}

export function runRecord(id: string, o: { model: string; dataset?: string; scorers?: string[]; status?: RunRecord['status']; epochs?: number; created: string }): RunRecord {
  const dataset = o.dataset ?? 'jsonl:fixture.jsonl';
  const scorers = (o.scorers ?? ['math']).map((name) => ({ name, options: {} }));
  return {
    id, status: o.status ?? 'complete', created_at: o.created, updated_at: o.created,
    spec: { dataset: { ref: dataset, name: dataset.replace(/^jsonl:/, ''), hash: 'd', path: null, size: N, limit: null }, template: { name: 'plain', hash: 't' }, model: o.model, config: { chat_template: true }, epochs: o.epochs ?? EPOCHS, scorers },
    manifest: {
      toolkit: { name: 'assay', version: '0.0.0', git_commit: null }, node: 'v20', os: { platform: 'linux', release: 'x', arch: 'x64' }, cpu: { model: 'cpu', cores: 2 },
      provider: { address: o.model, kind: 'replay', base_url: null, requested_model: null, reported_model_ids: [] }, generation_config: { chat_template: true },
      template: { name: 'plain', hash: 't' }, dataset: { name: dataset, ref: dataset, hash: 'd', size: N }, epochs: o.epochs ?? EPOCHS, seeds: { generation: 0, bootstrap: 0, reference: null },
      scorers: scorers.map((s) => ({ ...s, metric: { kind: 'binary' as const } })), runner: { concurrency: 1, timeout_ms: 1000, max_retries: 0 }, created_at: o.created,
    },
  };
}

function attempt(run: string, sample: string, epoch: number, o: Partial<Attempt> = {}): Attempt {
  return {
    run_id: run, sample_id: sample, epoch, status: 'ok', response: `The answer is \\boxed{${epoch}}. Confidence: 70%`, finish_reason: 'stop', prompt_tokens: 12, completion_tokens: 8,
    latency_ms: 4.5, tries: 1, error: null, model_id: 'm', cache_key: `ck:${run}:${sample}:${epoch}`, cached: false, meta: null, ...o,
  };
}

function measurement(run: string, sample: string, epoch: number, scorer: string, value: number | null, o: Partial<Measurement> = {}): Measurement {
  return { run_id: run, sample_id: sample, epoch, scorer, kind: 'binary', value, extracted: value == null ? null : String(value), explanation: null, status: value == null ? 'attempt_error' : 'ok', ...o };
}

/** The samples of the arithmetic runs: sample 0 has a hostile id and text, sample 3 an image. */
export function fixtureSamples(image: { sha256: string; mime_type: 'image/png' }): Sample[] {
  return Array.from({ length: N }, (_, i): Sample => {
    if (i === 0) return { id: sampleId(0), input: `What is ${HOSTILE}?`, target: `${HOSTILE}`, metadata: { category: 'hostile' } };
    if (i === 3) return { id: sampleId(3), input: [{ role: 'user', content: [{ type: 'text', text: 'What colour is this square?' }, { type: 'image', sha256: image.sha256, mime_type: image.mime_type }] }], target: 'red', metadata: {} };
    return { id: sampleId(i), input: `What is ${i} + 1?`, target: String(i + 1), metadata: { category: i % 2 ? 'odd' : 'even' } };
  });
}

/** Deterministic correctness of (model skill, sample, epoch). */
const right = (skill: number, i: number, e: number) => ((i * 7 + e * 3) % 10) < skill * 10;

/** Write the fixture into `pool` (which must be empty). Returns the ids. */
export async function buildFixture(pool: Pool): Promise<typeof IDS> {
  const image = redSquare();
  await pool.putImage(image);
  const samples = fixtureSamples(image);
  const plan = planOf(samples);
  const runs: [string, string, number, string[]][] = [[IDS.alpha, HOSTILE_MODEL, 0.8, ['math', 'judge']], [IDS.beta, 'reference:noisy?p=0.5', 0.5, ['math']], [IDS.gamma, 'reference:oracle', 1, ['math']]];
  for (const [k, [id, model, skill, scorers]] of runs.entries()) {
    await pool.ensureRun(runRecord(id, { model, scorers, created: `2025-01-0${k + 1}T00:00:00.000Z` }), plan);
    for (let i = 0; i < N; i++) {
      for (let e = 0; e < EPOCHS; e++) {
        const sid = sampleId(i);
        const ok = right(skill, i, e);
        const v = ok ? 1 : 0;
        if (id === IDS.alpha && i === 4 && e === 0) {
          await pool.write(attempt(id, sid, e, { status: 'error', response: null, finish_reason: 'error', error: `HTTP 500: ${HOSTILE}`, completion_tokens: null }), scorers.map((s) => measurement(id, sid, e, s, null)));
          continue;
        }
        const extra: Partial<Attempt> = {};
        if (id === IDS.alpha && i === 1) extra.response = `Answer: ${HOSTILE} Confidence: 90%`;
        if (id === IDS.alpha && i === 2) extra.transcript = [{ role: 'user', content: 'Your move.' }, { role: 'assistant', content: `e4 ${HOSTILE}` }, { role: 'user', content: 'Illegal; again.' }, { role: 'assistant', content: 'd4' }];
        if (id === IDS.alpha && i === 5) extra.finish_reason = 'length';
        if (i === 0) extra.response = `${HOSTILE} Confidence: 50%`;
        if (id === IDS.alpha && i === 6) extra.meta = { note: HOSTILE };
        const ms = [measurement(id, sid, e, 'math', v, i === 1 ? { extracted: HOSTILE, explanation: HOSTILE } : {})];
        // the judge disagrees with math on samples 7 and 8
        if (scorers.includes('judge')) ms.push(measurement(id, sid, e, 'judge', i === 7 || i === 8 ? 1 - v : v, { explanation: JSON.stringify({ confidence: 60, note: HOSTILE }) }));
        await pool.write(attempt(id, sid, e, extra), ms);
      }
    }
  }
  // A run over a private held-out set: what the pool holds of it must not reach a read token.
  const privPlan = planOf([0, 1, 2, 3].map((i) => ({ id: `p${i}`, input: `${SECRET} question ${i}`, target: `${SECRET} target`, metadata: { private_set: 'secret-set' } })));
  await pool.ensureRun(runRecord(IDS.priv, { model: 'reference:oracle', dataset: 'private:secret-set', created: '2025-01-04T00:00:00.000Z', epochs: 1 }), privPlan);
  for (let i = 0; i < 4; i++) await pool.write(attempt(IDS.priv, `p${i}`, 0, { response: `${SECRET} response ${i}`, error: null }), [measurement(IDS.priv, `p${i}`, 0, 'math', i % 2, { extracted: `${SECRET} extracted`, explanation: `${SECRET} why` })]);
  await pool.putPrivateSet({ name: 'secret-set', allow: ['http://127.0.0.1:9/v1'], key_id: '0123456789abcdef', content_mac: 'mac', items: 1, created_at: '2025-01-04T00:00:00.000Z', source: 'jsonl:secret.jsonl' },
    [{ set: 'secret-set', idx: 0, id: 'p0', canary: CANARY, iv: 'aXY=', tag: 'dGFn', ciphertext: 'Y2lwaGVydGV4dA==' }]);
  // A needle-threading grid: 3 lengths × 2 depths × 2 samples, accuracy falling with length.
  const needle: Sample[] = [];
  for (const chars of [1000, 4000, 16000]) for (const depth of [0, 100]) for (let k = 0; k < 2; k++) needle.push({ id: `n-${chars}-${depth}-${k}`, input: `haystack ${chars}`, target: 'x', metadata: { chars, depth, task: 'single' } });
  await pool.ensureRun(runRecord(IDS.needle, { model: 'reference:needle-noisy', dataset: 'generated:needle?fixture', scorers: ['needle'], created: '2025-01-05T00:00:00.000Z', epochs: 2 }), planOf(needle));
  for (const s of needle) {
    const chars = s.metadata.chars as number;
    for (let e = 0; e < 2; e++) await pool.write(attempt(IDS.needle, s.id, e, { response: 'x' }), [measurement(IDS.needle, s.id, e, 'needle', chars <= 4000 || (e === 0 && s.id.endsWith('0')) ? 1 : 0)]);
  }
  await pool.ensureEvalSet({ id: 'e0e0e0e0e0e0e0e0', name: 'fixture set', tasks: ['fixture'], models: [HOSTILE_MODEL, 'reference:noisy?p=0.5'], runs: { [`fixture\u0000${HOSTILE_MODEL}`]: IDS.alpha, 'fixture\u0000reference:noisy?p=0.5': IDS.beta }, spec: {}, status: 'complete', created_at: '2025-01-06T00:00:00.000Z', updated_at: '2025-01-06T00:00:00.000Z' });
  await pool.flush();
  return IDS;
}

/** A run in progress (status running) with the first `done` of its N × 2 attempts; `more` adds attempts up to `upTo`. */
export async function liveRun(pool: Pool, done: number): Promise<{ more: (upTo: number) => Promise<void> }> {
  const samples = Array.from({ length: N }, (_, i) => ({ id: `l${i}`, input: `live ${i}`, target: String(i), metadata: {} }));
  await pool.ensureRun(runRecord(IDS.live, { model: 'reference:noisy?p=0.7', status: 'running', epochs: 2, created: '2025-01-07T00:00:00.000Z' }), planOf(samples));
  // held by this process, as a runner holds the run it runs (a running run nobody holds is shown as interrupted)
  await pool.acquireLease(IDS.live, { id: 'fixture-writer', pid: process.pid, host: hostname() }, 120_000);
  let written = 0;
  const more = async (upTo: number) => {
    for (; written < upTo; written++) {
      const i = Math.floor(written / 2), e = written % 2;
      await pool.write(attempt(IDS.live, `l${i}`, e), [measurement(IDS.live, `l${i}`, e, 'math', right(0.7, i, e) ? 1 : 0)]);
    }
    await pool.flush();
  };
  await more(done);
  return { more };
}

/**
 * Zero-shot classification and retrieval of one embedding model on one task, recorded in the pool as ordinary runs:
 * one run per column of the task (src/zeroshot/task.ts `zeroShotColumns`), one planned sample per item, one `ok`
 * attempt per item whose `meta` keeps the ranks, and one measurement per scorer (`top1`, `top5` binary;
 * `recall@k` binary per item for item→text, a proportion per item — the share of its texts that retrieve it — for
 * text→item). `assay stats`, `compare`, `export` and streams read these runs like any other.
 *
 * A run whose every planned item is already stored is not asked again (resume): the figures are read back from the
 * pool. Figures always come from the stored runs (`zeroShotFigures`), so a fresh and a resumed evaluation agree.
 */
import os from 'node:os';
import { InputError, RunError } from '../core/errors.ts';
import { hashJson, sha256 } from '../core/hash.ts';
import { GenerationConfigSchema, type Attempt, type Manifest, type Measurement, type RunRecord, type RunSpec, type Sample } from '../core/schemas.ts';
import { toolkitInfo } from '../core/toolkit.ts';
import { takeRunLease } from './lease.ts';
import { planIter, runIdOf } from './plan.ts';
import { classify, classPrototypes, clusteredFigure, hitsAt, meanPerClassFigure, proportionFigure, retrieve, type ZeroShotFigure } from '../stats/zeroshot.ts';
import { openPool } from '../store/open.ts';
import type { Pool, RunLease } from '../store/types.ts';
import { createEmbedder, type EmbedInput, type Embedder, type EmbedderOptions } from '../zeroshot/embedder.ts';
import { readZeroShotFile, zeroShotColumns, isZeroShotTask, type ZeroShotColumn, type ZeroShotTask } from '../zeroshot/task.ts';

/** Options of {@link evaluateZeroShot}. */
export interface ZeroShotOptions extends EmbedderOptions {
  /** The pool to record the runs in (default: a new in-memory pool, closed afterwards). */
  pool?: Pool;
  /** An embedder to use instead of creating one (its cache is then shared across calls; not closed). */
  embedder?: Embedder;
  /** Abort the embedding requests (nothing of the unfinished task is stored). */
  signal?: AbortSignal;
  /** Run leases (one process per run): ttl and what to say while another process holds a run. */
  lease?: { ttlMs?: number; onWait?: (holder: RunLease) => void };
}

/** One column's result: its run and its figures, scorer by scorer. */
export interface ZeroShotColumnResult extends ZeroShotColumn {
  /** The run's task id in the pool (`name@version`). */
  task_id: string;
  run_id: string;
  /** Figure per scorer (`top1`, `recall@5`, …), each with its 95% interval. */
  figures: Record<string, ZeroShotFigure>;
}

/** What {@link evaluateZeroShot} returns. */
export interface ZeroShotResult {
  task: string;
  type: ZeroShotTask['type'];
  model: string;
  /** Items evaluated. */
  items: number;
  columns: ZeroShotColumnResult[];
  /** True when every run was already stored (no request made). */
  resumed: boolean;
  /** Embedding requests made, inputs sent and inputs answered from the in-memory cache (this call's embedder). */
  embeddings: { requests: number; sent: number; cached: number; dims: number | null; reported_model_ids: string[] };
}

const CONFIG = GenerationConfigSchema.parse({});

/** The run spec of one column of a task on a model (hashed into the run id). */
function columnSpec(task: ZeroShotTask, col: ZeroShotColumn, model: string, imageRequest: string): RunSpec {
  return {
    dataset: {
      ref: (task.source ?? `inline:${task.name}`) + (task.subset ? `#subset=${JSON.stringify(task.subset)}` : ''), name: task.subset ? `${task.name}~subset` : task.name, hash: task.dataHash, path: task.source ?? null,
      size: task.items.length, limit: null,
    },
    template: { name: `zeroshot:${task.templates.name}`, hash: hashJson(task.templates.prompts) },
    model,
    config: CONFIG,
    epochs: 1,
    scorers: col.scorers.map((name) => ({ name, options: {} })),
    task: { name: col.name, version: task.version, hash: task.hash },
    solver: [{ name: `zeroshot_${col.direction === 'classify' ? 'classification' : 'retrieval'}`, options: { direction: col.direction, ...(task.modality !== 'text' ? { image_request: imageRequest } : {}) } }],
  };
}

function manifestOf(spec: RunSpec, e: Pick<Embedder, 'address' | 'baseUrl' | 'model'>, o: ZeroShotOptions): Manifest {
  const cpus = os.cpus();
  return {
    toolkit: toolkitInfo(), node: process.version, os: { platform: os.platform(), release: os.release(), arch: os.arch() },
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    provider: { address: e.address, kind: 'openai-compatible-embeddings', base_url: e.baseUrl, requested_model: e.model, reported_model_ids: [] },
    generation_config: spec.config, template: spec.template,
    dataset: { name: spec.dataset.name, ref: spec.dataset.ref, hash: spec.dataset.hash, size: spec.dataset.size },
    epochs: 1, seeds: { generation: null, bootstrap: 0, reference: null },
    // text→item values are shares of an item's texts (proportions); every other value is 0/1.
    scorers: spec.scorers.map((s) => ({ name: s.name, options: {}, metric: spec.solver?.[0]?.options.direction === 'text-to-item' ? { kind: 'proportion' as const } : { kind: 'binary' as const } })),
    runner: { concurrency: o.concurrency ?? 4, timeout_ms: o.timeoutMs ?? 120_000, max_retries: o.maxRetries ?? 4 },
    created_at: new Date().toISOString(),
  };
}

/** The planned sample of an item (what the pool records: never an image's bytes). */
function sampleOf(task: ZeroShotTask, i: number): Sample {
  const it = task.items[i]!;
  return {
    id: it.id, input: it.ref,
    target: task.type === 'classification' ? task.classes[it.label!]! : it.texts!.join('\n'),
    metadata: { ...it.metadata, ...(it.texts ? { texts: it.texts.length } : {}) },
  };
}

const KS: Record<string, number> = { top1: 1, top5: 5, 'recall@1': 1, 'recall@5': 5, 'recall@10': 10 };

/**
 * Evaluate an embedding model zero-shot on a task: classification (top-1/top-5 accuracy) or retrieval
 * (recall@1/5/10 both ways), every figure with its 95% interval (src/stats/zeroshot.ts), each column recorded as an
 * ordinary run in the pool.
 * @param task a task value, a definition's result, or the path of a task file
 * @param model an embeddings endpoint: `openai-compatible:<base-url>#<model>` or `openai:<model>`
 * @returns per column its run id and figures; the embedding traffic
 * @throws InputError for a bad task, address or option (before any request); EmbeddingError naming the field for an
 *   endpoint that fails after retries or answers malformed, miscounted or unequal-length embeddings (nothing of the
 *   task is stored then)
 */
export async function evaluateZeroShot(task: ZeroShotTask | string, model: string, opts: ZeroShotOptions = {}): Promise<ZeroShotResult> {
  const t = typeof task === 'string' ? readZeroShotFile(task) : task;
  if (!isZeroShotTask(t)) throw new InputError('evaluateZeroShot needs a zero-shot task (defineZeroShotTask or a task file)', { field: 'task' });
  const embedder = opts.embedder ?? createEmbedder(model, opts);
  if (opts.embedder && opts.embedder.address !== model) throw new InputError(`the embedder is for ${opts.embedder.address}, not ${model}`, { field: 'model' });
  const pool = opts.pool ?? (await openPool('memory:'));
  const before = { ...embedder.stats };
  try {
    const cols = zeroShotColumns(t).map((c) => {
      const spec = columnSpec(t, c, model, embedder.settings.imageRequest);
      return { col: c, spec, id: runIdOf(spec) };
    });
    const done = async (id: string) => {
      const run = await pool.getRun(id);
      if (!run) return false;
      const c = await pool.counts(id);
      return c.ok === t.items.length;
    };
    let resumed = true;
    for (const c of cols) if (!(await done(c.id))) resumed = false;
    if (!resumed) {
      let perItem: Outcomes;
      try {
        perItem = await computeOutcomes(t, embedder, opts.signal);
      } catch (err) {
        if (opts.signal?.aborted) throw new RunError(`stopped while embedding ${t.name}: nothing of it was stored; run the same command again`);
        throw err;
      }
      for (const c of cols) {
        if (await done(c.id)) continue;
        await recordColumn(pool, t, c, embedder, perItem, opts);
      }
      await pool.putModel({ address: model, kind: 'openai-compatible-embeddings', reported_model_ids: [...embedder.reportedModelIds], system_fingerprints: [], metadata: { embedding_dims: embedder.dims } });
    }
    const now = new Date().toISOString();
    for (const c of cols) {
      await pool.putTask({ id: `${c.col.name}@${t.version}`, name: c.col.name, version: t.version, hash: t.hash, created_at: now, definition: { kind: `zeroshot-${t.type}`, name: t.name, version: t.version, classes: t.classes, templates: t.templates, direction: c.col.direction, data_hash: t.dataHash, source: t.source ?? null, subset: t.subset ?? null } });
    }
    const columns: ZeroShotColumnResult[] = [];
    for (const c of cols) columns.push({ ...c.col, task_id: `${c.col.name}@${t.version}`, run_id: c.id, figures: await zeroShotFigures(pool, c.id) });
    const s = embedder.stats;
    return {
      task: t.name, type: t.type, model, items: t.items.length, columns, resumed,
      embeddings: { requests: s.requests - before.requests, sent: s.sent - before.sent, cached: s.cached - before.cached, dims: embedder.dims, reported_model_ids: [...embedder.reportedModelIds] },
    };
  } finally {
    if (!opts.embedder) await embedder.close();
    if (!opts.pool) await pool.close();
  }
}

/** Per-item outcomes of a task, by direction: ranks (and the top classes / items for the stored response). */
interface Outcomes {
  classify?: { rank: number; top: string[] }[];
  /** Per item: the rank of the item for each of its texts. */
  textToItem?: number[][];
  /** Per item: the best rank of its texts, and the most similar text. */
  itemToText?: number[];
}

async function computeOutcomes(t: ZeroShotTask, e: Embedder, signal?: AbortSignal): Promise<Outcomes> {
  const items = t.items.map((i) => i.input);
  if (t.type === 'classification') {
    const prompts: EmbedInput[] = t.classes.flatMap((c) => t.templates.prompts.map((p) => ({ text: p.replaceAll('{}', c) })));
    const all = await e.embed([...prompts, ...items], signal);
    const P = t.templates.prompts.length;
    const protos = classPrototypes(t.classes.map((_, c) => all.slice(c * P, (c + 1) * P)));
    const out = classify(all.slice(prompts.length), protos, t.items.map((i) => i.label!), 5);
    return { classify: out.map((o) => ({ rank: o.rank, top: o.top.map((c) => t.classes[c]!) })) };
  }
  const texts: EmbedInput[] = [];
  const owner: number[] = [];
  t.items.forEach((it, i) => it.texts!.forEach((x) => {
    texts.push({ text: x });
    owner.push(i);
  }));
  const all = await e.embed([...items, ...texts], signal);
  const r = retrieve(all.slice(0, items.length), all.slice(items.length), owner);
  const textToItem: number[][] = t.items.map(() => []);
  r.textRank.forEach((rank, x) => textToItem[owner[x]!]!.push(rank));
  return { textToItem, itemToText: r.itemRank };
}

async function recordColumn(pool: Pool, t: ZeroShotTask, c: { col: ZeroShotColumn; spec: RunSpec; id: string }, e: Embedder, o: Outcomes, opts: ZeroShotOptions): Promise<void> {
  const now = new Date().toISOString();
  const run: RunRecord = { id: c.id, spec: c.spec, manifest: manifestOf(c.spec, e, opts), status: 'running', created_at: now, updated_at: now };
  const samples = t.items.map((_, i) => sampleOf(t, i));
  await pool.ensureRun(run, planIter(samples, (s) => [{ role: 'user', content: s.input as string }]));
  const held = await takeRunLease(pool, c.id, { ttlMs: opts.lease?.ttlMs, onWait: opts.lease?.onWait, signal: opts.signal });
  if (!held) return;
  try {
    const modelId = [...e.reportedModelIds][0] ?? null;
    for (const [i, it] of t.items.entries()) {
      let response: string;
      let meta: Record<string, unknown>;
      let values: number[];
      let extracted: string[];
      if (c.col.direction === 'classify') {
        const r = o.classify![i]!;
        response = r.top[0]!;
        meta = { rank: r.rank, top: r.top };
        values = c.col.scorers.map((s) => (r.rank <= KS[s]! ? 1 : 0));
        extracted = c.col.scorers.map(() => `rank ${r.rank}`);
      } else if (c.col.direction === 'text-to-item') {
        const ranks = o.textToItem![i]!;
        response = ranks.join(' ');
        meta = { ranks };
        values = c.col.scorers.map((s) => hitsAt(ranks, KS[s]!).reduce((a, b) => a + b, 0) / ranks.length);
        extracted = c.col.scorers.map((s) => `${hitsAt(ranks, KS[s]!).reduce((a, b) => a + b, 0)}/${ranks.length}`);
      } else {
        const rank = o.itemToText![i]!;
        response = String(rank);
        meta = { rank };
        values = c.col.scorers.map((s) => (rank <= KS[s]! ? 1 : 0));
        extracted = c.col.scorers.map(() => `rank ${rank}`);
      }
      const attempt: Attempt = {
        run_id: c.id, sample_id: it.id, epoch: 0, status: 'ok', response, finish_reason: 'stop', prompt_tokens: null, completion_tokens: null,
        latency_ms: 0, tries: 1, error: null, model_id: modelId, cache_key: hashJson({ model: e.address, input: sha256(it.ref), task: t.hash, direction: c.col.direction }),
        cached: false, meta, transcript: null,
      };
      const measurements: Measurement[] = c.col.scorers.map((s, j) => ({
        run_id: c.id, sample_id: it.id, epoch: 0, scorer: s, kind: c.col.direction === 'text-to-item' ? 'numeric' : 'binary', value: values[j]!,
        extracted: extracted[j]!, explanation: null, status: 'ok',
      }));
      await pool.write(attempt, measurements);
    }
    await pool.flush();
    await pool.updateManifest(c.id, (m) => {
      m.provider.reported_model_ids = [...new Set([...m.provider.reported_model_ids, ...e.reportedModelIds])].sort();
      return m;
    });
    await pool.setRunStatus(c.id, 'complete');
  } finally {
    await held.release();
  }
}

/**
 * The figures of a zero-shot run read back from the pool: per scorer, the proportion with its 95% interval —
 * Wilson on the items for `top1`, `top5` and item→text `recall@k`; the clustered score interval over items for
 * text→item `recall@k` (the texts of an item are a cluster; ranks are read from each attempt's `meta.ranks`) — and,
 * for classification, the mean per-class accuracy of each (`top1_mean_per_class`, `top5_mean_per_class`: the classes
 * are the planned samples' targets; src/stats/zeroshot.ts `meanPerClassFigure`).
 * @throws InputError for an unknown run or one that is not a zero-shot run, or a run without any stored item
 */
export async function zeroShotFigures(pool: Pool, runId: string): Promise<Record<string, ZeroShotFigure>> {
  const run = await pool.getRun(runId);
  if (!run) throw new InputError(`no run "${runId}" in the pool`);
  const solver = run.spec.solver?.[0];
  if (!solver?.name.startsWith('zeroshot_')) throw new InputError(`run ${runId} is not a zero-shot run`);
  const direction = solver.options.direction as ZeroShotColumn['direction'];
  // Classification: each item's class is its planned sample's target (the class name).
  const classOf = new Map<string, string>();
  if (direction === 'classify') for await (const p of pool.iteratePlanned(runId)) classOf.set(p.sample.id, String(p.sample.target));
  const ranks: number[][] = [];
  const labels: string[] = [];
  for await (const a of pool.iterateAttempts(runId)) {
    if (a.status !== 'ok' || !a.meta) continue;
    ranks.push(direction === 'text-to-item' ? (a.meta.ranks as number[]) : [a.meta.rank as number]);
    labels.push(classOf.get(a.sample_id) ?? '');
  }
  if (!ranks.length) throw new InputError(`run ${runId} has no stored item`);
  const out: Record<string, ZeroShotFigure> = {};
  for (const s of run.spec.scorers) {
    const k = KS[s.name];
    if (!k) continue;
    out[s.name] = direction === 'text-to-item' ? clusteredFigure(ranks.map((r) => hitsAt(r, k))) : proportionFigure(ranks.map((r) => (r[0]! <= k ? 1 : 0)));
  }
  if (direction === 'classify') {
    for (const s of run.spec.scorers) {
      const k = KS[s.name];
      if (k) out[`${s.name}_mean_per_class`] = meanPerClassFigure(ranks.map((r) => (r[0]! <= k ? 1 : 0)), labels);
    }
  }
  return out;
}

/**
 * Core schemas (zod) and types shared by every stage of Assay's data flow:
 * dataset → plan → runner → provider → attempt → scorer → measurement → pool → statistics.
 *
 * Words follow DESIGN.md §2: a *sample* is one evaluation instance, an *epoch* is the k-th independent
 * attempt at a sample, an *attempt* is one model call, a *measurement* is a scorer's verdict on an attempt.
 */
import { z } from 'zod';
import { IMAGE_MIME_TYPES, type DatasetImages, type ImageBlob } from './images.ts';

/**
 * An image in a message, named by the sha256 (lower-case hex) of its bytes and typed by them (PNG, JPEG, WebP). The
 * bytes are never in the message: the pool stores each image once (`Pool.putImage`) and providers get the bytes
 * of a hash when they build a request (`GenerateRequest.images`). Read images with `loadImage` (core/images.ts) and
 * make parts with `imagePart`.
 */
export const ImagePartSchema = z.object({
  type: z.literal('image'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lower-case hex digits'),
  mime_type: z.enum(IMAGE_MIME_TYPES),
});
export type ImagePart = z.infer<typeof ImagePartSchema>;

/**
 * One typed part of a message's content: text, or an image (by hash). Further kinds are added here as new members
 * of the union, so every stage that reads content parts learns of them from the type checker.
 */
export const ContentPartSchema = z.discriminatedUnion('type', [z.object({ type: z.literal('text'), text: z.string() }), ImagePartSchema]);
export type ContentPart = z.infer<typeof ContentPartSchema>;

/** One chat message. `content` is plain text or a list of typed content parts. */
export const MessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.union([z.string(), z.array(ContentPartSchema)]),
});
export type Message = z.infer<typeof MessageSchema>;

/** The text of a message: its string content, or its text parts joined by blank lines (image parts are left out). */
export function messageText(m: Pick<Message, 'content'>): string {
  if (typeof m.content === 'string') return m.content;
  return m.content.filter((p): p is Extract<ContentPart, { type: 'text' }> => p.type === 'text').map((p) => p.text).join('\n\n');
}

/** The image part naming `blob` (its hash and type; the bytes stay with the blob). */
export function imagePart(blob: Pick<ImageBlob, 'sha256' | 'mime_type'>): ImagePart {
  return { type: 'image', sha256: blob.sha256, mime_type: blob.mime_type };
}

/** The image parts of a message, in order (none for string content). */
export function messageImages(m: Pick<Message, 'content'>): ImagePart[] {
  if (typeof m.content === 'string') return [];
  return m.content.filter((p): p is ImagePart => p.type === 'image');
}

/** True when any message has an image part. Cheap for text: string contents are skipped at once. */
export function hasImageParts(messages: readonly Pick<Message, 'content'>[]): boolean {
  for (const m of messages) if (typeof m.content !== 'string' && m.content.some((p) => p.type === 'image')) return true;
  return false;
}

/**
 * One evaluation instance.
 * - `id`: stable identifier within its dataset (string, even when the source stores an int).
 * - `input`: the question text, or a full message list.
 * - `target`: the gold answer exactly as the dataset stores it, as a string (AMC's float `27.0` becomes `"27"`, the raw value kept in metadata.raw_answer).
 * - `choices`: options for multiple-choice samples (letters A, B, … in order).
 * - `metadata`: source, category, difficulty, tags, anything else of the source row worth keeping.
 */
export const SampleSchema = z.object({
  id: z.string().min(1),
  input: z.union([z.string(), z.array(MessageSchema).min(1)]),
  target: z.string(),
  choices: z.array(z.string()).optional(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type Sample = z.infer<typeof SampleSchema>;

/**
 * Generation config: everything sent to the model that changes its output.
 * Units: `max_tokens` in tokens of the model's tokenizer; `temperature`, `top_p` as in the OpenAI API.
 * `seed` is the base seed; the runner derives a per-epoch seed `seed + epoch` when a seed is given.
 */
export const GenerationConfigSchema = z.object({
  temperature: z.number().min(0).max(5).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().positive().optional(),
  max_tokens: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).optional(),
  system_prompt: z.string().optional(),
  /** Whether the server applies its chat template (chat completions) — recorded, not toggled, for HTTP chat APIs. */
  chat_template: z.boolean().default(true),
});
export type GenerationConfig = z.infer<typeof GenerationConfigSchema>;

/** Why a generation ended. `length` = truncated at max_tokens; `error` = no usable response. */
export const FinishReasonSchema = z.enum(['stop', 'length', 'content_filter', 'tool_calls', 'error', 'unknown']);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

/** Token usage as reported by the provider (may be absent). */
export const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative().nullable(),
  completion_tokens: z.number().int().nonnegative().nullable(),
});
export type Usage = z.infer<typeof UsageSchema>;

/**
 * One model call for (run, sample, epoch). `status: 'error'` attempts are recorded failures (after retries):
 * they keep the error text and are retried when the run is resumed.
 */
export const AttemptSchema = z.object({
  run_id: z.string(),
  sample_id: z.string(),
  epoch: z.number().int().nonnegative(),
  status: z.enum(['ok', 'error']),
  response: z.string().nullable(),
  finish_reason: FinishReasonSchema,
  prompt_tokens: z.number().int().nullable(),
  completion_tokens: z.number().int().nullable(),
  /** Wall-clock latency of the successful call in milliseconds (0 when served from the cache). */
  latency_ms: z.number().nonnegative(),
  /** Number of tries the runner made (1 = first try succeeded). */
  tries: z.number().int().positive(),
  error: z.string().nullable(),
  /** The model id the server reported in its response. */
  model_id: z.string().nullable(),
  /** Content-addressed cache key of the request (includes the epoch). */
  cache_key: z.string(),
  cached: z.boolean(),
  /** Provider-specific extras, e.g. a replayed record's published verdict. JSON-serialisable. */
  meta: z.record(z.string(), z.unknown()).nullable(),
  /**
   * The whole conversation of a solver that made more than one model call (every turn, in order, the final
   * assistant message included); null for a single generation, whose prompt is the planned messages and whose
   * reply is `response`.
   */
  transcript: z.array(MessageSchema).nullable().optional(),
});
export type Attempt = z.infer<typeof AttemptSchema>;

/** Kinds of measurement (ONEBench): binary 0/1, numeric (with direction), ordinal, preference. */
export const MeasurementKindSchema = z.enum(['binary', 'numeric', 'ordinal', 'preference']);
export type MeasurementKind = z.infer<typeof MeasurementKindSchema>;

/**
 * The scale and direction of a scorer's values, which every analysis reads (stats, compare, eval tables, rank):
 * - `binary`: 0/1 verdicts, shown as a percentage (accuracy);
 * - `proportion`: values in [0, 1] (partial credit), shown as a percentage;
 * - `numeric`: unbounded numbers in `unit` (e.g. `bits/byte`), `higher_is_better` true, false, or null when unknown
 *   (then no analysis calls one model better). Shown as numbers in their unit, never as percentages, never clamped.
 * Recorded per scorer in the run manifest (`manifest.scorers[].metric`); runs made before it was recorded get it
 * inferred (src/analyses/metric.ts).
 */
export const MetricSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('binary') }),
  z.object({ kind: z.literal('proportion') }),
  z.object({ kind: z.literal('numeric'), unit: z.string(), higher_is_better: z.boolean().nullable() }),
]);
export type Metric = z.infer<typeof MetricSchema>;
/** A metric as an analysis read it: from the run manifest, from the scorer's declaration (older runs), or inferred from the values. */
export type MetricInfo = Metric & { source: 'manifest' | 'scorer' | 'inferred' };

/**
 * A scorer's verdict on an attempt.
 * - `value`: 0/1 for binary; null when the grader could not decide (`status` says why).
 * - `extracted`: the answer the scorer extracted from the response (null if none found).
 * - `status`: `ok`, `no_answer` (nothing extractable: value 0), `grader_timeout`, `grader_error`, `attempt_error`
 *   (the model call failed: value null, excluded from accuracy and counted as failed).
 */
export const MeasurementSchema = z.object({
  run_id: z.string(),
  sample_id: z.string(),
  epoch: z.number().int().nonnegative(),
  scorer: z.string(),
  kind: MeasurementKindSchema,
  value: z.number().nullable(),
  extracted: z.string().nullable(),
  explanation: z.string().nullable(),
  status: z.enum(['ok', 'no_answer', 'grader_timeout', 'grader_error', 'attempt_error']),
});
export type Measurement = z.infer<typeof MeasurementSchema>;

/** What a run evaluates: everything that defines the plan and its output (hashed into the run id). */
export const RunSpecSchema = z.object({
  dataset: z.object({
    /** As given by the user, e.g. `gsm8k:path/to/test.jsonl` or `gsm8k`. */
    ref: z.string(),
    name: z.string(),
    /** sha256 of the dataset file bytes (or of the generator parameters). */
    hash: z.string(),
    path: z.string().nullable(),
    size: z.number().int().nonnegative(),
    /** Optional subset: first `limit` samples. */
    limit: z.number().int().positive().nullable(),
  }),
  template: z.object({ name: z.string(), hash: z.string() }),
  model: z.string(),
  config: GenerationConfigSchema,
  epochs: z.number().int().positive(),
  scorers: z.array(z.object({ name: z.string(), options: z.record(z.string(), z.unknown()).default({}) })),
  /**
   * The task this run evaluates (name, version and the hash of its whole definition: few-shot settings, solver,
   * stop sequences, metrics). Absent for a plain dataset run with the default solver, so runs made before tasks
   * existed keep their ids.
   */
  task: z.object({ name: z.string(), version: z.string(), hash: z.string() }).optional(),
  /** The solver's registry spec when it is not the default single `generate`. */
  solver: z.array(z.object({ name: z.string(), options: z.record(z.string(), z.unknown()).default({}) })).optional(),
  /** A label that separates this run from an otherwise identical one (`--new-run`), e.g. after a server changed. */
  label: z.string().optional(),
  /**
   * The images the run's samples send (absent for a text run, so text runs keep their ids): how many distinct ones
   * and the sha256 of their sorted hashes (one per line), so the run id covers every image's bytes.
   */
  images: z.object({ count: z.number().int().positive(), sha256: z.string() }).optional(),
});
export type RunSpec = z.infer<typeof RunSpecSchema>;

/** Reproducibility manifest (DESIGN.md §5): everything needed to reproduce or diff a run. */
export const ManifestSchema = z.object({
  toolkit: z.object({ name: z.literal('assay'), version: z.string(), git_commit: z.string().nullable() }),
  node: z.string(),
  os: z.object({ platform: z.string(), release: z.string(), arch: z.string() }),
  cpu: z.object({ model: z.string(), cores: z.number().int() }),
  provider: z.object({
    address: z.string(),
    kind: z.string(),
    base_url: z.string().nullable(),
    requested_model: z.string().nullable(),
    /** Model ids the server reported (normally one). Filled as responses arrive. */
    reported_model_ids: z.array(z.string()),
    /** `system_fingerprint`s the server reported (OpenAI-compatible servers), filled as responses arrive. */
    system_fingerprints: z.array(z.string()).optional(),
    /** What the server says about itself in its response headers (e.g. `server`, `x-vllm-version`). */
    server: z.record(z.string(), z.string()).optional(),
    /**
     * Settings of the generation config this provider could not send (e.g. `seed` on Anthropic, `top_k` on OpenAI):
     * warned about when the run starts and recorded here; they were never used, whatever the config says.
     */
    unsent_settings: z.array(z.object({ setting: z.string(), value: z.unknown(), reason: z.string() })).optional(),
  }),
  generation_config: GenerationConfigSchema,
  template: z.object({ name: z.string(), hash: z.string() }),
  dataset: z.object({ name: z.string(), ref: z.string(), hash: z.string(), size: z.number().int() }),
  epochs: z.number().int().positive(),
  seeds: z.object({ generation: z.number().int().nullable(), bootstrap: z.number().int(), reference: z.number().int().nullable() }),
  /** `metric`: the scale and direction of the scorer's values (absent in runs made before it was recorded). */
  scorers: z.array(z.object({ name: z.string(), options: z.record(z.string(), z.unknown()), metric: MetricSchema.optional() })),
  runner: z.object({ concurrency: z.number().int(), timeout_ms: z.number().int(), max_retries: z.number().int() }),
  created_at: z.string(),
  /** What scorers learned while grading (e.g. a judge's reported model ids), by scorer name; filled after grading. */
  scorer_reports: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  /**
   * Keys that signed the run's evidence chain (src/evidence/): Ed25519, `key_id` the first 16 hex digits of the
   * sha256 of the raw public key, `public_key` SPKI DER in base64. Absent when the run was never signed.
   */
  signing_keys: z.array(z.object({ algorithm: z.literal('ed25519'), key_id: z.string(), public_key: z.string() })).optional(),
  /**
   * What the run did with images (absent for a dataset without any):
   * - `multimodal`: `count` distinct images sent (`bytes` in all, `sha256` as in the run spec), each stored once in
   *   the pool's image store; `provider` says whether the provider sent them (`sent`) or answers without them
   *   (`ignored`: a replayed or synthetic model);
   * - `text-only`: the dataset was read with `--text-only`: `dropped` samples had an image that was not sent (they
   *   were answered from their text alone, as before images were supported).
   */
  images: z
    .object({
      mode: z.enum(['multimodal', 'text-only']),
      count: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative().optional(),
      sha256: z.string().optional(),
      provider: z.enum(['sent', 'ignored']).optional(),
      dropped: z.number().int().nonnegative().optional(),
    })
    .optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/**
 * A run as stored in the pool. `status`: running → complete | interrupted | failed; a run planned and put on a work
 * queue for `assay worker` processes (`assay run --queue`, src/queue/) is `queued` until a worker finds it complete
 * or failed (`assay queue status` shows its progress).
 */
export interface RunRecord {
  id: string;
  spec: RunSpec;
  manifest: Manifest;
  status: 'running' | 'queued' | 'complete' | 'interrupted' | 'failed';
  created_at: string;
  updated_at: string;
}

/** A sample as planned in a run: the sample plus the hashes the manifest records for it. */
export interface PlannedSample {
  sample: Sample;
  /** Position in the dataset (0-based). */
  index: number;
  /** sha256 of the rendered prompt messages. */
  prompt_hash: string;
  /** sha256 of the target string. */
  target_hash: string;
  /** sha256 of input + target (DESIGN.md: a sample's contentHash). */
  content_hash: string;
  messages: Message[];
}

/** A dataset as a run needs it (what `loadDataset` returns, or a task's inline samples). `hash`: sha256 of its content. */
export interface RunDataset {
  ref: string;
  name: string;
  path: string | null;
  hash: string;
  samples: Sample[];
  /** The bytes of the images its samples' image parts name, by sha256 (absent or empty for a text dataset). */
  images?: DatasetImages;
  /** Set when the dataset was read with `textOnly`: how many samples had an image that is not sent. */
  textOnly?: { dropped: number };
}

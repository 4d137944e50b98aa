/**
 * Replay provider: serves the recorded responses of a real model, so published outputs can be re-graded with
 * Assay's scorers and statistics without calling any model. Address: `replay:<file>[#<system>]`.
 *
 * Formats, detected from the first non-blank row:
 * - generic JSONL `{id, response, epoch?, correct?, pred?}`: epoch defaults to 0; several rows per id give
 *   several epochs; matched by sample id.
 * - GSM8K `model_solutions.jsonl` (`question`, `ground_truth`, and per system `{is_correct, solution}` for
 *   `6b_finetuning`, `6b_verification`, `175b_finetuning`, `175b_verification`): `#system` is required;
 *   matched by question text; epoch 0 only.
 * - Qwen2.5-Math / ToRA outputs (`question`, `idx`, `code: string[]`, `pred: string[]`, optional `score: bool[]`):
 *   epoch e serves `code[e]`; matched by question text, else by `idx` equal to the sample id.
 *
 * Question text is compared after whitespace normalisation (runs of whitespace → one space, trimmed); a sample
 * whose input is a message list is matched on its last user message.
 */
import { basename } from 'node:path';
import { InputError } from '../core/errors.ts';
import { messageText, type Sample } from '../core/schemas.ts';
import { describe, parseJsonObject, scanLines } from '../datasets/lines.ts';
import { GENERATION_SETTINGS } from './settings.ts';
import { ProviderError, type GenerateRequest, type GenerateResponse, type Provider, type ProviderCapabilities } from './types.ts';

/**
 * What a replay provider does with a generation config: nothing. A recorded response is what the model wrote when
 * it was recorded, so no setting (temperature, seed, max_tokens, …) can change it; each one a config gives is
 * listed by `unsentSettings` with that reason.
 */
export const REPLAY_CAPABILITIES: ProviderCapabilities = {
  remote: false,
  settings: Object.fromEntries(GENERATION_SETTINGS.map((s) => [s, 'ignored'])) as ProviderCapabilities['settings'],
  reasons: Object.fromEntries(
    GENERATION_SETTINGS.map((s) => [s, `a recorded response cannot honour ${s}: replay serves what the model wrote when it was recorded, under the settings of that time`]),
  ),
  images: 'ignored',
  imagesReason: 'replay serves recorded responses: whether the recorded model saw the images is up to the recording',
};

/** The four systems recorded in GSM8K's `example_model_solutions.jsonl`. */
export const GSM8K_SYSTEMS = ['6b_finetuning', '6b_verification', '175b_finetuning', '175b_verification'] as const;

/** Which recorded-output layout a replay file uses. */
export type ReplayFormat = 'generic' | 'gsm8k-solutions' | 'qwen-tora';

interface Recorded {
  text: string;
  correct?: boolean;
  pred?: string;
}

/** One recorded problem: its responses by epoch (sparse for generic files). */
interface Entry {
  line: number;
  idx: string | null;
  epochs: Map<number, Recorded>;
}

/** Collapse whitespace runs to one space and trim: the key for question-text matching. */
export function normalizeQuestion(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function sampleQuestion(sample: Sample): string | null {
  if (typeof sample.input === 'string') return normalizeQuestion(sample.input);
  for (let i = sample.input.length - 1; i >= 0; i--) {
    const m = sample.input[i]!;
    if (m.role === 'user') return normalizeQuestion(messageText(m));
  }
  return null;
}

/** Detect the format of a replay file from its first row; null when unrecognised. */
export function detectReplayFormat(row: Record<string, unknown>): ReplayFormat | null {
  if ('ground_truth' in row && GSM8K_SYSTEMS.some((s) => s in row)) return 'gsm8k-solutions';
  if ('question' in row && Array.isArray(row.code)) return 'qwen-tora';
  if ('id' in row && 'response' in row) return 'generic';
  return null;
}

function idString(v: unknown, file: string, line: number, field: string): string {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new InputError(`expected a non-empty string or number id, got ${describe(v)}`, { file, line, field });
}

function str(row: Record<string, unknown>, key: string, file: string, line: number): string {
  const v = row[key];
  if (typeof v !== 'string') {
    throw new InputError(v === undefined ? 'missing field' : `wrong type: expected a string, got ${describe(v)}`, { file, line, field: key });
  }
  return v;
}

function optionalBool(v: unknown, file: string, line: number, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  throw new InputError(`wrong type: expected a boolean, got ${describe(v)}`, { file, line, field });
}

function optionalPred(v: unknown, file: string, line: number, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new InputError(`wrong type: expected a string, got ${describe(v)}`, { file, line, field });
}

/** The loaded contents of a replay file. */
interface ReplayIndex {
  format: ReplayFormat;
  byQuestion: Map<string, Entry[]>;
  byId: Map<string, Entry>;
}

async function loadReplayFile(file: string, system: string | null): Promise<ReplayIndex> {
  let format: ReplayFormat | null = null;
  const byQuestion = new Map<string, Entry[]>();
  const byId = new Map<string, Entry>();
  const genericSeen = new Map<string, number>();

  const addQuestion = (q: string, entry: Entry): void => {
    const key = normalizeQuestion(q);
    const list = byQuestion.get(key);
    if (list) list.push(entry);
    else byQuestion.set(key, [entry]);
  };

  const onRow = (row: Record<string, unknown>, line: number): void => {
    if (format === null) {
      format = detectReplayFormat(row);
      if (format === null) {
        throw new InputError(
          `unrecognised replay format (keys: ${Object.keys(row).slice(0, 12).join(', ')}); expected generic {id, response, epoch?}, ` +
            `GSM8K model_solutions {question, ground_truth, ${GSM8K_SYSTEMS.join(', ')}}, or Qwen2.5-Math/ToRA {question, idx, code[], pred[]}`,
          { file, line },
        );
      }
      if (format === 'gsm8k-solutions' && (system === null || !(GSM8K_SYSTEMS as readonly string[]).includes(system))) {
        throw new InputError(
          `${system === null ? 'no system given' : `unknown system "${system}"`}: GSM8K model_solutions needs replay:<file>#<system>, one of ${GSM8K_SYSTEMS.join(', ')}`,
          { file },
        );
      }
    }
    if (format === 'generic') {
      const id = idString(row.id, file, line, 'id');
      const text = str(row, 'response', file, line);
      const epoch = row.epoch ?? 0;
      if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
        throw new InputError(`epoch must be a non-negative integer, got ${JSON.stringify(epoch)}`, { file, line, field: 'epoch' });
      }
      const key = `${id}\u0000${epoch}`;
      const first = genericSeen.get(key);
      if (first !== undefined) {
        throw new InputError(`duplicate record for id "${id}" epoch ${epoch} (first on line ${first})`, { file, line, field: 'id' });
      }
      genericSeen.set(key, line);
      let entry = byId.get(id);
      if (!entry) byId.set(id, (entry = { line, idx: id, epochs: new Map() }));
      entry.epochs.set(epoch, {
        text,
        correct: optionalBool(row.correct ?? row.is_correct, file, line, 'correct'),
        pred: optionalPred(row.pred, file, line, 'pred'),
      });
    } else if (format === 'gsm8k-solutions') {
      const question = str(row, 'question', file, line);
      const rec = row[system!];
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
        throw new InputError(`expected an object {is_correct, solution}, got ${describe(rec)}`, { file, line, field: system! });
      }
      const r = rec as Record<string, unknown>;
      const text = str(r, 'solution', file, line);
      const entry: Entry = { line, idx: null, epochs: new Map([[0, { text, correct: optionalBool(r.is_correct, file, line, `${system}.is_correct`) }]]) };
      addQuestion(question, entry);
    } else {
      const question = str(row, 'question', file, line);
      const code = row.code;
      if (!Array.isArray(code)) throw new InputError(`wrong type: expected a list of responses, got ${describe(code)}`, { file, line, field: 'code' });
      const pred = row.pred;
      if (pred !== undefined && pred !== null && !Array.isArray(pred)) {
        throw new InputError(`wrong type: expected a list, got ${describe(pred)}`, { file, line, field: 'pred' });
      }
      const score = row.score;
      if (score !== undefined && score !== null && !Array.isArray(score)) {
        throw new InputError(`wrong type: expected a list, got ${describe(score)}`, { file, line, field: 'score' });
      }
      const epochs = new Map<number, Recorded>();
      code.forEach((c, e) => {
        if (typeof c !== 'string') throw new InputError(`wrong type: code[${e}] is ${describe(c)}`, { file, line, field: 'code' });
        epochs.set(e, {
          text: c,
          correct: optionalBool((score as unknown[] | undefined)?.[e], file, line, `score[${e}]`),
          pred: optionalPred((pred as unknown[] | undefined)?.[e], file, line, `pred[${e}]`),
        });
      });
      const idx = row.idx === undefined ? null : idString(row.idx, file, line, 'idx');
      const entry: Entry = { line, idx, epochs };
      addQuestion(question, entry);
      if (idx !== null) {
        const prev = byId.get(idx);
        if (prev) throw new InputError(`duplicate idx "${idx}" (first on line ${prev.line})`, { file, line, field: 'idx' });
        byId.set(idx, entry);
      }
    }
  };

  await scanLines(file, (text, line) => {
    onRow(parseJsonObject(text, file, line), line);
  });
  if (format === null) throw new InputError('no recorded responses (the file is empty)', { file });
  return { format, byQuestion, byId };
}

/**
 * Create a replay provider from `replay:<file>[#<system>]` (the `replay:` prefix is optional here).
 * The file is read once, line by line. `#system` picks the system of a GSM8K model_solutions file (required
 * there); for other formats it only names the model.
 *
 * The provider: kind `replay`, baseUrl null, model = system ?? file basename, capabilities `REPLAY_CAPABILITIES`
 * (not remote; every generation setting ignored).
 * `generate({sample, epoch})` returns `{text, finish_reason:'stop', model_id: model, prompt_tokens:null,
 * completion_tokens:null, meta:{recorded_correct?, recorded_pred?, matched_by}}` (`recorded_correct` from
 * `is_correct` / `correct` or `score[epoch]`, `recorded_pred` from `pred[epoch]`; `matched_by` is `id`, `question`
 * or `idx` — an `idx` match means the question text differed, worth auditing).
 * @throws InputError (file, line, field) for a missing or malformed file, an unrecognised format, a missing or
 *   unknown GSM8K system (the message lists the four), duplicate generic (id, epoch) records.
 * `generate` throws `ProviderError('no recorded response for sample <id> epoch <e> in <file>', {retryable:false})`
 * when nothing was recorded for that (sample, epoch).
 */
export async function createReplayProvider(address: string): Promise<Provider> {
  const spec = address.startsWith('replay:') ? address.slice('replay:'.length) : address;
  const hash = spec.lastIndexOf('#');
  const file = hash === -1 ? spec : spec.slice(0, hash);
  const system = hash === -1 ? null : spec.slice(hash + 1) || null;
  if (file === '') throw new InputError(`replay address "${address}" needs a file: replay:<file>[#<system>]`);
  const index = await loadReplayFile(file, system);
  const model = system ?? basename(file);

  type Match = { entry: Entry; by: 'id' | 'question' | 'idx' };
  const find = (sample: Sample): Match | undefined => {
    const some = (entry: Entry | undefined, by: Match['by']): Match | undefined => (entry ? { entry, by } : undefined);
    if (index.format === 'generic') return some(index.byId.get(sample.id), 'id');
    const q = sampleQuestion(sample);
    const matches = q === null ? undefined : index.byQuestion.get(q);
    if (matches && matches.length > 0) return some(matches.find((m) => m.idx === sample.id) ?? matches[0], 'question');
    return index.format === 'qwen-tora' ? some(index.byId.get(sample.id), 'idx') : undefined;
  };

  return {
    address,
    kind: 'replay',
    baseUrl: null,
    model,
    capabilities: REPLAY_CAPABILITIES,
    async generate(req: GenerateRequest): Promise<GenerateResponse> {
      req.signal?.throwIfAborted();
      const match = find(req.sample);
      const rec = match?.entry.epochs.get(req.epoch);
      if (!match || !rec) {
        throw new ProviderError(`no recorded response for sample ${req.sample.id} epoch ${req.epoch} in ${file}`, { retryable: false });
      }
      const meta: Record<string, unknown> = { matched_by: match.by };
      if (rec.correct !== undefined) meta.recorded_correct = rec.correct;
      if (rec.pred !== undefined) meta.recorded_pred = rec.pred;
      return { text: rec.text, finish_reason: 'stop', model_id: model, prompt_tokens: null, completion_tokens: null, meta };
    },
    async close(): Promise<void> {
      index.byId.clear();
      index.byQuestion.clear();
    },
  };
}

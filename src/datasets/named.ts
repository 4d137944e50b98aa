/**
 * Named datasets: how each public benchmark file maps onto Samples (following the quirks documented in
 * shared/data/README.md), and where its pinned public copy lives.
 */
import { InputError } from '../core/errors.ts';
import type { Sample } from '../core/schemas.ts';
import type { RowMapper } from './files.ts';
import { rowToSample, scalarString } from './rows.ts';

/** A named dataset: its row mapper, defaults for scoring and prompting, and its pinned source (if any). */
export interface NamedDataset {
  name: string;
  description: string;
  /** Pinned public URL (a commit, never a branch) and the sha256 of its bytes; null when there is none. */
  source: { url: string; sha256: string } | null;
  /** Why there is no source (shown to the user when they give no path). */
  noSourceHint?: string;
  defaultScorer: 'gsm8k' | 'math' | 'choice' | 'exact';
  defaultTemplate: 'plain' | 'math-boxed';
  /** Column holding the id, for error messages. */
  idField: string;
  /** Builds the row mapper for one file. */
  mapper(file: string): RowMapper;
}

const QWEN_EVAL = 'https://raw.githubusercontent.com/QwenLM/Qwen2.5-Math/a45202bd16f1ec06f433442dc1152d0074773465/evaluation/data';

/**
 * Build a Sample from named columns. Other columns go to metadata; `drop` columns are left out
 * (e.g. AIME24's `question`, identical to `problem` in every row, is dropped only when equal).
 */
function mapColumns(cols: { id: string; input: string; target: string }, file: string, dropIfEqualToInput: string[] = []): RowMapper {
  return (row, line) => {
    const copy: Record<string, unknown> = { ...row };
    for (const k of dropIfEqualToInput) if (copy[k] === row[cols.input]) delete copy[k];
    const sample = rowToSample(copy, { ...cols, choices: null, image: null }, file, line);
    // a graded benchmark: every row needs its answer (an empty one would score the model a silent 0)
    if (sample.target.trim() === '') throw new InputError('empty', { file, line, field: cols.target });
    return sample;
  };
}

/** GSM8K: `{question, answer}`, final answer after `#### `; id = 0-based row index (as ToRA's `idx`). */
function gsm8kMapper(file: string): RowMapper {
  return (row, line, index): Sample => {
    const question = scalarString(row, 'question', file, line);
    const answer = scalarString(row, 'answer', file, line);
    const at = answer.lastIndexOf('####');
    if (at === -1) throw new InputError('no "####" final-answer marker in answer', { file, line, field: 'answer' });
    const target = answer.slice(at + 4).trim();
    if (target === '') throw new InputError('empty final answer after "####"', { file, line, field: 'answer' });
    const metadata: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) if (k !== 'question' && k !== 'answer') metadata[k] = v;
    metadata.solution = answer;
    return { id: String(index), input: question, target, metadata };
  };
}

const NAMED: NamedDataset[] = [
  {
    name: 'gsm8k',
    description: 'GSM8K test split (1319 grade-school math word problems); target = text after "#### " (thousands separators kept)',
    source: {
      url: 'https://raw.githubusercontent.com/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/test.jsonl',
      sha256: '3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14',
    },
    defaultScorer: 'gsm8k',
    defaultTemplate: 'plain',
    idField: 'id',
    mapper: gsm8kMapper,
  },
  {
    name: 'math500',
    description: 'MATH-500 (PRM800K subset of MATH test, 500 problems); LaTeX answers; id = unique_id',
    source: {
      url: 'https://raw.githubusercontent.com/hkust-nlp/simpleRL-reason/cf1c7858bfc145a27aa733e75d930d34f0d318a6/examples/simplelr_math_eval/data/math500/test.jsonl',
      sha256: '35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132',
    },
    defaultScorer: 'math',
    defaultTemplate: 'math-boxed',
    idField: 'unique_id',
    mapper: (file) => mapColumns({ id: 'unique_id', input: 'problem', target: 'answer' }, file),
  },
  {
    name: 'aime24',
    description: 'AIME 2024 I+II (30 problems); answers are strings with leading zeros kept ("025")',
    source: { url: `${QWEN_EVAL}/aime24/test.jsonl`, sha256: 'af2b8bd2aa911b6333ad0df32f3ca05c7ae8ed10f1731f4372c8ae26990bf7ac' },
    defaultScorer: 'math',
    defaultTemplate: 'math-boxed',
    idField: 'id',
    mapper: (file) => mapColumns({ id: 'id', input: 'problem', target: 'answer' }, file, ['question']),
  },
  {
    name: 'aime25',
    description: 'AIME 2025 I+II (30 problems); no single upstream file: pass a local path (aime25:<path>)',
    source: null,
    noSourceHint:
      'AIME 2025 has no single pinned upstream file (it is assembled from eth-sri/matharena .tex/.csv files); pass a local path: aime25:<path/to/test.jsonl>',
    defaultScorer: 'math',
    defaultTemplate: 'math-boxed',
    idField: 'id',
    mapper: (file) => mapColumns({ id: 'id', input: 'problem', target: 'answer' }, file),
  },
  {
    name: 'amc23',
    description: 'AMC 2023 12A/12B (40 problems); float answers become integer strings (27.0 → "27"), raw kept in metadata.raw_answer',
    source: { url: `${QWEN_EVAL}/amc23/test.jsonl`, sha256: '43707e1ca784602d8479de24ee8ce36609dbebc46dd152b0b12a46611aa898a4' },
    defaultScorer: 'math',
    defaultTemplate: 'math-boxed',
    idField: 'id',
    mapper: (file) => mapColumns({ id: 'id', input: 'problem', target: 'answer' }, file, ['question']),
  },
];

/** Look up a named dataset by name (case-sensitive); undefined when unknown. */
export function getNamedDataset(name: string): NamedDataset | undefined {
  return NAMED.find((d) => d.name === name);
}

/** All named datasets, in a stable order. */
export function allNamedDatasets(): readonly NamedDataset[] {
  return NAMED;
}

/**
 * Capability queries (ONEBench, Ghosh et al. 2024, §3: custom benchmarks by capability): select samples from the
 * pool by metadata filters and BM25 text search (minisearch), optionally re-scored with embeddings from a pluggable
 * provider. A selection is saved under the sha256 of its query, filters, limit and the sorted sample keys, so
 * `assay rank --query <hash>` reuses exactly the same samples later.
 */
import MiniSearch from 'minisearch';
import { hashJson } from '../core/hash.ts';
import { InputError } from '../core/errors.ts';
import type { Pool, PoolSample, Selection } from '../store/types.ts';

/** Filter keys understood by `--filter key=value` (repeatable; values of one key are ORed, keys ANDed). */
export const FILTER_KEYS = ['category', 'dataset', 'tag', 'key'] as const;

/** Parse `key=value` strings into a filter map. Errors: InputError for a malformed or unknown key. */
export function parseFilters(specs: string[] = []): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of specs) {
    const i = f.indexOf('=');
    if (i <= 0) throw new InputError(`filter "${f}" must look like key=value (keys: ${FILTER_KEYS.join(', ')})`, { field: '--filter' });
    const k = f.slice(0, i).trim();
    if (!(FILTER_KEYS as readonly string[]).includes(k)) throw new InputError(`unknown filter key "${k}" (keys: ${FILTER_KEYS.join(', ')})`, { field: '--filter' });
    (out[k] ??= []).push(f.slice(i + 1).trim());
  }
  return out;
}

function matches(s: PoolSample, filters: Record<string, string[]>): boolean {
  for (const [k, vals] of Object.entries(filters)) {
    const lc = vals.map((v) => v.toLowerCase());
    if (k === 'category' && !(s.category && lc.includes(s.category.toLowerCase()))) return false;
    if (k === 'dataset' && !lc.includes(s.dataset.toLowerCase())) return false;
    if (k === 'tag' && !s.tags.some((t) => lc.includes(t.toLowerCase()))) return false;
    if (k === 'key' && !vals.some((v) => (v.endsWith('*') ? s.key.startsWith(v.slice(0, -1)) : s.key === v))) return false;
  }
  return true;
}

/** Optional embeddings: vectors for sample keys and for a query text (from a file or an endpoint). */
export interface EmbeddingProvider {
  /** Vector of a sample, or null when unknown (it then keeps its BM25 score only). */
  sample(key: string): Float32Array | null;
  query(text: string): Promise<Float32Array>;
}

export interface QueryOptions {
  filters?: Record<string, string[]>;
  /** At most this many samples (best first); default: all matches. */
  limit?: number;
  /** Fuzzy matching distance for minisearch (fraction of term length), default 0; prefix matching is on. */
  fuzzy?: number;
  /** Blend BM25 with cosine similarity of embeddings: score = (1 − w)·bm25/max + w·cos (w default 0.5). */
  embeddings?: { provider: EmbeddingProvider; weight?: number };
  /** Include the pool's own runs' samples (default true). */
  runs?: boolean;
}

export interface QueryHit {
  key: string;
  dataset: string;
  category: string | null;
  /** BM25 score relative to the best hit (1 = best); 0 for a filter-only query. */
  score: number;
  snippet: string;
}

export interface QueryResult {
  selection: Selection;
  hits: QueryHit[];
  /** Samples that passed the filters (before the text search). */
  filtered: number;
}

/**
 * Run a capability query. An empty `text` selects every sample that passes the filters (in key order).
 * Text search covers the sample text, category and tags (BM25 via minisearch, prefix matching; terms ORed).
 * Samples without text can only be selected by filters. Errors: InputError when nothing matches.
 */
export async function querySamples(store: Pool, text: string, opts: QueryOptions = {}): Promise<QueryResult> {
  const filters = opts.filters ?? {};
  // Streamed: each sample that passes the filters is added to the index as it is read and only what a hit shows is
  // kept (key, dataset, category, snippet; repeated datasets and categories stored once): no PoolSample is held.
  const keys: string[] = [], datasets: string[] = [], categories: (string | null)[] = [], snippets: string[] = [];
  const interned = new Map<string, string>();
  const intern = (v: string) => {
    const w = interned.get(v);
    if (w !== undefined) return w;
    interned.set(v, v);
    return v;
  };
  const searching = text.trim() !== '';
  const ms = searching ? new MiniSearch<{ id: number; text: string; category: string; tags: string }>({ fields: ['text', 'category', 'tags'], storeFields: [] }) : null;
  for await (const s of store.iteratePoolSamples({ runs: opts.runs })) {
    if (!matches(s, filters)) continue;
    const id = keys.length;
    keys.push(s.key);
    datasets.push(intern(s.dataset));
    categories.push(s.category === null ? null : intern(s.category));
    snippets.push(snippetOf(s.text ?? ''));
    ms?.add({ id, text: s.text ?? '', category: s.category ?? '', tags: s.tags.join(' ') });
  }
  const hitOf = (id: number, score: number): QueryHit => ({ key: keys[id]!, dataset: datasets[id]!, category: categories[id]!, score, snippet: snippets[id]! });
  let hits: QueryHit[];
  if (!ms) {
    hits = keys.map((_, id) => hitOf(id, 0));
  } else {
    const res = ms.search(text, { prefix: true, fuzzy: opts.fuzzy ?? 0, boost: { category: 2, tags: 1.5 } });
    const max = res.length ? res[0]!.score : 1;
    hits = res.map((r) => hitOf(r.id as number, r.score / max));
    if (opts.embeddings) {
      const w = opts.embeddings.weight ?? 0.5;
      const q = await opts.embeddings.provider.query(text);
      for (const h of hits) {
        const v = opts.embeddings.provider.sample(h.key);
        if (v) h.score = (1 - w) * h.score + w * cosine(q, v);
      }
      hits.sort((a, b) => b.score - a.score);
    }
  }
  if (opts.limit !== undefined) hits = hits.slice(0, opts.limit);
  if (!hits.length) throw new InputError(`no samples match${text ? ` "${text}"` : ''}${Object.keys(filters).length ? ` with filters ${JSON.stringify(filters)}` : ''}`);
  const hitKeys = hits.map((h) => h.key);
  const hash = hashJson({ query: text, filters, limit: opts.limit ?? null, keys: [...hitKeys].sort() });
  const selection: Selection = { hash, query: text, filters, limit: opts.limit ?? null, created_at: new Date().toISOString(), sample_keys: hitKeys };
  return { selection, hits, filtered: keys.length };
}

/**
 * The first 100 characters of a text with its whitespace runs collapsed, copied into a string of its own: a slice
 * would keep the whole text alive.
 */
function snippetOf(text: string): string {
  const snip = text.replace(/\s+/g, ' ').slice(0, 100);
  return snip.length < 13 ? snip : snip.split('').join('');
}

/** Cosine similarity of two vectors (0 when either is zero). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? d / Math.sqrt(na * nb) : 0;
}

/**
 * Pool bytes per attempt with images vs text-only (not a test: figures, never assertions). A small charts dataset
 * (`assay gen charts`, N charts) is run against the local fake OpenAI-compatible server at k = 1, 2, 4, 8 epochs,
 * once with its charts sent (`fields.image`, multimodal) and once with `textOnly`, each into a fresh SQLite pool.
 * Images are stored once per sha256 in the pool's image store and named by hash in prompts and attempts, so the
 * image bytes are paid once per chart: bytes per attempt with images should fall towards the text-only figure as
 * epochs grow. Reported per run: pool file size after close, attempts, bytes per attempt, the image store's bytes,
 * the bytes per attempt besides the image store, and (when SQLite has the dbstat table) bytes by table.
 *
 *   node --import tsx bench/images-pool.ts [--n 40] [--epochs 1,2,4,8] [--out bench/out/images-pool.json]
 */
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeChartDataset } from '../src/generators/charts/write.ts';
import { evaluate } from '../src/runner/evaluate.ts';
import { openPool } from '../src/store/open.ts';
import { datasetTask } from '../src/tasks/task.ts';
import { startFakeOpenAIServer } from '../testkit/fake-openai-server.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '40' }, epochs: { type: 'string', default: '1,2,4,8' }, seed: { type: 'string', default: '0' }, out: { type: 'string', default: 'bench/out/images-pool.json' } } });
const N = Number(values.n), SEED = Number(values.seed);
const EPOCHS = values.epochs!.split(',').map(Number);

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-images-'));
// every request gets the same short answer, so the two modes differ only by what the prompts carry
const server = await startFakeOpenAIServer({ answer: () => ({ content: 'Reading the chart, the answer is \\boxed{3}.' }) });
const rows: Record<string, unknown>[] = [];
try {
  const data = await writeChartDataset(join(dir, 'charts'), N, SEED);
  process.stderr.write(`${N} charts, ${(data.png_bytes / 1e6).toFixed(2)} MB of PNG (mean ${Math.round(data.png_bytes / N)} bytes)\n`);
  for (const mode of ['multimodal', 'text-only'] as const) {
    for (const k of EPOCHS) {
      const file = join(dir, `pool-${mode}-${k}.sqlite`);
      const pool = await openPool(`sqlite:${file}`, { create: true });
      const task = datasetTask(`jsonl:${data.jsonl}`, { scorers: ['grab'], ...(mode === 'multimodal' ? { fields: { image: 'image' } } : {}) });
      const imagesBefore = server.stats.images;
      const r = (await evaluate([task], [`openai-compatible:${server.url}#vlm`], { pool, epochs: k, concurrency: 8, ...(mode === 'text-only' ? { textOnly: true } : {}) })).cells[0]!;
      const stats = await pool.imageStats();
      await pool.close();
      const bytes = statSync(file).size;
      let tables: Record<string, number> | null = null;
      const db = new Database(file, { readonly: true });
      try {
        tables = Object.fromEntries((db.prepare('SELECT name, SUM(pgsize) AS b FROM dbstat GROUP BY name ORDER BY b DESC LIMIT 8').all() as { name: string; b: number }[]).map((x) => [x.name, x.b]));
      } catch {
        tables = null; // SQLite built without the dbstat table
      } finally {
        db.close();
      }
      const attempts = r.result.counts.ok;
      const row = {
        mode, epochs: k, attempts, pool_bytes: bytes, bytes_per_attempt: Math.round(bytes / attempts),
        image_store: stats, images_sent: server.stats.images - imagesBefore,
        bytes_per_attempt_besides_images: Math.round((bytes - stats.bytes) / attempts), tables,
      };
      rows.push(row);
      process.stderr.write(`${mode.padEnd(10)} k=${k}: ${attempts} attempts, pool ${(bytes / 1e6).toFixed(2)} MB, ${row.bytes_per_attempt} B/attempt (${row.bytes_per_attempt_besides_images} besides the ${stats.images} stored images)\n`);
    }
  }
  const result = { node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, date: new Date().toISOString(), n: N, seed: SEED, png_bytes: data.png_bytes, runs: rows };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Bootstrap speed: B replicates of the clustered (two-stage) bootstrap over n samples × k epochs of 0/1 scores
 * (default 10,000 × 50,000 × 10), with the binary fast path, the generic path (numeric values), the paired
 * (joint, two runs) bootstrap, and the existing `clusteredBootstrapCI` of accuracy.ts for reference.
 * Prints wall time and peak RSS; writes bench/out/bootstrap.json.
 *
 *   node --import tsx bench/bootstrap.ts [--samples 50000] [--epochs 10] [--replicates 10000] [--skip-generic]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { clusteredBootstrapCI } from '../src/stats/accuracy.ts';
import { clusteredBootstrapMeans, jointClusteredBootstrap, packClusters, percentileInterval } from '../src/stats/bootstrap.ts';
import { createRng } from '../src/core/rng.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const n = arg('samples', 50_000), k = arg('epochs', 10), B = arg('replicates', 10_000);
const skipGeneric = process.argv.includes('--skip-generic');
const rng = createRng(1);
let peak = process.memoryUsage().rss;
const sampleRss = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const clustersA: number[][] = [], clustersB: number[][] = [];
for (let i = 0; i < n; i++) {
  const p = rng.float();
  clustersA.push(Array.from({ length: k }, () => (rng.float() < p ? 1 : 0)));
  clustersB.push(Array.from({ length: k }, () => (rng.float() < Math.min(1, p + 0.02) ? 1 : 0)));
}
const results: Record<string, unknown> = { samples: n, epochs: k, replicates: B, node: process.version };
function time(name: string, f: () => unknown): void {
  global.gc?.();
  const t0 = performance.now();
  const out = f();
  const s = (performance.now() - t0) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  results[name] = { seconds: +s.toFixed(2), replicates_per_second: +(B / s).toFixed(0), draws_per_second: +((B * n) / s / 1e6).toFixed(1) + 'M samples/s' };
  console.log(`${name.padEnd(34)} ${s.toFixed(2)} s  (${(B / s).toFixed(0)} replicates/s)  ${JSON.stringify(out)}`);
}
const packed = packClusters(clustersA);
const packedB = packClusters(clustersB);
time('binary fast path (one run)', () => percentileInterval(clusteredBootstrapMeans(packed, { seed: 0, replicates: B })));
time('paired joint (two runs)', () => {
  const [a, b] = jointClusteredBootstrap([packed, packedB], { seed: 0, replicates: B });
  return percentileInterval(a!.map((v, i) => v - b![i]!));
});
if (!skipGeneric) {
  const numeric = packClusters(clustersA.map((c) => c.map((v) => v * 0.999 + 0.0005)));
  time('generic path (numeric values)', () => percentileInterval(clusteredBootstrapMeans(numeric, { seed: 0, replicates: B })));
  time('accuracy.ts clusteredBootstrapCI', () => clusteredBootstrapCI(clustersA, { seed: 0, replicates: B }));
}
clearInterval(sampleRss);
results.peak_rss_mb = +(peak / 2 ** 20).toFixed(0);
console.log(`peak RSS ${results.peak_rss_mb} MB`);
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
writeFileSync(new URL('./out/bootstrap.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');

/**
 * One of two processes writing the same run into one PostgreSQL pool at the same time (test/store/postgres.test.ts).
 * Not a test. Both create the pool if needed, create the same run, and write every attempt of it with a measurement,
 * in opposite orders; process B fails the attempts whose (sample number + epoch) is a multiple of 5.
 *
 *   node --import tsx test/store/postgres-writer.ts <postgres url> <A|B> <samples> <epochs>
 */
import { openPool } from '../../src/store/open.ts';
import { attemptOf, measurementOf, plan, runOf, sampleOf } from './conformance.ts';

const [url, who, n, epochs] = process.argv.slice(2);
const N = Number(n), E = Number(epochs);
const pool = await openPool(url, { create: true });
try {
  await pool.ensureRun(runOf('shared', { epochs: E }), plan(Array.from({ length: N }, (_, i) => sampleOf(i))));
  const keys = Array.from({ length: N }, (_, i) => Array.from({ length: E }, (_, e) => [i, e] as const)).flat();
  if (who === 'B') keys.reverse();
  for (const [i, e] of keys) {
    const fail = who === 'B' && (i + e) % 5 === 0;
    await pool.write(
      attemptOf('shared', `s${i}`, e, fail ? { status: 'error', error: 'HTTP 500 (B)' } : { response: `${who} s${i}/${e}` }),
      [measurementOf('shared', `s${i}`, e, 'exact', fail ? null : 1)],
    );
  }
} finally {
  await pool.close();
}
process.stdout.write('done\n');

/**
 * The safety case: claims with their decisions, the evidence runs with verified chains, the contamination probes on
 * the same data and model, what was not evaluated; signed, and refused once changed; the HTML escapes everything.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runProbe } from '../../src/contamination/probes.ts';
import { initSigningKey } from '../../src/evidence/keys.ts';
import { buildSafetyCase, renderSafetyCaseHtml, verifySafetyCase } from '../../src/evidence/safety-case.ts';
import { signRun } from '../../src/evidence/sign.ts';
import { loadThresholds } from '../../src/evidence/thresholds.ts';
import { openPool } from '../../src/store/open.ts';
import { attemptOf, measurementOf, plan, runOf, sampleOf } from '../store/conformance.ts';

test('a safety case: claims, verified evidence, probes, what was not evaluated; signed; a changed document fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-case-'));
  const key = initSigningKey(join(dir, 'k.pem'));
  const other = initSigningKey(join(dir, 'o.pem'));
  const pool = await openPool('memory:');
  const samples = Array.from({ length: 30 }, (_, i) => sampleOf(i));
  await pool.ensureRun(runOf('run-1', { dataset: 'arith', epochs: 1 }), plan(samples));
  for (let i = 0; i < 30; i++) await pool.write(attemptOf('run-1', `s${i}`, 0), [measurementOf('run-1', `s${i}`, 0, 'exact', i < 27 ? 1 : 0)]);
  await signRun(pool, 'run-1', key);
  // A second run left unsigned: its chain is intact but no signature covers it.
  await pool.ensureRun(runOf('run-2', { dataset: 'arith', epochs: 1, model: 'reference:other' }), plan(samples));
  for (let i = 0; i < 30; i++) await pool.write(attemptOf('run-2', `s${i}`, 0), [measurementOf('run-2', `s${i}`, 0, 'exact', i < 3 ? 1 : 0)]);
  // A verbatim probe of the first model on the same data (the reference model answers with the target: every canary).
  const probe = await runProbe({ pool, kind: 'verbatim', dataset: { ref: 'inline:arith', name: 'arith', path: null, hash: 'h', samples: samples.map((s) => ({ ...s, input: `${s.input} `.repeat(8) })) }, model: 'reference:oracle' });
  const file = join(dir, 't.yaml');
  const text = `capabilities:
  - name: sums <script>
    task: arith
    metric: accuracy
    alert: 0.5
    critical: 0.7
    min_samples: 20
  - name: never run
    task: nothing
    metric: accuracy
    alert: 0.5
    critical: 0.8
    min_samples: 20
`;
  writeFileSync(file, text);
  const doc = await buildSafetyCase(pool, loadThresholds(file), { key, thresholdsText: text });
  // 27 of 30 right: Wilson's lower bound (0.9 + 0.064024)/1.128049 − 1.959964·0.063774/1.128049 = 0.743787 ≥ 0.7.
  assert.equal(doc.decision, 'critical');
  assert.ok(Math.abs(doc.claims[0]!.verdicts[0]!.ci95.lo - 0.743787) < 1e-5);
  await pool.close();
  const claim = doc.claims[0]!;
  assert.deepEqual(claim.verdicts.map((v) => [v.run_id, v.verdict]), [['run-1', 'critical'], ['run-2', 'below']]);
  assert.deepEqual(doc.claims[1]!.decision, 'not evaluated');
  assert.deepEqual(doc.evidence.map((e) => [e.run_id, e.status]), [['run-1', 'verified'], ['run-2', 'unsigned']]);
  assert.ok(doc.not_evaluated.some((n) => n.capability === 'never run' && /no run of task "nothing"/.test(n.reason)));
  assert.ok(doc.not_evaluated.some((n) => /run run-2: evidence chain unsigned/.test(n.reason)));
  assert.deepEqual(doc.probes.map((p) => [p.run_id, p.kind, p.dataset, p.model, p.rate]), [[probe.run_id, 'verbatim', 'arith', 'reference:oracle', 1]]);
  assert.equal(doc.thresholds.sha256!.length, 64);

  assert.deepEqual(verifySafetyCase(doc).ok, true);
  assert.equal(verifySafetyCase(doc, [key.publicKeyBase64]).ok, true);
  assert.match(verifySafetyCase(doc, [other.publicKeyBase64]).reason, /not by the key given/);
  const changed = JSON.parse(JSON.stringify(doc));
  changed.decision = 'below';
  assert.equal(verifySafetyCase(changed).ok, false);
  assert.equal(verifySafetyCase({ ...doc, signature: null }).ok, false);

  const html = renderSafetyCaseHtml(doc);
  assert.ok(html.includes('sums &lt;script&gt;') && !html.includes('<script'));
  assert.match(html, /decision: <b[^>]*>CRITICAL<\/b>/);
});

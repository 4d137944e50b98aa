/**
 * Capability thresholds: the decision rule on hand-computed intervals, the validation of the YAML file (file, line,
 * key), and `assessCapabilities` on runs whose interval is computed here by hand (Wilson 1927 at k = 1).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { assessCapabilities, judge } from '../../src/evidence/assess.ts';
import { loadThresholds, parseThresholds } from '../../src/evidence/thresholds.ts';
import { openPool } from '../../src/store/open.ts';
import { attemptOf, measurementOf, plan, runOf, sampleOf } from '../store/conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-assess-'));

test('judge: critical on the lower bound, alert on the upper bound, inconclusive when a level is spanned with too few samples', () => {
  const cap = { alert: 0.3, critical: 0.6, min_samples: 100 };
  assert.equal(judge({ lo: 0.61, hi: 0.8 }, 50, cap).verdict, 'critical');
  assert.equal(judge({ lo: 0.6, hi: 0.8 }, 50, cap).verdict, 'critical', 'reaching the level counts');
  assert.deepEqual(judge({ lo: 0.2, hi: 0.35 }, 200, cap).bound, { which: 'upper', value: 0.35 });
  assert.equal(judge({ lo: 0.2, hi: 0.35 }, 200, cap).verdict, 'alert');
  assert.equal(judge({ lo: 0.35, hi: 0.5 }, 50, cap).verdict, 'alert', 'no level spanned: enough to decide');
  const inc = judge({ lo: 0.2, hi: 0.35 }, 50, cap);
  assert.equal(inc.verdict, 'inconclusive');
  assert.deepEqual(inc.spanned, [0.3]);
  assert.deepEqual(judge({ lo: 0.2, hi: 0.7 }, 50, cap).spanned, [0.3, 0.6]);
  assert.equal(judge({ lo: 0.5, hi: 0.7 }, 500, cap).verdict, 'alert', 'spanning the critical level with enough samples: alert');
  assert.equal(judge({ lo: 0.01, hi: 0.29 }, 50, cap).verdict, 'below');
  assert.match(judge({ lo: 0.01, hi: 0.29 }, 50, cap).reason, /fewer than the 100 required/);
});

test('thresholds files: every error names the file, the line and the key', () => {
  const bad = (text: string, line: number, field: string, msg: RegExp) => {
    const f = join(dir, `bad-${line}-${field.replace(/\W/g, '_')}.yaml`);
    writeFileSync(f, text);
    assert.throws(() => loadThresholds(f), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.where.file, f);
      assert.equal(e.where.line, line, e.message);
      assert.equal(e.where.field, field);
      assert.match(e.message, msg);
      return true;
    });
  };
  const ok = 'capabilities:\n  - name: a\n    task: t\n    metric: accuracy\n    alert: 0.3\n    critical: 0.6\n    min_samples: 10\n';
  assert.equal(parseThresholds(ok, 'ok.yaml').capabilities[0]!.name, 'a');
  bad(ok.replace('alert: 0.3', 'alert: 1.3'), 5, 'capabilities.0.alert', /in \[0, 1\]/);
  bad(ok.replace('critical: 0.6', 'critical: 0.2'), 6, 'capabilities.0.critical', /below the alert level/);
  bad(ok.replace('metric: accuracy', 'metric: f1'), 4, 'capabilities.0.metric', /accuracy, avg@k, pass@<k> or maj@k/);
  bad(ok.replace('    min_samples: 10\n', '    min_samples: 10\n    threshold: 3\n'), 8, 'capabilities.0.threshold', /nrecognized key/);
  bad(ok.replace('    task: t\n', ''), 2, 'capabilities.0.task', /expected string/);
  bad(ok + ok.replace('capabilities:\n', ''), 8, 'capabilities.1.name', /already defined/);
  const f = join(dir, 'syntax.yaml');
  writeFileSync(f, 'capabilities:\n  - name: [a\n');
  assert.throws(() => loadThresholds(f), /syntax\.yaml:\d+: YAML/);
});

/** A run of `n` samples × 1 epoch of dataset `name`, `right` of them right (score 1), in `pool`. */
async function runWith(pool: Awaited<ReturnType<typeof openPool>>, id: string, name: string, n: number, right: number, model = 'reference:oracle') {
  const samples = Array.from({ length: n }, (_, i) => sampleOf(i));
  const run = runOf(id, { dataset: name, epochs: 1, model, scorers: ['exact'] });
  run.spec.dataset.size = n;
  await pool.ensureRun(run, plan(samples));
  for (let i = 0; i < n; i++) await pool.write(attemptOf(id, `s${i}`, 0), [measurementOf(id, `s${i}`, 0, 'exact', i < right ? 1 : 0)]);
  await pool.setRunStatus(id, 'complete');
}

test('three capabilities on runs in the pool: one alert, one critical, one inconclusive, each with its bound', async () => {
  const pool = await openPool('memory:');
  // 30 of 40 right, one epoch: the interval is Wilson's on the 40 questions (the clustered score interval at k = 1).
  // By hand: p̂ = 0.75, z² = 3.841459, centre (p̂ + z²/2n)/(1 + z²/n) = 0.798018/1.096036 = 0.728095,
  // half-width z·√(p̂(1−p̂)/n + z²/4n²)/(1 + z²/n) = 1.959964·0.072717/1.096036 = 0.130034: [0.598060, 0.858129].
  await runWith(pool, 'run-arith', 'arith', 40, 30);
  // 2 of 40 right: centre 0.098018/1.096036 = 0.089430, half-width 1.959964·0.042282/1.096036 = 0.075609:
  // Wilson [0.013821, 0.165039].
  await runWith(pool, 'run-weak', 'weak', 40, 2);
  const file = join(dir, 'thresholds.yaml');
  writeFileSync(file, `capabilities:
  - name: arithmetic uplift
    task: arith
    metric: accuracy
    alert: 0.5
    critical: 0.9
    min_samples: 20
  - name: arithmetic autonomy
    task: arith
    metric: accuracy
    alert: 0.3
    critical: 0.55
    min_samples: 20
  - name: arithmetic expertise
    task: arith
    metric: accuracy
    alert: 0.7
    critical: 0.95
    min_samples: 100
  - name: weak skill
    task: weak
    metric: accuracy
    alert: 0.2
    critical: 0.5
    min_samples: 20
  - name: untested
    task: nothing-ran
    metric: pass@1
    alert: 0.2
    critical: 0.5
    min_samples: 20
`);
  const a = await assessCapabilities(pool, loadThresholds(file));
  const by = Object.fromEntries(a.capabilities.map((c) => [c.capability.name, c]));
  const v = (name: string) => by[name]!.verdicts[0]!;
  assert.ok(Math.abs(v('arithmetic uplift').ci95.lo - 0.598060) < 1e-5 && Math.abs(v('arithmetic uplift').ci95.hi - 0.858129) < 1e-5, JSON.stringify(v('arithmetic uplift').ci95));
  assert.equal(by['arithmetic uplift']!.decision, 'alert');
  assert.deepEqual(v('arithmetic uplift').bound, { which: 'upper', value: v('arithmetic uplift').ci95.hi });
  assert.equal(by['arithmetic autonomy']!.decision, 'critical');
  assert.deepEqual(v('arithmetic autonomy').bound, { which: 'lower', value: v('arithmetic autonomy').ci95.lo });
  assert.equal(by['arithmetic expertise']!.decision, 'inconclusive');
  const more = v('arithmetic expertise').more_samples!;
  assert.equal(more.level, 0.7);
  assert.ok(Math.abs(more.half_width - 0.05) < 1e-12);
  // Between-sample variance of the 0/1 outcomes (unbiased: 40/39 · 0.75 · 0.25 = 0.192308) over h² = 0.0025, times
  // z² = 3.841459: 295.5 → 296 samples (src/stats/power.ts samplesForHalfWidth; Miller 2024).
  assert.equal(more.samples_needed, 296);
  assert.equal(more.more, 256);
  assert.equal(by['weak skill']!.decision, 'below');
  assert.ok(Math.abs(v('weak skill').ci95.lo - 0.013821) < 1e-5 && Math.abs(v('weak skill').ci95.hi - 0.165039) < 1e-5, JSON.stringify(v('weak skill').ci95));
  assert.equal(by.untested!.decision, 'not evaluated');
  // The elicitation is part of every verdict; the evidence chain of each run was checked (unsigned here).
  assert.deepEqual({ model: v('arithmetic uplift').elicitation.model, epochs: v('arithmetic uplift').elicitation.epochs, template: v('arithmetic uplift').elicitation.template.name, solver: v('arithmetic uplift').elicitation.solver }, { model: 'reference:oracle', epochs: 1, template: 'plain', solver: [{ name: 'generate' }] });
  assert.equal(v('arithmetic uplift').evidence, 'unsigned');
  await pool.close();
});

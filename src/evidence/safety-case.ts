/**
 * A safety case: one signed document per assessment (DESIGN.md §1, after Shah et al. 2025) — the claims (each
 * capability's decision on its confidence bounds, assess.ts), the evidence runs with their verified chains, the
 * contamination probes run on the same data and models (src/contamination/), what was not evaluated, and the
 * decision — as JSON (signed with Ed25519 over its canonical JSON without `signature`) and as a self-contained HTML
 * page.
 */
import { createPublicKey, sign, verify } from 'node:crypto';
import type { Pool } from '../store/types.ts';
import { runStatistics } from '../analyses/statistics.ts';
import { sha256 } from '../core/hash.ts';
import { assessCapabilities, type CapabilityAssessment, type Verdict } from './assess.ts';
import { verifyRun } from './bundle.ts';
import { keyIdOf, type SigningKey } from './keys.ts';
import { canonicalJson } from '../store/chain-records.ts';
import type { Thresholds } from './thresholds.ts';
import type { EvidenceReport } from './verify.ts';

/** The document. */
export interface SafetyCase {
  format: 'assay-safety-case';
  version: 1;
  created_at: string;
  thresholds: { file: string; sha256: string | null };
  /** The gravest decision over the capabilities evaluated (critical, alert, inconclusive, below), or `not evaluated`. */
  decision: Verdict | 'not evaluated';
  claims: { capability: string; task: string; metric: string; alert: number; critical: number; min_samples: number; decision: CapabilityAssessment['decision']; verdicts: CapabilityAssessment['verdicts'] }[];
  /** Every run the claims rest on, with its evidence chain as verified now. */
  evidence: { run_id: string; model: string; status: EvidenceReport['status']; links: number; records: number; signed_through: number | null; key_ids: string[]; first_problem: string | null }[];
  /** Contamination probes in the pool on the claims' datasets and models. */
  probes: { run_id: string; kind: string; dataset: string; model: string; rate: number; ci95: { lo: number; hi: number }; samples: number }[];
  /** Capabilities without any run, runs that could not be judged, and runs whose chain does not verify. */
  not_evaluated: { capability: string; reason: string }[];
  signature: { algorithm: 'ed25519'; key_id: string; public_key: string; value: string } | null;
}

const GRAVITY = { critical: 3, alert: 2, inconclusive: 1, below: 0 } as const;

/**
 * Assess `thresholds` on `pool` and assemble the safety case; signed with `key` when given. `thresholdsText`: the
 * file's bytes, hashed into the document. Errors: those of the pool.
 */
export async function buildSafetyCase(pool: Pool, thresholds: Thresholds, o: { key?: SigningKey; thresholdsText?: string } = {}): Promise<SafetyCase> {
  const a = await assessCapabilities(pool, thresholds, { verify: false });
  const evidence: SafetyCase['evidence'] = [];
  const notEvaluated: SafetyCase['not_evaluated'] = [];
  const seen = new Set<string>();
  for (const c of a.capabilities) {
    if (c.decision === 'not evaluated') notEvaluated.push({ capability: c.capability.name, reason: `no run of task "${c.capability.task}" in the pool` });
    for (const s of c.skipped) notEvaluated.push({ capability: c.capability.name, reason: `run ${s.run_id} not judged: ${s.reason}` });
    for (const v of c.verdicts) {
      if (seen.has(v.run_id)) continue;
      seen.add(v.run_id);
      const r = await verifyRun(pool, v.run_id);
      evidence.push({ run_id: v.run_id, model: v.elicitation.model, status: r.status, links: r.links, records: r.records, signed_through: r.signed_through, key_ids: r.key_ids, first_problem: r.first?.detail ?? null });
      if (r.status !== 'verified') notEvaluated.push({ capability: c.capability.name, reason: `run ${v.run_id}: evidence chain ${r.status}${r.first ? ` (${r.first.detail})` : ''}` });
    }
  }
  // Probes on the datasets and models of the claims: runs of the contamination tasks on `<dataset>~probe-<kind>`.
  const targets = new Set(a.capabilities.flatMap((c) => c.verdicts.map((v) => `${v.elicitation.dataset}\u0000${v.elicitation.model}`)));
  const probes: SafetyCase['probes'] = [];
  for (const r of await pool.listRuns()) {
    const run = await pool.getRun(r.id);
    const m = run?.spec.task?.name.match(/^contamination-(.+)$/);
    const base = run?.spec.dataset.name.replace(/~probe-[a-z-]+$/, '');
    if (!run || !m || !base || !targets.has(`${base}\u0000${run.spec.model}`)) continue;
    try {
      const st = (await runStatistics(pool, run.id)).statistics;
      probes.push({ run_id: run.id, kind: m[1]!, dataset: base, model: run.spec.model, rate: st.accuracy, ci95: { lo: st.ci95.lo, hi: st.ci95.hi }, samples: st.samples });
    } catch {
      // a probe without graded attempts: left out
    }
  }
  const judged = a.capabilities.filter((c) => c.decision !== 'not evaluated');
  const decision = judged.length ? judged.reduce((g, c) => (GRAVITY[c.decision as Verdict] > GRAVITY[g] ? (c.decision as Verdict) : g), 'below' as Verdict) : 'not evaluated';
  const doc: SafetyCase = {
    format: 'assay-safety-case', version: 1, created_at: a.assessed_at, thresholds: { file: thresholds.file, sha256: o.thresholdsText === undefined ? null : sha256(o.thresholdsText) },
    decision,
    claims: a.capabilities.map((c) => ({ capability: c.capability.name, task: c.capability.task, metric: c.capability.metric, alert: c.capability.alert, critical: c.capability.critical, min_samples: c.capability.min_samples, decision: c.decision, verdicts: c.verdicts })),
    evidence, probes, not_evaluated: notEvaluated, signature: null,
  };
  return o.key ? signSafetyCase(doc, o.key) : doc;
}

const message = (doc: SafetyCase) => Buffer.from(`assay-safety-case-v1\n${canonicalJson({ ...doc, signature: null })}`, 'utf8');

/** `doc` signed with `key` (Ed25519 over `assay-safety-case-v1\n` + its canonical JSON with `signature` null). */
export function signSafetyCase(doc: SafetyCase, key: SigningKey): SafetyCase {
  return { ...doc, signature: { algorithm: 'ed25519', key_id: key.keyId, public_key: key.publicKeyBase64, value: sign(null, message(doc), key.privateKey).toString('base64') } };
}

/**
 * Whether the document is signed and unchanged since; `trustedKeys` (SPKI DER base64): require one of them.
 * Returns `{ ok, reason }`. Never throws.
 */
export function verifySafetyCase(doc: SafetyCase, trustedKeys: string[] = []): { ok: boolean; key_id: string | null; reason: string } {
  const s = doc.signature;
  if (!s) return { ok: false, key_id: null, reason: 'the document is not signed' };
  let valid = false;
  try {
    valid = verify(null, message(doc), createPublicKey({ key: Buffer.from(s.public_key, 'base64'), format: 'der', type: 'spki' }), Buffer.from(s.value, 'base64'));
  } catch {
    valid = false;
  }
  const kid = (() => { try { return keyIdOf(s.public_key); } catch { return s.key_id; } })();
  if (!valid) return { ok: false, key_id: kid, reason: 'the signature does not verify: the document was changed after signing, or the signature is not its own' };
  if (trustedKeys.length && !trustedKeys.map((k) => keyIdOf(k)).includes(kid)) return { ok: false, key_id: kid, reason: `signed by key ${kid}, not by the key given` };
  return { ok: true, key_id: kid, reason: `signed by key ${kid}${trustedKeys.length ? ' (the key given)' : ' (pass --public-key to require yours)'}` };
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const f3 = (x: number) => x.toFixed(3);

/** The document as one self-contained HTML page (no script, no external resource; every value escaped). */
export function renderSafetyCaseHtml(doc: SafetyCase): string {
  const colour: Record<string, string> = { critical: '#b00020', alert: '#c25e00', inconclusive: '#6b6b00', below: '#1b6e20', 'not evaluated': '#555' };
  const badge = (d: string) => `<b style="color:${colour[d] ?? '#000'}">${esc(d.toUpperCase())}</b>`;
  const rows = (head: string[], body: unknown[][]) => `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${body.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`;
  const claims = doc.claims.map((c) => `<h3>${esc(c.capability)}: ${badge(c.decision)}</h3><p>task ${esc(c.task)}, ${esc(c.metric)}; alert when the upper bound reaches ${c.alert}, critical when the lower bound reaches ${c.critical}; at least ${c.min_samples} samples.</p>` +
    (c.verdicts.length ? rows(['verdict', 'run', 'model', 'estimate', '95% CI', 'n', 'elicitation', 'reason'], c.verdicts.map((v) => [badge(v.verdict), esc(v.run_id), esc(v.elicitation.model), f3(v.estimate), `[${f3(v.ci95.lo)}, ${f3(v.ci95.hi)}]`, v.samples,
      esc(`${v.elicitation.task ?? v.elicitation.dataset} · template ${v.elicitation.template.name} · ${v.elicitation.solver.map((x) => x.name).join('+')} · ${v.elicitation.epochs} epoch(s) · ${JSON.stringify(v.elicitation.generation_config)}`),
      esc(v.reason + (v.more_samples ? `; about ${v.more_samples.more} more samples needed` : ''))])) : '<p>No run.</p>')).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Safety case: ${esc(doc.decision)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:12px}</style></head><body>
<h1>Safety case — decision: ${badge(doc.decision)}</h1>
<p>Assessed ${esc(doc.created_at)} from ${esc(doc.thresholds.file)}${doc.thresholds.sha256 ? ` (sha256 <code>${esc(doc.thresholds.sha256)}</code>)` : ''}. ${doc.signature ? `Signed with Ed25519 key <code>${esc(doc.signature.key_id)}</code>; check it with <code>assay verify &lt;case.json&gt;</code>.` : 'Not signed.'}</p>
<h2>Claims</h2>${claims}
<h2>Evidence runs</h2>${rows(['run', 'model', 'chain', 'links', 'records', 'signed through', 'keys', 'first problem'], doc.evidence.map((e) => [esc(e.run_id), esc(e.model), `<b style="color:${e.status === 'verified' ? colour.below : colour.critical}">${esc(e.status)}</b>`, e.links, e.records, e.signed_through ?? '—', esc(e.key_ids.join(', ') || '—'), esc(e.first_problem ?? '—')]))}
<h2>Contamination probes</h2>${doc.probes.length ? rows(['probe', 'dataset', 'model', 'reproduced', '95% CI', 'n', 'run'], doc.probes.map((p) => [esc(p.kind), esc(p.dataset), esc(p.model), f3(p.rate), `[${f3(p.ci95.lo)}, ${f3(p.ci95.hi)}]`, p.samples, esc(p.run_id)])) : '<p>None run on these datasets and models (<code>assay probe</code>).</p>'}
<h2>Not evaluated</h2>${doc.not_evaluated.length ? `<ul>${doc.not_evaluated.map((n) => `<li>${esc(n.capability)}: ${esc(n.reason)}</li>`).join('')}</ul>` : '<p>Nothing: every capability was judged on runs whose chains verify.</p>'}
</body></html>
`;
}

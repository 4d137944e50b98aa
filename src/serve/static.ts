/**
 * The viewer's only script and style sheet, served by the app itself at `/static/app.js` and `/static/app.css` (no
 * build step, no CDN, no inline script or style: the pages' Content-Security-Policy allows scripts and styles from
 * the viewer's own origin only). The script never builds markup from data: it sets `textContent` and attributes.
 * Every page works without it; it adds the live view's polling, filter forms that submit on change, and confirmations.
 */
import { createHash } from 'node:crypto';

export const APP_JS = `'use strict';
(function () {
  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }
  function pct(x) {
    return x == null ? 'n/a' : (100 * x).toFixed(1) + '%';
  }
  document.querySelectorAll('select[data-autosubmit]').forEach(function (el) {
    el.addEventListener('change', function () {
      if (el.form) el.form.requestSubmit();
    });
  });
  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.getAttribute('data-confirm'))) e.preventDefault();
    });
  });
  var live = document.getElementById('live');
  if (live) {
    var src = live.getAttribute('data-src');
    var every = Number(live.getAttribute('data-every') || '2000');
    var polls = 0;
    var tick = function () {
      fetch(src, { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (r) {
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return r.json();
        })
        .then(function (p) {
          polls++;
          text('live-status', p.status);
          text('live-attempts', p.attempts.toLocaleString('en') + ' of ' + p.planned.toLocaleString('en'));
          text('live-done', pct(p.done));
          text('live-failed', String(p.failed));
          text('live-accuracy', pct(p.accuracy));
          text('live-ci', p.ci95 ? '[' + pct(p.ci95.lo) + ', ' + pct(p.ci95.hi) + ']' : 'n/a');
          text('live-method', p.ci95 ? p.ci95.method : '');
          text('live-samples', String(p.graded_samples));
          text('live-updated', p.updated_at);
          text('live-polls', String(polls));
          var bar = document.getElementById('live-bar');
          if (bar) bar.setAttribute('value', String(p.done));
          live.setAttribute('data-status', p.status);
          // a queued run's jobs are being run by workers: it is followed like a running one
          if (p.status === 'running' || p.status === 'queued') setTimeout(tick, every);
        })
        .catch(function (e) {
          text('live-error', 'polling stopped: ' + e.message);
        });
    };
    tick();
  }
})();
`;

export const APP_CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1b;line-height:1.45}
header{background:#1f3b63;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none}header a.brand{font-weight:700;font-size:1.1em}header nav{display:flex;gap:14px;flex-wrap:wrap;flex:1}
header .who{font-size:.85em;opacity:.9}header form{display:inline;margin:0}header button{font-size:.8em}
main{max-width:1200px;margin:16px auto;padding:0 16px}
h1{font-size:1.45em;margin:.2em 0 .4em;overflow-wrap:anywhere}h2{font-size:1.15em;border-bottom:2px solid #1f5fa8;padding-bottom:3px;margin-top:1.6em}
.meta,.note{color:#555;font-size:.88em}.warn{color:#8a4b00;font-weight:600}.err{color:#a00;font-weight:600}
.table-wrap{max-width:100%;overflow-x:auto}table{border-collapse:collapse;margin:.5em 0 1em;font-size:.86em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#eef3fa}
td.num,th.num{text-align:right;white-space:nowrap}td.excerpt{max-width:420px;font-family:ui-monospace,monospace;font-size:.92em;white-space:pre-wrap}
pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:480px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.86em;margin:.3em 0}
.msg{border-left:4px solid #ccd;padding-left:8px;margin:.5em 0}.msg.assistant{border-color:#1f5fa8}.msg.system{border-color:#999}.msg .role{font-weight:600;font-size:.85em;color:#445}
.attempt{border:1px solid #ddd;border-radius:4px;padding:8px 12px;margin:.8em 0}
.outcome-correct{color:#17692d;font-weight:600}.outcome-incorrect,.outcome-timeout{color:#a02020;font-weight:600}.outcome-failed{color:#8a4b00;font-weight:600}.outcome-ungraded{color:#555;font-weight:600}
form.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:end;margin:.5em 0;padding:8px;background:#f3f6fa;border-radius:4px}
form.filters label{display:flex;flex-direction:column;font-size:.8em;color:#333}
.pager{display:flex;gap:14px;margin:.5em 0}.downloads{font-size:.85em}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media (max-width:800px){.cols{grid-template-columns:1fr}}
.plot{display:block;margin:.4em 0 1em;max-width:100%;height:auto}
img.sample-image{max-width:100%;max-height:480px;border:1px solid #ccc}
progress{width:320px;height:16px}
table.heatmap td{text-align:center;min-width:3.5em}
.heat-0{background:#f4c7c3}.heat-1{background:#f5cfc0}.heat-2{background:#f6d8bd}.heat-3{background:#f7e0ba}.heat-4{background:#f8e9b7}.heat-5{background:#f3efb5}
.heat-6{background:#e3edb3}.heat-7{background:#d3eab2}.heat-8{background:#c3e7b0}.heat-9{background:#b3e4ae}.heat-10{background:#a3e1ad}
.badge{display:inline-block;padding:0 6px;border-radius:3px;background:#e8e8e8;font-size:.8em}.badge.private{background:#fde2c8}
.token-once{font-family:ui-monospace,monospace;background:#fffbe6;border:1px solid #e6c200;padding:8px;overflow-wrap:anywhere}
`;

/** A strong ETag of a static asset. */
export const etagOf = (s: string) => `"${createHash('sha256').update(s).digest('base64url').slice(0, 22)}"`;

/**
 * Safe HTML for the viewer: the `html` tagged template escapes every interpolated value unless it is already `Html`
 * (made by this template or, for markup produced by trusted code such as the report's SVG plots, by `trusted`).
 * Model output, sample text, ids and names are hostile text: they only ever enter a page through an escaped slot,
 * never as a URL (links are built from fixed paths and `encodeURIComponent`-encoded ids).
 */

/** A fragment of markup that is safe to insert as is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Escape text for HTML content and quoted attribute values (& < > " ' and the backtick). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!);
}

function render(v: unknown): string {
  if (v == null || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** Tagged template: literal parts as written, interpolations escaped (arrays rendered item by item; null, undefined, false: nothing). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup made by trusted code (the report's SVG plots, which escape their own labels). */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** A URL path from fixed segments and ids: every id is percent-encoded, so no id can add a segment, a query or a scheme. */
export function path(...segments: (string | number)[]): string {
  return '/' + segments.map((s) => encodeURIComponent(String(s))).join('/');
}

/** A query string from defined, non-empty values (`?a=1&b=x`), or '' when there are none. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

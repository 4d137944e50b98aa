#!/usr/bin/env node
// Write a SQLite database as a plain-text SQL script (schema, rows, user_version) on stdout, so that a pool file can
// live in the repository as a readable, diffable fixture and be rebuilt with `db.exec(text)`.
//
//   node scripts/dump-sqlite.mjs <file.sqlite> [--header "comment line"]... > dump.sql
//
// Values keep their storage class: NULL, integers, reals (written with a decimal point or exponent), text (quoted;
// text holding a NUL is written as a cast blob), blobs (X'…'). Tables are written in name order, rows in primary-key
// order, indexes after the rows.
import Database from 'better-sqlite3';

const args = process.argv.slice(2);
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--header');
if (!file) {
  process.stderr.write('usage: node scripts/dump-sqlite.mjs <file.sqlite> [--header "comment"]...\n');
  process.exit(2);
}
const headers = args.flatMap((a, i) => (args[i - 1] === '--header' ? [a] : []));
const db = new Database(file, { readonly: true, fileMustExist: true });
const out = [];
for (const h of headers) for (const line of h.split('\n')) out.push(`-- ${line}`);
out.push(`PRAGMA user_version = ${db.pragma('user_version', { simple: true })};`, 'BEGIN;');

const literal = (v) => {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return realLiteral(v);
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  if (v.includes('\u0000')) return `CAST(X'${Buffer.from(v, 'utf8').toString('hex')}' AS TEXT)`;
  return `'${v.replaceAll("'", "''")}'`;
};

const tables = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all();
for (const t of tables) {
  out.push(`${t.sql};`);
  const cols = db.prepare(`SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`).all(t.name);
  const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => `"${c.name}"`);
  // typeof() per column tells reals stored as whole numbers (1.0) from integers, which JS numbers cannot.
  const sel = cols.map((c) => `"${c.name}", typeof("${c.name}")`).join(', ');
  const stmt = db.prepare(`SELECT ${sel} FROM "${t.name}" ORDER BY ${pk.length ? pk.join(', ') : 'rowid'}`).raw(true).safeIntegers(true);
  const names = cols.map((c) => `"${c.name}"`).join(', ');
  for (const row of stmt.iterate()) {
    const vals = [];
    for (let i = 0; i < row.length; i += 2) {
      const v = row[i], type = row[i + 1];
      vals.push(type === 'real' ? realLiteral(Number(v)) : literal(v));
    }
    out.push(`INSERT INTO "${t.name}" (${names}) VALUES (${vals.join(', ')});`);
  }
}
for (const ix of db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`).all()) out.push(`${ix.sql};`);
out.push('COMMIT;');
process.stdout.write(out.join('\n') + '\n');
db.close();

function realLiteral(x) {
  const s = String(x);
  return /[.eE]/.test(s) || !Number.isFinite(x) ? s : `${s}.0`;
}

/**
 * Notes on samples: the viewer's one write besides token management. A user with the `write` role labels a sample of a
 * run (e.g. `bad-gold`, `grader-wrong`) and says why. Notes live beside the pool (`notes.jsonl` in the viewer's state
 * directory), never in it: the viewer only reads the pool. Every note is audited by the route that adds it.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../core/errors.ts';

/** One note. Times are ISO 8601. */
export interface Note {
  run_id: string;
  sample_id: string;
  /** A short label: letters, digits, `-`, `_`, up to 40 characters (empty: none). */
  label: string;
  /** Free text, up to {@link MAX_NOTE_CHARS} characters (shown escaped). */
  text: string;
  /** `token:<id>`. */
  by: string;
  at: string;
}

export const MAX_NOTE_CHARS = 4000;
const LABEL_RE = /^[A-Za-z0-9_-]{0,40}$/;

/** Check a note's label and text. Errors: InputError naming the field. */
export function checkNote(label: string, text: string): void {
  if (!LABEL_RE.test(label)) throw new InputError('a label is up to 40 letters, digits, "-" or "_"', { field: 'label' });
  if (!text.trim() && !label) throw new InputError('a note needs a label or some text', { field: 'text' });
  if (text.length > MAX_NOTE_CHARS) throw new InputError(`a note is at most ${MAX_NOTE_CHARS} characters, got ${text.length}`, { field: 'text' });
}

/** Notes in memory, optionally appended to a JSON-lines file (read whole when opened). */
export class NoteStore {
  private bySample = new Map<string, Note[]>();
  private count = 0;

  /** `file`: where notes are kept (created on the first note); null keeps them in memory only. */
  constructor(readonly file: string | null = null) {
    if (file && existsSync(file)) {
      for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        if (!line.trim()) continue;
        let n: Note;
        try {
          n = JSON.parse(line) as Note;
        } catch {
          throw new InputError('is not a notes file (bad JSON)', { file, line: i + 1 });
        }
        this.index(n);
      }
    }
  }

  private index(n: Note): void {
    const k = `${n.run_id}\u0000${n.sample_id}`;
    const list = this.bySample.get(k);
    if (list) list.push(n);
    else this.bySample.set(k, [n]);
    this.count++;
  }

  /** Add a note (checked by {@link checkNote}); durable when this returns. */
  add(n: Omit<Note, 'at'>): Note {
    checkNote(n.label, n.text);
    const note: Note = { ...n, at: new Date().toISOString() };
    if (this.file) {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      appendFileSync(this.file, JSON.stringify(note) + '\n', { mode: 0o600 });
    }
    this.index(note);
    return note;
  }

  /** The notes of a sample of a run, oldest first. */
  of(runId: string, sampleId: string): Note[] {
    return [...(this.bySample.get(`${runId}\u0000${sampleId}`) ?? [])];
  }

  get size(): number {
    return this.count;
  }
}

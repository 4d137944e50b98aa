/**
 * Notes on samples: the viewer's one write besides token management. A user with the `write` role labels a sample of a
 * run (e.g. `bad-gold`, `grader-wrong`) and says why. Notes live beside the pool (`notes.jsonl` in the viewer's state
 * directory), never in it: the viewer only reads the pool. Every note is audited by the route that adds it.
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
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

/**
 * Notes in memory, optionally kept in a JSON-lines file shared by every process serving the pool (`assay serve
 * --workers N`): each note is appended as one line with one `write` on a file opened with O_APPEND (a line lands whole
 * at the file's end, whichever process writes it, and none is lost), and each read first takes in the lines other
 * processes appended since (a `stat`, then only the new bytes; a line still being written is read once complete).
 * Errors: InputError naming the file and line when a line is not JSON.
 */
export class NoteStore {
  private bySample = new Map<string, Note[]>();
  private count = 0;
  /** Bytes of the file taken in (up to the end of its last complete line). */
  private offset = 0;
  private lineNo = 0;

  /** `file`: where notes are kept (created on the first note); null keeps them in memory only. */
  constructor(readonly file: string | null = null) {
    this.catchUp();
  }

  /** Take in the lines appended to the file since the last read (by this process or another). */
  private catchUp(): void {
    if (!this.file || !existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    let buf: Buffer;
    try {
      buf = Buffer.alloc(size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      buf = buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    const end = buf.lastIndexOf(0x0a);
    if (end < 0) return;
    for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
      this.lineNo++;
      if (!line.trim()) continue;
      let n: Note;
      try {
        n = JSON.parse(line) as Note;
      } catch {
        throw new InputError('is not a notes file (bad JSON)', { file: this.file, line: this.lineNo });
      }
      this.index(n);
    }
    this.offset += end + 1;
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
    if (!this.file) {
      this.index(note);
      return note;
    }
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    // One write of the whole line on an O_APPEND descriptor: appended whole after whatever another process wrote.
    const fd = openSync(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      writeSync(fd, JSON.stringify(note) + '\n');
    } finally {
      closeSync(fd);
    }
    this.catchUp();
    return note;
  }

  /** The notes of a sample of a run, oldest first (those other processes added included). */
  of(runId: string, sampleId: string): Note[] {
    this.catchUp();
    return [...(this.bySample.get(`${runId}\u0000${sampleId}`) ?? [])];
  }

  get size(): number {
    this.catchUp();
    return this.count;
  }
}

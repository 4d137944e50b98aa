/**
 * Progress reporting: a bar with rate and ETA on a terminal (cli-progress), quiet periodic lines otherwise.
 * Always on stderr, so `--json` output on stdout stays one clean document.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, done: number): void;
  tick(ok: boolean): void;
  stop(): void;
}

/** No output (library use and tests). */
export const silentProgress: Progress = { start() {}, tick() {}, stop() {} };

/** A progress reporter for the CLI: a bar on a TTY, one line every `intervalMs` otherwise. */
export function terminalProgress(label: string, stream: NodeJS.WriteStream = process.stderr, intervalMs = 5000): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted} | errors {errors}`, stream, hideCursor: true, fps: 5, etaBuffer: 200 },
      cliProgress.Presets.shades_classic,
    );
    let errors = 0;
    let started = 0;
    let initial = 0;
    let value = 0;
    return {
      start(total, done) {
        started = Date.now();
        initial = done;
        value = done;
        bar.start(total, done, { rate: '0', errors: 0 });
      },
      tick(ok) {
        if (!ok) errors++;
        value++;
        const secs = (Date.now() - started) / 1000;
        bar.update(value, { rate: secs > 0 ? ((value - initial) / secs).toFixed(0) : '0', errors });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let total = 0, done = 0, initial = 0, errors = 0, started = 0, last = 0;
  const line = () => {
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? (done - initial) / secs : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : NaN;
    stream.write(`${label}: ${done}/${total} (${total ? ((100 * done) / total).toFixed(0) : 100}%) ${rate.toFixed(0)}/s eta ${Number.isFinite(eta) ? eta + 's' : '?'} errors ${errors}\n`);
  };
  return {
    start(t, d) {
      total = t;
      done = d;
      initial = d;
      started = last = Date.now();
    },
    tick(ok) {
      done++;
      if (!ok) errors++;
      const now = Date.now();
      if (now - last >= intervalMs) {
        last = now;
        line();
      }
    },
    stop() {
      line();
    },
  };
}

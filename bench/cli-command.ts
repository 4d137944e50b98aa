/**
 * How the benchmarks start the CLI: as `npx assay` does. `bin/assay.js` is run as the executable it is, so its
 * shebang's settings apply (V8's young generation and heap growth, glibc's mmap threshold: see the file); any other
 * script (`--cli dist/cli/main.js`) through this Node, without them.
 */
import { accessSync, constants, readFileSync } from 'node:fs';

/** The command (program and leading arguments) that runs the CLI at `cli`. */
export function cliCommand(cli: string): string[] {
  let executable = true;
  try {
    accessSync(cli, constants.X_OK);
  } catch {
    executable = false;
  }
  return executable && readFileSync(cli, 'utf8').startsWith('#!') ? [cli] : [process.execPath, cli];
}

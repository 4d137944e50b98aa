/**
 * Registry of CLI commands defined outside main.ts. Each module exports `register(program)`; it is listed here with
 * the top-level command names it registers, and imported only when one of them is asked for (or for `--help` and
 * unknown commands, which need them all): `assay run` then never loads the analysis, import and report modules,
 * which keeps its start-up time and memory down. Add one entry per command module.
 */
import type { Command } from 'commander';

/** A command module: the top-level names it registers, and its loader. */
export interface CommandModule {
  names: readonly string[];
  load: () => Promise<{ register: (program: Command) => void }>;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['eval'], load: () => import('./eval.ts') },
  { names: ['calibration'], load: () => import('./grading.ts') },
  { names: ['compare'], load: () => import('./compare.ts') },
  { names: ['plan'], load: () => import('./plan.ts') },
  { names: ['sweep'], load: () => import('./sweep.ts') },
  { names: ['diff'], load: () => import('./diff.ts') },
  { names: ['report'], load: () => import('./report.ts') },
  { names: ['gen', 'needle-limit'], load: () => import('./gen.ts') },
  { names: ['tokens'], load: () => import('./tokens.ts') },
  { names: ['import'], load: () => import('./import.ts') },
  { names: ['pool'], load: () => import('./pool.ts') },
  { names: ['rank'], load: () => import('./rank.ts') },
  { names: ['perplexity', 'learnability'], load: () => import('./loglikelihood.ts') },
  { names: ['stream', 'merge'], load: () => import('./stream.ts') },
  { names: ['arena'], load: () => import('./arena.ts') },
  { names: ['zeroshot'], load: () => import('./zeroshot.ts') },
  { names: ['keys', 'verify'], load: () => import('./evidence.ts') },
  { names: ['assess'], load: () => import('./assess.ts') },
  { names: ['private'], load: () => import('./private.ts') },
  { names: ['probe'], load: () => import('./probe.ts') },
  { names: ['serve'], load: () => import('./serve.ts') },
  { names: ['worker', 'queue'], load: () => import('./queue.ts') },
];

/**
 * Register the command modules that `argv` needs on `program`: the module of the first word that is not an option
 * when one lists it, none when `program` already has that command (main.ts's own), else all of them (help, an
 * unknown command: commander then lists or suggests every command). Errors: a module that registers a name it does
 * not declare, or misses one it declares, throws (a wrong entry here would hide a command).
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const word = argv.find((a) => !a.startsWith('-'));
  if (word && program.commands.some((c) => c.name() === word || c.aliases().includes(word))) return;
  const wanted = COMMAND_MODULES.filter((m) => word && m.names.includes(word));
  for (const m of wanted.length ? wanted : COMMAND_MODULES) {
    const before = new Set(program.commands.map((c) => c.name()));
    (await m.load()).register(program);
    const added = program.commands.map((c) => c.name()).filter((n) => !before.has(n));
    if (added.join() !== [...m.names].join()) throw new Error(`command module for ${m.names.join(', ')} registered ${added.join(', ') || 'nothing'}`);
  }
}

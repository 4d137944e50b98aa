/**
 * The CLI loads a command module only when its command is asked for (src/cli/commands/index.ts): each declared
 * name must be exactly what its module registers, and help (no command word) must still list every command.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { COMMAND_MODULES, registerCommands } from '../../src/cli/commands/index.ts';

test('each command word loads exactly its own module; no word loads them all', async () => {
  for (const m of COMMAND_MODULES) {
    for (const name of m.names) {
      const program = new Command();
      await registerCommands(program, [name, '--help']);
      assert.deepEqual(program.commands.map((c) => c.name()), [...m.names], name);
    }
  }
  const all = new Command();
  await registerCommands(all, ['--help']);
  assert.deepEqual(all.commands.map((c) => c.name()), COMMAND_MODULES.flatMap((m) => m.names));
  assert.equal(new Set(all.commands.map((c) => c.name())).size, all.commands.length, 'no name declared twice');
});

test('a command the program already has (main.ts\'s own, e.g. run) loads no module; an unknown word loads all', async () => {
  const program = new Command();
  program.command('run');
  await registerCommands(program, ['run', '--model', 'x']);
  assert.deepEqual(program.commands.map((c) => c.name()), ['run']);
  const unknown = new Command();
  await registerCommands(unknown, ['rnak']);
  assert.equal(unknown.commands.length, COMMAND_MODULES.flatMap((m) => m.names).length);
});

/**
 * The example in examples/custom-task (own dataset, own scorer, two-turn solver) run exactly as a user would: a fresh
 * project that installs Assay from this checkout (`npm install <path>`), imports it as `assay` (ESM with types from
 * dist/), type-checks, and evaluates against a small OpenAI-compatible server written for this test (no real model
 * runs here). The CLI runs the same task file through `assay run --task`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const project = mkdtempSync(join(tmpdir(), 'assay-consumer-'));
let server: FakeOpenAIServer;

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) t = Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs);
  return t;
}

/** Run a command without blocking this process's event loop (the test's model server lives in this process). */
function execAsync(cmd: string, args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const CAPITALS: Record<string, string> = { France: 'Paris', Japan: 'Tokyo', Kenya: 'Nairobi', Peru: 'Lima', 'New Zealand': 'Wellington', Canada: 'Toronto', Australia: 'Canberra', Turkey: 'Ankara' };

before(async () => {
  // dist/ is what the package exports: build it when the sources are newer (npm ci builds it on install).
  const stamp = join(ROOT, 'dist/.build-stamp');
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < newest(join(ROOT, 'src'))) execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'ignore' });
  const tsxVersion = JSON.parse(execFileSync(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('./node_modules/tsx/package.json').version))"], { cwd: ROOT, encoding: 'utf8' }));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { assay: `file:${ROOT}`, tsx: tsxVersion } }, null, 2));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, stdio: 'ignore' });
  cpSync(join(ROOT, 'examples/custom-task'), join(project, 'custom-task'), { recursive: true });
  // The model under test: answers the first turn in a sentence, the confirmation in one word; wrong on Canada.
  server = await startFakeOpenAIServer({
    answer: (question, req) => {
      const first = req.messages.find((m) => m.role === 'user')!;
      const text = typeof first.content === 'string' ? first.content : '';
      const country = Object.keys(CAPITALS).find((c) => text.includes(`capital of ${c}?`));
      const city = country ? CAPITALS[country]! : 'unknown';
      return { content: question.startsWith('Confirm') ? city : `I believe the capital is ${city}.` };
    },
  });
});
after(async () => server?.close());

test('a fresh project imports assay, type-checks and evaluates the custom task', async () => {
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--allowImportingTsExtensions', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'custom-task/run.ts'], { cwd: project, encoding: 'utf8' });
  assert.equal(tsc.status, 0, `the example type-checks against the published types:\n${tsc.stdout}${tsc.stderr}`);
  const model = `openai-compatible:${server.url}#capitals-model`;
  const r = await execAsync(process.execPath, ['--import', 'tsx', 'custom-task/run.ts', model, `sqlite:${join(project, 'pool.sqlite')}`], project);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, 'complete');
  const row = out.rows[0];
  assert.equal(row.task, 'capitals@1');
  assert.equal(row.attempts, 16, '8 samples × 2 epochs');
  assert.equal(row.accuracy, 7 / 8, 'right on every capital but Canada');
  assert.ok(row.ci95.lo < 7 / 8 && row.ci95.hi <= 1);
  // Both turns are stored with the attempt.
  assert.deepEqual(out.transcript.map((m: { role: string }) => m.role), ['user', 'assistant', 'user', 'assistant']);
  assert.equal(out.transcript[3].content, 'Paris');

  // The CLI runs the same task file and finds the same run already complete in the same pool (resume, nothing redone).
  const cli = await execAsync(process.execPath, [join(project, 'node_modules/assay/bin/assay.js'), 'run', '--task', 'custom-task/task.ts', '--model', model, '--pool', join(project, 'pool.sqlite'), '--json'], project);
  assert.equal(cli.status, 0, cli.stderr);
  const run = JSON.parse(cli.stdout).run;
  assert.equal(run.run_id, row.run);
  assert.equal(run.executed, 0);
  assert.equal(run.resumed, 16);
});

test("README's library example type-checks as the .mts module it says it is, with a generating solver and a created pool", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Assay as a library'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  assert.match(code, /openPool\('sqlite:[^']*', \{ create: true \}\)/, 'a pool that does not exist yet is created');
  assert.match(code, /solver: \[chainOfThought\(\), generate\(\)\]/, 'the chain calls the model');
  assert.match(section.slice(0, section.indexOf('```ts')), /\.mts/, 'the text says the example is an ES module in TypeScript');
  writeFileSync(join(project, 'readme-example.mts'), code);
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'readme-example.mts'], { cwd: project, encoding: 'utf8' });
  assert.equal(tsc.status, 0, `the README example type-checks:\n${tsc.stdout}${tsc.stderr}`);
});

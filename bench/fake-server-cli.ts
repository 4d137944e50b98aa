/**
 * Command line front of the fake OpenAI-compatible server (testkit/fake-openai-server.ts), for
 * benchmarks and manual runs against a model-free endpoint.
 *
 *   node --import tsx bench/fake-server-cli.ts --port 8000 --gsm8k /work/shared/data/gsm8k/test.jsonl [--accuracy 0.7]
 *   node --import tsx bench/fake-server-cli.ts --port 8000 --synthetic 50000 [--write-dataset /tmp/synth.jsonl]
 *
 * Options:
 *   --port N              port (default 8000; 0 = any free port)
 *   --host H              host (default 127.0.0.1)
 *   --gsm8k FILE          GSM8K JSONL ({question, answer}); gold = text after "#### " (commas removed)
 *   --synthetic N         N synthetic questions "Question i: what is a+b?" (gold computed from the text)
 *   --write-dataset FILE  with --synthetic: write the N questions as JSONL {id, question, answer} and go on
 *   --write-only          with --write-dataset: write the file and exit without serving
 *   --accuracy P          probability of a correct answer (default 1)
 *   --seed S              seed of the accuracy draw (default 0)
 *   --model ID            model id reported (default fake-model)
 *   --latency-ms MS       fixed delay per answer (default 0)
 *   --pad-words N         filler words in each answer (default 0)
 *   --faults JSON         fault settings, e.g. '{"rateLimit":{"rate":0.05,"seed":1},"retryAfterMs":10}'
 *
 * Prints one line `{"url": "...", "port": N, "model": "...", "questions": N}` on stdout when listening, then
 * runs until killed (SIGINT/SIGTERM close it cleanly and print the final stats on stderr).
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { type FaultConfig, type FakeServerOptions, startFakeOpenAIServer } from '../testkit/fake-openai-server.ts';

/** Reads a GSM8K JSONL file into question → gold answer (text after `#### `, thousands separators removed). */
export function loadGsm8kAnswers(file: string): Map<string, string> {
  const out = new Map<string, string>();
  const text = readFileSync(file, 'utf8');
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { question?: unknown; answer?: unknown };
    if (typeof row.question !== 'string' || typeof row.answer !== 'string') {
      throw new Error(`${file}:${lineNo}: expected string fields "question" and "answer"`);
    }
    const i = row.answer.lastIndexOf('#### ');
    if (i < 0) throw new Error(`${file}:${lineNo}: answer has no "#### " gold marker`);
    out.set(row.question, row.answer.slice(i + 5).trim().replace(/,/g, ''));
  }
  return out;
}

/**
 * The i-th synthetic question (0-based) and its gold answer: `"Question i: what is a+b?"` with a, b in
 * [0, 1000) derived from i by a fixed integer hash (deterministic, no state).
 */
export function syntheticQuestion(i: number): { id: string; question: string; answer: string } {
  const a = (Math.imul(i + 1, 2654435761) >>> 0) % 1000;
  const b = (Math.imul(i + 7, 2246822519) >>> 0) % 1000;
  return { id: `synthetic-${i}`, question: `Question ${i}: what is ${a}+${b}?`, answer: String(a + b) };
}

const SYNTHETIC_RE = /Question \d+: what is (\d+)\+(\d+)\?/;

/** Gold answer of a (possibly template-wrapped) synthetic question, computed from its text; undefined if none. */
export function syntheticGold(text: string): string | undefined {
  const m = SYNTHETIC_RE.exec(text);
  return m ? String(Number(m[1]) + Number(m[2])) : undefined;
}

/** Writes N synthetic questions as JSONL `{id, question, answer}` to `file`, streaming (constant memory). */
export async function writeSyntheticDataset(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    if (!out.write(`${JSON.stringify(syntheticQuestion(i))}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      gsm8k: { type: 'string' },
      synthetic: { type: 'string' },
      'write-dataset': { type: 'string' },
      'write-only': { type: 'boolean', default: false },
      accuracy: { type: 'string', default: '1' },
      seed: { type: 'string', default: '0' },
      model: { type: 'string', default: 'fake-model' },
      'latency-ms': { type: 'string', default: '0' },
      'pad-words': { type: 'string', default: '0' },
      faults: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: node --import tsx bench/fake-server-cli.ts [--port 8000] [--gsm8k FILE | --synthetic N [--write-dataset FILE [--write-only]]]\n' +
        '       [--accuracy P] [--seed S] [--model ID] [--latency-ms MS] [--pad-words N] [--faults JSON]\n',
    );
    return;
  }
  const num = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`);
    return n;
  };

  const opts: FakeServerOptions = {
    port: num('port', values.port),
    host: values.host,
    modelId: values.model,
    accuracy: num('accuracy', values.accuracy),
    seed: num('seed', values.seed),
    latencyMs: num('latency-ms', values['latency-ms']),
    padWords: num('pad-words', values['pad-words']),
  };
  if (values.faults) opts.faults = JSON.parse(values.faults) as FaultConfig;

  let questions = 0;
  if (values.gsm8k) {
    opts.answers = loadGsm8kAnswers(values.gsm8k);
    questions += opts.answers.size;
  }
  if (values.synthetic) {
    const n = num('synthetic', values.synthetic);
    opts.gold = syntheticGold;
    questions += n;
    if (values['write-dataset']) {
      await writeSyntheticDataset(values['write-dataset'], n);
      process.stderr.write(`wrote ${n} synthetic questions to ${values['write-dataset']}\n`);
      if (values['write-only']) return;
    }
  } else if (values['write-dataset']) {
    throw new Error('--write-dataset needs --synthetic N');
  }

  const server = await startFakeOpenAIServer(opts);
  process.stdout.write(
    `${JSON.stringify({ url: server.url, port: server.port, model: opts.modelId, questions })}\n`,
  );
  const stop = (): void => {
    void server.close().then(() => {
      process.stderr.write(`${JSON.stringify(server.stats)}\n`);
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('fake-server-cli.ts')) {
  main().catch((e: unknown) => {
    process.stderr.write(`fake-server-cli: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

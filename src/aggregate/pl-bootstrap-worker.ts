/**
 * A bootstrap worker thread (./pl-bootstrap.ts): refits its share of the replicates and posts them back once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { refitPart, type PLBootstrapProblem } from './pl-bootstrap.ts';

const { problem, seed, B, part, parts } = workerData as { problem: PLBootstrapProblem; seed: number; B: number; part: number; parts: number };
const r = refitPart(problem, seed, B, part, parts);
parentPort!.postMessage(r, [r.out.buffer as ArrayBuffer]);

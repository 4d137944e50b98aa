// Start the viewer's analysis thread from the TypeScript source (a checkout run through tsx, the tests): register
// tsx's loader in this thread, then load the worker module. The compiled dist/ starts analysis-worker.js directly.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);

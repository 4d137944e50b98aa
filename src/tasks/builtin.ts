/**
 * The built-in benchmarks as tasks (each with the dataset's own prompt and scorer), runnable by name:
 * `assay run --task gsm8k`, `assay eval gsm8k math500 --model …`. `aime25` and `hle` need a local file:
 * `--dataset aime25:path` / `--dataset hle:path` puts one under the task.
 */
import { defineTask, type Task } from './task.ts';

export const BUILTIN_TASKS: readonly Task[] = [
  defineTask({ name: 'gsm8k', description: 'GSM8K test (1,319 grade-school word problems), numeric answers', dataset: 'gsm8k', scorers: ['gsm8k'] }),
  defineTask({ name: 'math500', description: 'MATH-500, LaTeX answers, boxed', dataset: 'math500', template: 'math-boxed', scorers: ['math'] }),
  defineTask({ name: 'aime24', description: 'AIME 2024 (30 problems), integer answers 0–999', dataset: 'aime24', template: 'math-boxed', scorers: ['math'] }),
  defineTask({ name: 'aime25', description: 'AIME 2025 (30 problems); needs --dataset aime25:<path>', dataset: 'aime25', template: 'math-boxed', scorers: ['math'] }),
  defineTask({ name: 'amc23', description: 'AMC 2023 (40 problems)', dataset: 'amc23', template: 'math-boxed', scorers: ['math'] }),
  defineTask({ name: 'hle', description: "Humanity's Last Exam (exact-match and multiple-choice); needs --dataset hle:<path>", dataset: 'hle' }),
  defineTask({ name: 'needle', description: 'needle threading on the default grid (seeded haystacks)', dataset: 'needle', scorers: ['needle'] }),
  defineTask({ name: 'arithmetic', description: 'seeded arithmetic word problems (the quickstart)', dataset: 'arithmetic', template: 'math-boxed', scorers: ['math'] }),
];

/**
 * Registry of CLI commands defined outside main.ts. Each module exports `register(program)`;
 * add one import and one array entry per command module.
 */
import type { Command } from 'commander';
import { register as gen } from './gen.ts';
import { register as tokens } from './tokens.ts';
import { register as grading } from './grading.ts';
import { register as compare } from './compare.ts';
import { register as plan } from './plan.ts';
import { register as sweep } from './sweep.ts';
import { register as diff } from './diff.ts';
import { register as report } from './report.ts';
import { register as importCmd } from './import.ts';
import { register as poolCmd } from './pool.ts';
import { register as rankCmd } from './rank.ts';
import { register as evalCmd } from './eval.ts';
import { register as loglikelihood } from './loglikelihood.ts';

export const COMMANDS: ((program: Command) => void)[] = [evalCmd, grading, compare, plan, sweep, diff, report, gen, tokens, importCmd, poolCmd, rankCmd, loglikelihood];

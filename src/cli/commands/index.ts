/**
 * Registry of CLI commands defined outside main.ts. Each module exports `register(program)`;
 * add one import and one array entry per command module.
 */
import type { Command } from 'commander';

export const COMMANDS: ((program: Command) => void)[] = [];

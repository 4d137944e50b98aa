/**
 * Which generation settings a provider sends (DESIGN.md §7, after the Vercel AI SDK's `unsupported-setting`
 * warnings). Each provider declares, in `capabilities.settings`, what it does with every setting of the generation
 * config; `unsentSettings` lists the settings of a config it will not send, so the runner can warn and record them
 * in the manifest (`provider.unsent_settings`), and `sendableConfig` gives the providers the config with those
 * settings removed, so what is reported and what is sent come from one declaration.
 */
import type { GenerationConfig } from '../core/schemas.ts';
import type { GenerationSetting, Provider, ProviderCapabilities, SettingSupport } from './types.ts';

/** Every generation setting, in the order warnings list them. */
export const GENERATION_SETTINGS = [
  'temperature',
  'top_p',
  'top_k',
  'max_tokens',
  'seed',
  'stop',
  'system_prompt',
  'chat_template',
] as const satisfies readonly GenerationSetting[];

// A setting added to GenerationConfig but not to the list above fails to type-check here.
type Missing = Exclude<GenerationSetting, (typeof GENERATION_SETTINGS)[number]>;
const _everySettingListed: Missing extends never ? true : Missing = true;
void _everySettingListed;

/** One setting a provider will not send: the shape of the manifest's `provider.unsent_settings` entries. */
export interface UnsentSetting {
  setting: GenerationSetting;
  /** The value the config asked for (never used). */
  value: unknown;
  reason: string;
}

/** The part of a provider `unsentSettings` reads. */
export type SettingsDeclarer = Pick<Provider, 'kind' | 'capabilities'>;

/**
 * Was the setting asked for? Undefined, an empty list and an empty string ask for nothing; `chat_template: true`
 * (the default) asks only for the provider's usual chat format, which every provider follows, so only `false`
 * counts.
 */
function given(setting: GenerationSetting, value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value) && value.length === 0) return false;
  if (setting === 'chat_template') return value === false;
  return true;
}

function genericReason(kind: string, setting: GenerationSetting, support: SettingSupport): string {
  return support === 'ignored' ? `${kind} ignores ${setting}: its output cannot depend on it` : `${kind} does not support ${setting}`;
}

/**
 * The settings of `config` that `provider` will not send, in `GENERATION_SETTINGS` order, each with the value the
 * config asked for and the reason (the provider's declared reason, or a generic one). A setting is listed when it
 * is given (see above) and declared `unsupported` or `ignored`, or when it loses a declared conflict (e.g. `top_p`
 * next to `temperature` on Anthropic). Pure: the same provider and config always give the same list.
 * @throws TypeError when the provider declares no `capabilities.settings` (a provider must declare them).
 */
export function unsentSettings(provider: SettingsDeclarer, config: Partial<GenerationConfig>): UnsentSetting[] {
  const caps: ProviderCapabilities | undefined = provider.capabilities;
  if (!caps || typeof caps.settings !== 'object' || caps.settings === null) {
    throw new TypeError(`provider ${provider.kind} declares no capabilities.settings`);
  }
  const out: UnsentSetting[] = [];
  const listed = new Set<GenerationSetting>();
  for (const setting of GENERATION_SETTINGS) {
    const value = config[setting];
    if (!given(setting, value)) continue;
    const support = caps.settings[setting] ?? 'unsupported';
    if (support === 'sent') continue;
    out.push({ setting, value, reason: caps.reasons?.[setting] ?? genericReason(provider.kind, setting, support) });
    listed.add(setting);
  }
  for (const c of caps.conflicts ?? []) {
    if (listed.has(c.drop) || listed.has(c.keep)) continue;
    if (!given(c.keep, config[c.keep]) || !given(c.drop, config[c.drop])) continue;
    out.push({ setting: c.drop, value: config[c.drop], reason: c.reason });
    listed.add(c.drop);
  }
  if (out.length > 1) out.sort((a, b) => GENERATION_SETTINGS.indexOf(a.setting) - GENERATION_SETTINGS.indexOf(b.setting));
  return out;
}

/**
 * The config a provider actually sends: `config` without the settings `unsentSettings` lists (`chat_template` is
 * kept: it is recorded, never sent as a parameter). Returns `config` itself when nothing is dropped.
 */
export function sendableConfig(provider: SettingsDeclarer, config: GenerationConfig): GenerationConfig {
  const unsent = unsentSettings(provider, config);
  if (unsent.length === 0) return config;
  const out: GenerationConfig = { ...config };
  for (const u of unsent) if (u.setting !== 'chat_template') delete out[u.setting];
  return out;
}

/** True when `provider` sends `setting` whenever a config gives it (its declaration says `sent`). */
export function sendsSetting(provider: Pick<Provider, 'capabilities'>, setting: GenerationSetting): boolean {
  return provider.capabilities.settings[setting] === 'sent';
}

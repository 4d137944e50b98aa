/**
 * Images and providers: which models take them (declared per provider and model, never guessed from a failed
 * request), the up-front refusal of a run with images on a provider that cannot send them, and the bytes of a
 * message's image parts as each provider's request needs them.
 */
import { InputError } from '../core/errors.ts';
import type { ImageBlob } from '../core/images.ts';
import type { ContentPart, Message } from '../core/schemas.ts';
import { ProviderError, type GenerateRequest, type Provider, type ProviderCapabilities } from './types.ts';

/**
 * OpenAI models that take no image input (text-only chat models), matched on the model name without a fine-tune
 * prefix (`ft:gpt-3.5-turbo:…`). Every other `openai:` model is taken to accept images (GPT-4o, GPT-4.1, GPT-5,
 * o1, o3, o4-mini take them).
 */
const OPENAI_TEXT_ONLY = [/^gpt-3\.5/, /^gpt-4(-0314|-0613)?$/, /^gpt-4-32k/, /^gpt-4-(1106|0125)-preview$/, /^o1-mini/, /^o3-mini/, /^(davinci|babbage)/, /-(audio|realtime|search)-/];

/** Anthropic models that take no image input (every Claude 3 and later model does). */
const ANTHROPIC_TEXT_ONLY = [/^claude-2/, /^claude-instant/];

/** What an `openai:` or `openai-compatible:` provider declares about images for `model`. */
export function openAIImageSupport(kind: string, model: string): Pick<ProviderCapabilities, 'images' | 'imagesReason'> {
  if (kind !== 'openai') return { images: 'sent' }; // the served model decides; the server answers 400 if it cannot
  const name = model.replace(/^ft:/, '');
  if (OPENAI_TEXT_ONLY.some((re) => re.test(name))) return { images: 'unsupported', imagesReason: `OpenAI's ${model} takes text only` };
  return { images: 'sent' };
}

/** What an `anthropic:` provider declares about images for `model`. */
export function anthropicImageSupport(model: string): Pick<ProviderCapabilities, 'images' | 'imagesReason'> {
  if (ANTHROPIC_TEXT_ONLY.some((re) => re.test(model))) return { images: 'unsupported', imagesReason: `Anthropic's ${model} takes text only (Claude 3 and later take images)` };
  return { images: 'sent' };
}

/** How many samples of a dataset have image parts, and the first one's id (for messages). */
export interface ImageUse {
  /** Distinct images. */
  images: number;
  /** Samples with at least one image part. */
  samples: number;
  firstSampleId: string | null;
}

/**
 * Refuse, before anything is stored or asked, a run whose samples have image parts on a provider that cannot send
 * them. Returns a warning (to show and record) when the provider ignores images (replay, reference), else null.
 * @throws InputError naming the provider, the model, the reason and the dataset, with what to do instead
 */
export function checkImageSupport(provider: Pick<Provider, 'address' | 'kind' | 'capabilities'>, use: ImageUse, dataset: string): string | null {
  if (use.images === 0) return null;
  const support = provider.capabilities.images ?? 'unsupported';
  if (support === 'sent') return null;
  const reason = provider.capabilities.imagesReason ?? `${provider.kind} declares no image support`;
  if (support === 'ignored') return `${provider.address} ignores images (${reason}): the ${use.images === 1 ? 'image' : `${use.images} images`} of ${dataset} ${use.images === 1 ? 'is' : 'are'} not shown to it`;
  throw new InputError(
    `${provider.address} cannot take images (${reason}), but ${use.samples} sample${use.samples === 1 ? '' : 's'} of ${dataset} ${use.samples === 1 ? 'has' : 'have'} image parts (first: "${use.firstSampleId}"). ` +
      'Nothing was sent. Use a model that takes images, or read the dataset with --text-only (textOnly in the library) to send the text alone, as a separate run.',
    { field: 'model' },
  );
}

/** The bytes of an image part, from the request's resolver. Errors: ProviderError (not retryable) when there is none or it fails. */
export async function partBytes(req: Pick<GenerateRequest, 'images'>, sha256: string, who: string): Promise<ImageBlob> {
  if (!req.images) throw new ProviderError(`${who}: a message has an image part but the request carries no image store`, { retryable: false });
  try {
    return await req.images.get(sha256);
  } catch (err) {
    throw new ProviderError(`${who}: image ${sha256.slice(0, 12)}… could not be read: ${(err as Error).message}`, { retryable: false });
  }
}

/**
 * Map each message's content to a provider's parts, loading every image's bytes once per request: `text` and `image`
 * build one part each. An image in a system message is refused (no API takes one there).
 * @throws ProviderError (not retryable) for an image in a system message or an image that cannot be read
 */
export async function mapParts<T>(
  messages: readonly Message[],
  req: Pick<GenerateRequest, 'images'>,
  who: string,
  build: { text: (text: string) => T; image: (blob: ImageBlob) => T },
): Promise<{ role: Message['role']; parts: T[] }[]> {
  const loaded = new Map<string, ImageBlob>();
  const out: { role: Message['role']; parts: T[] }[] = [];
  for (const m of messages) {
    const content: ContentPart[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    const parts: T[] = [];
    for (const p of content) {
      if (p.type === 'text') parts.push(build.text(p.text));
      else {
        if (m.role === 'system') throw new ProviderError(`${who}: an image in a system message cannot be sent; put it in a user message`, { retryable: false });
        let blob = loaded.get(p.sha256);
        if (!blob) loaded.set(p.sha256, (blob = await partBytes(req, p.sha256, who)));
        parts.push(build.image(blob));
      }
    }
    out.push({ role: m.role, parts });
  }
  return out;
}

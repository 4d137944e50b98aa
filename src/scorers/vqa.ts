/**
 * VQA accuracy as the VQA challenge computes it (Antol et al. 2015, "VQA: Visual Question Answering", ICCV; Goyal et
 * al. 2017, VQAv2; the official evaluation script `vqaEval.py` of GT-Vision-Lab/VQA): a predicted answer is
 * `min(#humans that gave it / 3, 1)`, averaged over the ten subsets of nine of the ten human answers (each subset
 * leaves one annotator out), so an answer three humans gave scores 0.9 and one four gave scores 1.
 *
 * Normalisation, as the official script: the prediction is stripped of newlines and tabs, then of punctuation
 * ({@link vqaPunctuation}: `; / [ ] " { } ( ) = + \ _ - > < @ ` , ? !` are deleted when the text has a punctuation
 * mark next to a space or a comma between digits, else replaced by a space; a full stop not followed by a digit is
 * deleted), then lower-cased and split on spaces, number words `none`…`ten` written as digits, the articles `a`, `an`,
 * `the` dropped, and contractions written without their apostrophe restored from the script's table (`dont` →
 * `don't`) ({@link vqaDigitArticle}). The human answers get only the punctuation step, and only when they are not all
 * the same — exactly as the script, whose human answers are already normalised in the VQA release; option
 * `answers: 'normalize'` gives them the full normalisation too (for answer lists not from the VQA release). The
 * script's quirks are kept: the full-stop rule removes at most 32 full stops (its `re.UNICODE` is passed as the count),
 * the contraction table's capitalised keys (`Im`, `Ive`) never match a lower-cased word, and `somebody'd` maps to
 * `somebodyd`.
 */
import type { Metric, Sample } from '../core/schemas.ts';
import { cutResponse, extractAnswer } from './extract.ts';
import { safely } from './math.ts';
import type { Scorer, Verdict } from './types.ts';

const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];
const NUMBER_WORDS: Record<string, string> = { none: '0', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10' };
const ARTICLES = new Set(['a', 'an', 'the']);
/**
 * The official script's contraction table (GT-Vision-Lab/VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py as of its
 * Python 3 version; all apostrophes straight), `key value` pairs separated by `|`. The older Python 2 script wrote most
 * values with typographic apostrophes (`don’t`), which no human answer in the VQA release matches.
 */
const CONTRACTION_TABLE =
  "aint ain't|arent aren't|cant can't|couldve could've|couldnt couldn't|couldn'tve couldn't've|" +
  "couldnt've couldn't've|didnt didn't|doesnt doesn't|dont don't|hadnt hadn't|hadnt've hadn't've|" +
  "hadn'tve hadn't've|hasnt hasn't|havent haven't|hed he'd|hed've he'd've|he'dve he'd've|hes he's|" +
  "howd how'd|howll how'll|hows how's|Id've I'd've|I'dve I'd've|Im I'm|Ive I've|isnt isn't|itd it'd|" +
  "itd've it'd've|it'dve it'd've|itll it'll|let's let's|maam ma'am|mightnt mightn't|" +
  "mightnt've mightn't've|mightn'tve mightn't've|mightve might've|mustnt mustn't|mustve must've|" +
  "neednt needn't|notve not've|oclock o'clock|oughtnt oughtn't|ow's'at 'ow's'at|'ows'at 'ow's'at|" +
  "'ow'sat 'ow's'at|shant shan't|shed've she'd've|she'dve she'd've|she's she's|shouldve should've|" +
  "shouldnt shouldn't|shouldnt've shouldn't've|shouldn'tve shouldn't've|somebody'd somebodyd|" +
  "somebodyd've somebody'd've|somebody'dve somebody'd've|somebodyll somebody'll|somebodys somebody's|" +
  "someoned someone'd|someoned've someone'd've|someone'dve someone'd've|someonell someone'll|" +
  "someones someone's|somethingd something'd|somethingd've something'd've|something'dve something'd've|" +
  "somethingll something'll|thats that's|thered there'd|thered've there'd've|there'dve there'd've|" +
  "therere there're|theres there's|theyd they'd|theyd've they'd've|they'dve they'd've|theyll they'll|" +
  "theyre they're|theyve they've|twas 'twas|wasnt wasn't|wed've we'd've|we'dve we'd've|weve we've|" +
  "werent weren't|whatll what'll|whatre what're|whats what's|whatve what've|whens when's|whered where'd|" +
  "wheres where's|whereve where've|whod who'd|whod've who'd've|who'dve who'd've|wholl who'll|whos who's|" +
  "whove who've|whyll why'll|whyre why're|whys why's|wont won't|wouldve would've|wouldnt wouldn't|" +
  "wouldnt've wouldn't've|wouldn'tve wouldn't've|yall y'all|yall'll y'all'll|y'allll y'all'll|" +
  "yall'd've y'all'd've|y'alld've y'all'd've|y'all'dve y'all'd've|youd you'd|youd've you'd've|" +
  "you'dve you'd've|youll you'll|youre you're|youve you've";
const CONTRACTIONS: ReadonlyMap<string, string> = new Map(CONTRACTION_TABLE.split('|').map((p) => p.split(' ') as [string, string]));

/** The official punctuation step (see the module comment). */
export function vqaPunctuation(text: string): string {
  const joinDigits = /\d,\d/.test(text);
  let out = text;
  for (const p of PUNCT) {
    const remove = text.includes(p + ' ') || text.includes(' ' + p) || joinDigits;
    out = out.split(p).join(remove ? '' : ' ');
  }
  let n = 0;
  return out.replace(/\.(?!\d)/g, (m) => (n++ < 32 ? '' : m));
}

/** The official number-word, article and contraction step (see the module comment). */
export function vqaDigitArticle(text: string): string {
  const words = text.toLowerCase().split(/\s+/).filter((w) => w !== '').map((w) => NUMBER_WORDS[w] ?? w).filter((w) => !ARTICLES.has(w));
  return words.map((w) => CONTRACTIONS.get(w) ?? w).join(' ');
}

/** A prediction normalised as the official script normalises it: whitespace, punctuation, then digits, articles, contractions. */
export function vqaNormalize(answer: string): string {
  return vqaDigitArticle(vqaPunctuation(answer.replace(/[\n\t]/g, ' ').trim()));
}

/**
 * VQA accuracy of one prediction against the human answers (see the module comment): the mean over annotators i of
 * min(1, #{j ≠ i : answer_j = prediction} / 3), in [0, 1].
 * @param prediction the model's answer, raw (normalised here)
 * @param humans the human answers (VQAv2: ten); `opts.answers` `'official'` (default) or `'normalize'`
 * @throws RangeError for fewer than two human answers (leaving one out leaves none)
 */
export function vqaAccuracy(prediction: string, humans: readonly string[], opts: { answers?: 'official' | 'normalize' } = {}): number {
  if (humans.length < 2) throw new RangeError(`VQA accuracy needs several human answers (VQAv2 has ten); got ${humans.length}`);
  const pred = vqaNormalize(prediction);
  const gts = opts.answers === 'normalize' ? humans.map(vqaNormalize) : new Set(humans).size > 1 ? humans.map(vqaPunctuation) : [...humans];
  let sum = 0;
  for (let i = 0; i < gts.length; i++) {
    let match = 0;
    for (let j = 0; j < gts.length; j++) if (j !== i && gts[j] === pred) match++;
    sum += Math.min(1, match / 3);
  }
  return sum / gts.length;
}

/**
 * The human answers of a sample: `metadata.answers` (strings, or VQAv2's `{answer}` objects), else the target when it
 * is a JSON list of strings. Null when there are none.
 */
export function humanAnswers(sample: Sample): string[] | null {
  const md = sample.metadata?.answers;
  const list: unknown = md ?? (() => {
    try {
      return JSON.parse(sample.target);
    } catch {
      return null;
    }
  })();
  if (!Array.isArray(list)) return null;
  const out = list.map((a) => (typeof a === 'string' ? a : a && typeof a === 'object' && typeof (a as { answer?: unknown }).answer === 'string' ? (a as { answer: string }).answer : null));
  return out.every((a): a is string => a !== null) ? out : null;
}

/** Options of the `vqa` scorer. */
export interface VqaOptions {
  /** `official` (default): human answers as the script treats them; `normalize`: fully normalised too. */
  answers?: 'official' | 'normalize';
  /** `response` (default): the whole response is the answer, as the VQA evaluation takes it; `final`: its final answer (a box, "the answer is", `Answer:`; src/scorers/extract.ts). */
  extract?: 'response' | 'final';
}

export const VQA_DEFAULTS: Required<VqaOptions> = { answers: 'official', extract: 'response' };

/** `vqa`: VQA accuracy in [0, 1] (see the module comment); a proportion, shown as a percentage. */
export class VqaScorer implements Scorer {
  readonly name = 'vqa';
  readonly kind = 'numeric' as const;
  readonly metric: Metric = { kind: 'proportion' };
  readonly options: Record<string, unknown>;
  private readonly o: Required<VqaOptions>;
  constructor(o: VqaOptions = {}) {
    this.o = { ...VQA_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as Required<VqaOptions>;
    this.options = { ...this.o };
  }

  /** Grade a response; never throws. A sample without at least two human answers is a grader error (its gold is unusable). */
  score(sample: Sample, response: string): Verdict {
    return safely(() => {
      const humans = humanAnswers(sample);
      if (!humans || humans.length < 2) return { value: null, extracted: null, explanation: 'no human answers: VQA accuracy needs metadata.answers (or a JSON list target) with several answers', status: 'grader_error' };
      const text = cutResponse(response ?? '');
      const answer = this.o.extract === 'final' ? extractAnswer(text)?.text ?? text : text;
      if (answer.trim() === '') return { value: 0, extracted: null, explanation: 'empty answer', status: 'no_answer' };
      const value = vqaAccuracy(answer, humans, { answers: this.o.answers });
      const norm = vqaNormalize(answer);
      return { value, extracted: norm.slice(0, 200), explanation: `VQA accuracy ${value.toFixed(3)}: "${norm.slice(0, 60)}" vs ${humans.length} human answers`, status: 'ok' };
    }) as Verdict;
  }
}

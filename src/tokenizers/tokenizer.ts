/**
 * The tokenizer interface the rest of the project uses, over the native
 * Hugging Face `tokenizers` package loading the tokenizer.json we write.
 * Node only (native binding, fs).
 *
 * The native encode/decode are asynchronous (they run on a worker pool), so
 * every encode/decode here returns a Promise.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tokenizer as NativeTokenizer, type Encoding as NativeEncoding } from 'tokenizers';
import { specialTokensMap, type JsonObject, type JsonValue, type TokenizerConfig, type TokenizerJson, type TrainedTokenizer } from './json.js';
import { TokenizerBase, TokenizerError, type Encoding, type EncodeOptions, type DecodeOptions, type Tokenizer } from './base.js';

export * from './base.js';
import { UNIGRAM_NORMALIZER } from './unigram.js';
import { GPT2_PATTERN, METASPACE, bertNormalize, bertPreTokenize, metaspacePreTokenize, unigramNormalize } from './pretokenize.js';

/**
 * code point index -> UTF-16 index of `text`, or undefined when the two agree (no character outside the BMP).
 * The native tokenizer counts offsets in code points; JS strings index UTF-16 units.
 */
function utf16Index(text: string): Int32Array | undefined {
  if (!/[\uD800-\uDFFF]/.test(text)) return undefined;
  const map: number[] = [];
  for (let i = 0; i < text.length; i++) {
    map.push(i);
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) i++;
  }
  map.push(text.length);
  return Int32Array.from(map);
}

/** `texts`: the sequence (and the pair's second one) encoded, to turn code-point offsets into UTF-16 ones. */
function toEncoding(e: NativeEncoding, texts: readonly string[]): Encoding {
  const maps = texts.map(utf16Index);
  const seq = maps.some((m) => m) ? e.getSequenceIds() : [];
  return {
    ids: e.getIds(),
    tokens: e.getTokens(),
    offsets: e.getOffsets().map((o, i) => {
      const m = maps[seq[i] ?? 0];
      return (m ? [m[o[0]!] ?? o[0]!, m[o[1]!] ?? o[1]!] : [o[0]!, o[1]!]) as [number, number];
    }),
    wordIds: e.getWordIds().map((w) => (w === undefined || w === null ? null : w)),
    typeIds: e.getTypeIds(),
    specialTokensMask: e.getSpecialTokensMask(),
  };
}

/**
 * Pre-tokenisation in TypeScript for the pipelines our trainers write, so
 * that shard building can encode each distinct word once through the native
 * model and reuse it (words repeat: Brown has 1.2 M words, 56 k distinct).
 * Returns the pre-tokens of a text and how to encode one pre-token alone,
 * or undefined for a tokenizer.json we do not model (then every text goes
 * through the native encoder).
 */
interface WordSplitter {
  split(text: string): string[];
  /** Text whose native encoding (no special tokens) is exactly this pre-token's ids. */
  alone(word: string): string;
}

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

function makeSplitter(json: TokenizerJson): WordSplitter | undefined {
  const norm = obj(json.normalizer);
  const pre = obj(json.pre_tokenizer);
  const model = json.model['type'];
  // Added tokens matched after normalisation, or BPE dropout, would make word-level caching inexact.
  if (!pre || json.added_tokens.some((t) => t.normalized) || (json.model['dropout'] ?? null) !== null) return undefined;
  if (model === 'WordPiece' && norm?.['type'] === 'BertNormalizer' && pre['type'] === 'BertPreTokenizer') {
    const o = {
      cleanText: norm['clean_text'] !== false,
      handleChineseChars: norm['handle_chinese_chars'] !== false,
      stripAccents: typeof norm['strip_accents'] === 'boolean' ? norm['strip_accents'] : null,
      lowercase: norm['lowercase'] !== false,
    };
    return { split: (t) => bertPreTokenize(bertNormalize(t, o)), alone: (w) => w };
  }
  if (model === 'BPE' && json.normalizer === null && pre['type'] === 'ByteLevel' && pre['add_prefix_space'] === false && pre['use_regex'] !== false) {
    const re = new RegExp(GPT2_PATTERN, 'gu');
    return { split: (t) => t.match(re) ?? [], alone: (w) => w };
  }
  if (
    model === 'Unigram' &&
    JSON.stringify(norm) === JSON.stringify(UNIGRAM_NORMALIZER) &&
    pre['type'] === 'Metaspace' &&
    pre['replacement'] === METASPACE &&
    pre['prepend_scheme'] === 'always' &&
    pre['split'] !== false
  ) {
    return { split: (t) => (t.includes(METASPACE) ? [] : metaspacePreTokenize(unigramNormalize(t))), alone: (w) => w.slice(1) };
  }
  return undefined;
}

const WORD_CACHE_LIMIT = 1 << 20;

class NativeBackedTokenizer extends TokenizerBase {
  readonly vocabSize: number;
  private readonly splitter: WordSplitter | undefined;
  private readonly addedRe: RegExp | undefined;
  private readonly wordIds = new Map<string, number[]>();

  constructor(
    private readonly native: NativeTokenizer,
    json: TokenizerJson,
    config: TokenizerConfig,
  ) {
    super(json, config);
    this.vocabSize = native.getVocabSize(true);
    this.splitter = makeSplitter(json);
    const added = json.added_tokens.map((t) => t.content).filter((c) => c.length > 0);
    this.addedRe = added.length ? new RegExp(added.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')) : undefined;
  }

  async encode(text: string, options: EncodeOptions = {}): Promise<Encoding> {
    const e = await this.native.encode(text, options.pair ?? null, { addSpecialTokens: options.addSpecialTokens ?? true });
    return toEncoding(e, options.pair === undefined ? [text] : [text, options.pair]);
  }

  async encodeBatch(texts: string[], options: EncodeOptions = {}): Promise<Encoding[]> {
    if (options.pair !== undefined) throw new TokenizerError('encodeBatch: pair is not supported; use encode');
    const es = await this.native.encodeBatch(texts, { addSpecialTokens: options.addSpecialTokens ?? true });
    return es.map((e, i) => toEncoding(e, [texts[i]!]));
  }

  async encodeIdsBatch(texts: string[]): Promise<number[][]> {
    const sp = this.splitter;
    if (!sp) {
      const es = await this.native.encodeBatch(texts, { addSpecialTokens: false });
      return es.map((e) => e.getIds());
    }
    // Texts holding an added token's string (e.g. "[MASK]") go through the native encoder whole.
    const whole: number[] = [];
    const words: Array<string[] | undefined> = texts.map((t, i) => {
      if (this.addedRe?.test(t) || (t.includes(METASPACE) && this.kind === 'unigram')) {
        whole.push(i);
        return undefined;
      }
      return sp.split(t);
    });
    if (this.wordIds.size > WORD_CACHE_LIMIT) this.wordIds.clear();
    const missing = new Set<string>();
    for (const ws of words) if (ws) for (const w of ws) if (!this.wordIds.has(w)) missing.add(w);
    const miss = [...missing];
    const [, wholeEnc] = await Promise.all([
      this.encodeWords(miss, sp),
      whole.length ? this.native.encodeBatch(whole.map((i) => texts[i]!), { addSpecialTokens: false }) : Promise.resolve([]),
    ]);
    const out: number[][] = new Array(texts.length);
    whole.forEach((i, k) => (out[i] = wholeEnc[k]!.getIds()));
    for (let i = 0; i < texts.length; i++) {
      const ws = words[i];
      if (!ws) continue;
      const ids: number[] = [];
      for (const w of ws) for (const id of this.wordIds.get(w)!) ids.push(id);
      out[i] = ids;
    }
    return out;
  }

  /**
   * Encode distinct pre-tokens into the word cache. Where a space cannot
   * merge two pre-tokens (WordPiece, Unigram) many words go in one native
   * call and are split back by word id, which saves the per-Encoding cost;
   * a group whose word count does not come back intact is redone one word
   * per encoding.
   */
  private async encodeWords(words: string[], sp: WordSplitter): Promise<void> {
    if (words.length === 0) return;
    const joinable = this.kind === 'wordpiece' || this.kind === 'unigram';
    const group = joinable ? 1024 : 1;
    const groups: string[][] = [];
    for (let i = 0; i < words.length; i += group) groups.push(words.slice(i, i + group));
    const encs = await this.native.encodeBatch(groups.map((g) => g.map((w) => sp.alone(w)).join(' ')), { addSpecialTokens: false });
    const redo: string[] = [];
    groups.forEach((g, k) => {
      const e = encs[k]!;
      const ids = e.getIds();
      if (!joinable) {
        this.wordIds.set(g[0]!, ids);
        return;
      }
      const wids = e.getWordIds();
      const per: number[][] = g.map(() => []);
      let ok = true;
      for (let j = 0; j < ids.length; j++) {
        const w = wids[j];
        if (w === null || w === undefined || w >= g.length) {
          ok = false;
          break;
        }
        per[w]!.push(ids[j]!);
      }
      if (ok && per.every((p) => p.length > 0)) g.forEach((w, j) => this.wordIds.set(w, per[j]!));
      else redo.push(...g);
    });
    if (redo.length) {
      const es = await this.native.encodeBatch(redo.map((w) => sp.alone(w)), { addSpecialTokens: false });
      redo.forEach((w, i) => this.wordIds.set(w, es[i]!.getIds()));
    }
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): Promise<string> {
    return this.native.decode(Array.from(ids), options.skipSpecialTokens ?? true);
  }

  tokenToId(token: string): number | undefined {
    return this.native.tokenToId(token) ?? undefined;
  }

  idToToken(id: number): string | undefined {
    return this.native.idToToken(id) ?? undefined;
  }
}

/** Build a tokenizer from in-memory files (e.g. straight from a trainer). */
export function tokenizerFromJson(json: TokenizerJson, config: TokenizerConfig): Tokenizer {
  let native: NativeTokenizer;
  try {
    native = NativeTokenizer.fromString(JSON.stringify(json));
  } catch (e) {
    throw new TokenizerError(`the native tokenizers package rejected the tokenizer.json: ${(e as Error).message}`);
  }
  return new NativeBackedTokenizer(native, json, config);
}

function readJsonFile(path: string, what: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new TokenizerError(`${path}: cannot read ${what}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as JsonObject;
  } catch (e) {
    throw new TokenizerError(`${path}: expected ${what} as a JSON object (${(e as Error).message})`);
  }
}

/** Load `dir/tokenizer.json` (+ `tokenizer_config.json` when present). */
export function loadTokenizer(dir: string): Tokenizer {
  const d = resolve(dir);
  if (!existsSync(d)) throw new TokenizerError(`${d}: tokenizer folder does not exist`);
  if (!statSync(d).isDirectory()) throw new TokenizerError(`${d}: expected a tokenizer folder containing tokenizer.json`);
  const jp = join(d, 'tokenizer.json');
  if (!existsSync(jp)) throw new TokenizerError(`${d}: no tokenizer.json in this folder (train one with \`pretrain tokenizer train\`)`);
  const json = readJsonFile(jp, 'a Hugging Face tokenizer.json') as unknown as TokenizerJson;
  if (!json.model || typeof json.model !== 'object' || !Array.isArray(json.added_tokens)) {
    throw new TokenizerError(`${jp}: expected a Hugging Face tokenizer.json with "model" and "added_tokens"`);
  }
  const cp = join(d, 'tokenizer_config.json');
  const config = existsSync(cp)
    ? (readJsonFile(cp, 'tokenizer_config.json') as unknown as TokenizerConfig)
    : { tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: 1e30 };
  return tokenizerFromJson(json, config);
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Write tokenizer.json, tokenizer_config.json and special_tokens_map.json
 * into `dir` (created if needed). Returns the loaded tokenizer.
 */
export function saveTokenizer(dir: string, files: Pick<TrainedTokenizer, 'tokenizerJson' | 'tokenizerConfig'>): Tokenizer {
  const d = resolve(dir);
  mkdirSync(d, { recursive: true });
  writeAtomic(join(d, 'tokenizer.json'), JSON.stringify(files.tokenizerJson, null, 2) + '\n');
  writeAtomic(join(d, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
  writeAtomic(join(d, 'special_tokens_map.json'), JSON.stringify(specialTokensMap(files.tokenizerConfig), null, 2) + '\n');
  return loadTokenizer(d);
}

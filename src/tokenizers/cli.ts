/**
 * `pretrain tokenizer train|encode` command definitions. The corpus reader
 * is passed in because it lives in src/data, which sits above this layer;
 * src/data/cli.ts wires it (use its registerTokenizerCommands).
 */
import { Option, type Command } from 'commander';
import { TOKENIZER_KINDS, type TokenizerKind } from './json.js';
import { loadTokenizer, saveTokenizer } from './tokenizer.js';
import { createTrainer, type TrainOptions } from './train.js';
import { checkOutputDir } from '../io/outdir.js';

/** Sentences (or any text units) of a corpus spec. */
export type CorpusTextReader = (spec: string, options: { sentencePerLine: boolean }) => AsyncIterable<string>;

interface TrainFlags {
  kind: string;
  vocabSize: string;
  corpus: string;
  out: string;
  minFrequency: string;
  lowercase: boolean;
  extraIds: string;
  maxPieceLength: string;
  sentencePerLine: boolean;
}

interface EncodeFlags {
  tokenizer: string;
  specialTokens: boolean;
  pair?: string;
  json: boolean;
}

/**
 * An error caused by a flag's value, prefixed with the flag: "--tokenizer x: no tokenizer.json in this folder",
 * "--corpus x.txt: no such file or directory ...". A message that starts with the value is not given it twice.
 */
export function flagError(flag: string, value: string, e: unknown): Error {
  const m = e instanceof Error ? e.message : String(e);
  return new Error(m.startsWith(`${value}:`) || m.startsWith(`${value}/`) ? `${flag} ${m}` : `${flag} ${value}: ${m}`, { cause: e });
}

/** An error reading the corpus named by --corpus. */
export function corpusError(spec: string, e: unknown): Error {
  return flagError('--corpus', spec, e);
}

/** A tokenizer folder named by a flag; a missing or wrong folder is an error naming the flag. */
export function loadTokenizerArg(flag: string, dir: string): ReturnType<typeof loadTokenizer> {
  try {
    return loadTokenizer(dir);
  } catch (e) {
    throw flagError(flag, dir, e);
  }
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got "${v}"`);
  return n;
}

/** Where command output goes; tests pass a collector. */
export type Print = (text: string) => void;
const stdout: Print = (t) => void process.stdout.write(t);

export function defineTokenizerCommands(program: Command, readTexts: CorpusTextReader, print: Print = stdout): void {
  const tok = program.command('tokenizer').description('train a tokenizer on a corpus, or look at how one splits text');

  tok
    .command('train')
    .description('train a WordPiece (BERT), byte-level BPE (GPT-2) or Unigram (T5) tokenizer and write tokenizer.json + tokenizer_config.json')
    .addOption(new Option('--kind <kind>', 'tokenizer kind').choices(TOKENIZER_KINDS).default('wordpiece'))
    .option('--vocab-size <n>', 'vocabulary size including special tokens (and the 100 T5 sentinels for unigram)', '8000')
    .option('--corpus <spec>', 'corpus: brown, brown:train|validation|test, a .txt/.jsonl file, a directory, or a glob', 'brown:train')
    .requiredOption('--out <dir>', 'output folder for tokenizer.json and tokenizer_config.json')
    .option('--min-frequency <n>', 'wordpiece/bpe: minimum pair count for a merge', '2')
    .option('--no-lowercase', 'wordpiece: keep case and accents (default lowercases and strips accents, like bert-base-uncased)')
    .option('--extra-ids <n>', 'unigram: number of <extra_id_N> sentinels', '100')
    .option('--max-piece-length <n>', 'unigram: longest piece in characters', '16')
    .option('--sentence-per-line', 'plain-text corpora hold one sentence per line', false)
    .action(async (f: TrainFlags) => {
      if (!TOKENIZER_KINDS.includes(f.kind as TokenizerKind)) throw new Error(`--kind: expected ${TOKENIZER_KINDS.join(', ')}, got "${f.kind}"`);
      const kind = f.kind as TokenizerKind;
      const opts: TrainOptions = {
        vocabSize: int('vocab-size', f.vocabSize, 1),
        minFrequency: int('min-frequency', f.minFrequency, 0),
        lowercase: f.lowercase,
        extraIds: int('extra-ids', f.extraIds, 0),
        maxPieceLength: int('max-piece-length', f.maxPieceLength, 1),
      };
      checkOutputDir('--out', f.out);
      const t0 = Date.now();
      const trainer = createTrainer(kind, opts);
      try {
        for await (const s of readTexts(f.corpus, { sentencePerLine: f.sentencePerLine })) trainer.addText(s);
      } catch (e) {
        throw corpusError(f.corpus, e);
      }
      const t1 = Date.now();
      let trained: ReturnType<typeof trainer.finish>;
      try {
        trained = trainer.finish();
      } catch (e) {
        // The trainers' own checks ("bpe: vocab size 10 is below the 256 byte symbols ...") are about the flag.
        if (/vocab size/.test((e as Error).message)) throw new Error(`--vocab-size ${f.vocabSize}: too small for this tokenizer (${(e as Error).message})`, { cause: e });
        throw e;
      }
      const tk = saveTokenizer(f.out, trained);
      const st = trained.stats;
      print(
        `${kind} tokenizer: ${tk.vocabSize} tokens, from ${st.totalWords} words (${st.uniqueWords} distinct); ` +
          `read ${((t1 - t0) / 1000).toFixed(1)} s, learned ${(st.learnMs / 1000).toFixed(1)} s -> ${f.out}\n` +
          `special ids: ${JSON.stringify(tk.specialIds)}\n`,
      );
    });

  tok
    .command('encode')
    .description('show the tokens, ids and offsets of a text')
    .requiredOption('--tokenizer <dir>', 'tokenizer folder (with tokenizer.json)')
    .option('--no-special-tokens', 'do not add [CLS]/[SEP], </s> ...')
    .option('--pair <text>', 'second segment (BERT pair template)')
    .option('--json', 'print JSON instead of a table', false)
    .argument('<text>', 'text to encode')
    .action(async (text: string, f: EncodeFlags) => {
      const tk = loadTokenizerArg('--tokenizer', f.tokenizer);
      const e = await tk.encode(text, { addSpecialTokens: f.specialTokens, ...(f.pair !== undefined ? { pair: f.pair } : {}) });
      const decoded = await tk.decode(e.ids, { skipSpecialTokens: true });
      if (f.json) {
        print(JSON.stringify({ ids: e.ids, tokens: e.tokens, offsets: e.offsets, typeIds: e.typeIds, decoded }) + '\n');
        return;
      }
      const lines = e.tokens.map((t, i) => `${String(e.ids[i]).padStart(7)}  ${JSON.stringify(t).padEnd(20)} ${e.offsets[i]![0]}-${e.offsets[i]![1]}${e.typeIds[i] ? '  B' : ''}`);
      print(`${lines.join('\n')}\n${e.ids.length} tokens | ${e.tokens.join(' ')}\ndecoded: ${decoded}\n`);
    });
}

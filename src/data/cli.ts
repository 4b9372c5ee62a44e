/**
 * CLI commands that need the data layer: `pretrain tokenizer train|encode`
 * (training reads a corpus) and `pretrain data shards|show|squad`.
 */
import type { Command } from 'commander';
import { defineTokenizerCommands, corpusError, loadTokenizerArg, type Print } from '../tokenizers/cli.js';
import { checkOutputDir } from '../io/outdir.js';
import { corpusSentences, readCorpus } from './corpus.js';
import { buildShards } from './shards.js';
import { brownDocuments } from './brown.js';
import { DataError } from './errors.js';
import { brownQa, squadJson } from './squad.js';
import { writeFileAtomic } from '../io/files.js';

/** Adds `tokenizer train` and `tokenizer encode`, with the corpus reader of src/data. */
export function registerTokenizerCommands(program: Command, print?: Print): void {
  defineTokenizerCommands(program, (spec, o) => corpusSentences(spec, { sentencePerLine: o.sentencePerLine }), print);
}

interface ShardFlags {
  corpus: string;
  tokenizer: string;
  cacheDir: string;
  sentencePerLine: boolean;
  force: boolean;
}

/** A whole number >= min from a flag, or an error naming the flag. */
function count(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new DataError(`${flag} ${v}: expected a whole number >= ${min}`);
  return n;
}

/** Adds `data shards` (tokenise a corpus once, cached), `data show` (corpus summary) and `data squad` (brown-qa as SQuAD JSON). */
export function registerDataCommands(program: Command, print: Print = (t) => void process.stdout.write(t)): void {
  const data = program.command('data').description('corpora and token shards');
  data
    .command('shards')
    .description('tokenise a corpus into binary token shards (cached by corpus and tokenizer) and print where they are')
    .option('--corpus <spec>', 'corpus: brown, brown:train|validation|test, a .txt/.jsonl file, a directory, or a glob', 'brown:train')
    .requiredOption('--tokenizer <dir>', 'tokenizer folder (with tokenizer.json)')
    .option('--cache-dir <dir>', 'folder for shard sets', '.cache/shards')
    .option('--sentence-per-line', 'plain-text corpora hold one sentence per line', false)
    .option('--force', 'rebuild even if cached', false)
    .action(async (f: ShardFlags) => {
      checkOutputDir('--cache-dir', f.cacheDir);
      const tk = loadTokenizerArg('--tokenizer', f.tokenizer);
      const t0 = performance.now();
      const set = await buildShards(f.corpus, tk, { cacheDir: f.cacheDir, sentencePerLine: f.sentencePerLine, force: f.force }).catch((e: unknown) => {
        throw e instanceof DataError ? corpusError(f.corpus, e) : e;
      });
      const s = (performance.now() - t0) / 1000;
      const m = set.manifest;
      print(
        `${set.dir}\n${m.documentCount} documents, ${m.sentenceCount} sentences, ${m.tokenCount} tokens in ${m.shards.length} shard(s), ` +
          `uint${m.bytesPerToken * 8}; ${s.toFixed(2)} s\n`,
      );
      set.close();
    });
  data
    .command('show')
    .description('summarise a corpus: documents, sentences, characters (and Brown genres/splits)')
    .option('--corpus <spec>', 'corpus spec', 'brown')
    .option('--sentence-per-line', 'plain-text corpora hold one sentence per line', false)
    .action(async (f: { corpus: string; sentencePerLine: boolean }) => {
      let docs = 0;
      let sents = 0;
      let chars = 0;
      let first = '';
      try {
        for await (const d of readCorpus(f.corpus, { sentencePerLine: f.sentencePerLine })) {
          docs++;
          sents += d.sentences.length;
          chars += d.text.length;
          if (!first) first = d.sentences[0] ?? '';
        }
      } catch (e) {
        throw corpusError(f.corpus, e);
      }
      print(`${f.corpus}: ${docs} documents, ${sents} sentences, ${chars} characters\nfirst sentence: ${first}\n`);
      if (f.corpus.startsWith('brown')) {
        const table = new Map<string, Record<string, number>>();
        for (const d of brownDocuments('all')) {
          const r = table.get(d.genre) ?? { train: 0, validation: 0, test: 0 };
          r[d.split] = (r[d.split] ?? 0) + 1;
          table.set(d.genre, r);
        }
        for (const [g, r] of table) print(`  ${g.padEnd(16)} train ${r['train']}  validation ${r['validation']}  test ${r['test']}\n`);
      }
    });
  data
    .command('squad')
    .description('write the bundled brown-qa questions (cloze questions on Brown documents, as `finetune --task qa --data brown-qa` builds them) as a SQuAD v1.1 JSON file')
    .argument('<out>', 'the JSON file to write')
    .option('--split <split>', 'the Brown documents the questions come from: train, validation or test', 'validation')
    .option('--n <n>', 'at most n questions, chosen by a seeded shuffle; 0 = all', '0')
    .option('--sentences <k>', 'consecutive sentences per context', '3')
    .option('--seed <n>', 'seed of the question choice', '0')
    .action(async (out: string, f: { split: string; n: string; sentences: string; seed: string }) => {
      if (f.split !== 'train' && f.split !== 'validation' && f.split !== 'test') throw new DataError(`--split ${f.split}: expected train, validation or test`);
      const xs = brownQa(f.split, { n: count('--n', f.n, 0), sentences: count('--sentences', f.sentences, 1), seed: count('--seed', f.seed, 0) });
      await writeFileAtomic(out, `${JSON.stringify(squadJson(xs))}\n`);
      print(`${out}: ${xs.length} questions on ${new Set(xs.map((x) => x.context)).size} contexts from Brown's ${f.split} documents\n`);
    });
}

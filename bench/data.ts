// `npm run bench -- data`: the data pipeline on the Brown corpus. Tokenizer training time (ours, and the native
// `tokenizers` trainer with its default options on the same text), tokenisation into shards (tokens/s), and batch
// assembly from shards (tokens/s), beside the training tokens/s of the engine benchmark.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BPE, Tokenizer as NativeTokenizer, Unigram, WordPiece, bertNormalizer, bertPreTokenizer, byteLevelPreTokenizer, metaspacePreTokenizer } from 'tokenizers';
import { loadBrown } from '../src/data/brown.js';
import { BlockLoader, EpochShuffler, padBatch } from '../src/data/batching.js';
import { buildShards } from '../src/data/shards.js';
import { createTrainer, type TrainOptions } from '../src/tokenizers/train.js';
import { saveTokenizer, type Tokenizer } from '../src/tokenizers/tokenizer.js';
import type { TokenizerKind } from '../src/tokenizers/json.js';

/** Training tokens/s assumed when bench/results/engine.json is absent (the engine does roughly 5-10k here). */
const ENGINE_TOKENS_PER_S_FALLBACK = 10000;
/** The pipeline must outpace training by this factor. */
const REQUIRED_RATIO = 20;

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

function trainOurs(kind: TokenizerKind, sentences: string[], opts: TrainOptions): { seconds: number; countSeconds: number; tokenizer: ReturnType<ReturnType<typeof createTrainer>['finish']> } {
  const t0 = performance.now();
  const tr = createTrainer(kind, opts);
  for (const s of sentences) tr.addText(s);
  const countSeconds = seconds(t0);
  const tokenizer = tr.finish();
  return { seconds: seconds(t0), countSeconds, tokenizer };
}

/** The native trainer with its default options (BPE/WordPiece 30000, Unigram 8000), as the binding allows. */
function trainNative(kind: TokenizerKind, file: string): { seconds: number; vocabSize: number } {
  let t: NativeTokenizer;
  if (kind === 'bpe') {
    t = new NativeTokenizer(BPE.empty());
    t.setPreTokenizer(byteLevelPreTokenizer(false, true));
  } else if (kind === 'wordpiece') {
    t = new NativeTokenizer(WordPiece.empty() as unknown as ReturnType<typeof BPE.empty>);
    t.setNormalizer(bertNormalizer());
    t.setPreTokenizer(bertPreTokenizer());
  } else {
    t = new NativeTokenizer(Unigram.empty());
    t.setPreTokenizer(metaspacePreTokenizer());
  }
  const t0 = performance.now();
  t.train([file]);
  return { seconds: seconds(t0), vocabSize: t.getVocabSize(true) };
}

function engineTokensPerSecond(outDir: string): { value: number; source: string } {
  const p = path.join(outDir, 'engine.json');
  if (existsSync(p)) {
    try {
      const j = JSON.parse(readFileSync(p, 'utf8')) as { ours?: { tokens_per_s?: number } };
      const v = j.ours?.tokens_per_s;
      if (typeof v === 'number' && v > 0) return { value: v, source: p };
    } catch {
      /* fall through */
    }
  }
  return { value: ENGINE_TOKENS_PER_S_FALLBACK, source: 'assumed upper figure (no engine.json)' };
}

export async function runDataBench(opts: { outDir: string }): Promise<Record<string, unknown>> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'pretrain-bench-data-'));
  try {
    const t0 = performance.now();
    const docs = loadBrown();
    const loadSeconds = seconds(t0);
    const sentences = docs.flatMap((d) => d.sentences);
    const chars = sentences.reduce((s, x) => s + x.length + 1, 0);
    const textFile = path.join(work, 'brown.txt');
    writeFileSync(textFile, sentences.join('\n') + '\n');
    const log = (s: string): void => void process.stderr.write(`[data] ${s}\n`);
    log(`Brown: ${docs.length} documents, ${sentences.length} sentences, ${(chars / 1e6).toFixed(2)} M chars, parsed in ${loadSeconds.toFixed(2)} s`);

    const kinds: TokenizerKind[] = ['wordpiece', 'bpe', 'unigram'];
    const training: Record<string, unknown> = {};
    const tokenizers = new Map<TokenizerKind, Tokenizer>();
    for (const kind of kinds) {
      const r = trainOurs(kind, sentences, { vocabSize: 8000 });
      tokenizers.set(kind, saveTokenizer(path.join(work, kind), r.tokenizer));
      log(`train ${kind} 8000: ${r.seconds.toFixed(2)} s (counting ${r.countSeconds.toFixed(2)} s)`);
      // Same vocabulary size as the native trainer's default, for a like-for-like time.
      const nativeDefaultVocab = kind === 'unigram' ? 8000 : 30000;
      const ours = kind === 'unigram' ? r : trainOurs(kind, sentences, { vocabSize: nativeDefaultVocab, minFrequency: 0 });
      const native = trainNative(kind, textFile);
      log(`train ${kind} ${nativeDefaultVocab}: ours ${ours.seconds.toFixed(2)} s, native defaults ${native.seconds.toFixed(2)} s`);
      training[kind] = {
        ours_vocab_8000_s: r.seconds,
        ours_counting_s: r.countSeconds,
        ours_at_native_default_vocab_s: ours.seconds,
        native_default_vocab: native.vocabSize,
        native_default_s: native.seconds,
        ours_vs_native_time_ratio: ours.seconds / native.seconds,
      };
    }

    const sharding: Record<string, unknown> = {};
    const batching: Record<string, unknown> = {};
    for (const kind of kinds) {
      const tk = tokenizers.get(kind)!;
      const s0 = performance.now();
      const set = await buildShards('brown', tk, { cacheDir: path.join(work, 'shards'), force: true });
      const dt = seconds(s0);
      sharding[kind] = { tokens: set.tokenCount, seconds: dt, tokens_per_s: set.tokenCount / dt, bytes_per_token: set.manifest.bytesPerToken };
      log(`shards ${kind}: ${set.tokenCount} tokens in ${dt.toFixed(2)} s = ${(set.tokenCount / dt / 1e3).toFixed(0)} k tokens/s`);

      // Causal-LM style: shuffled documents packed into 16 x 512 blocks.
      const loader = new BlockLoader(set, { blockSize: 512, batchSize: 16, seed: 1, separatorId: tk.specialIds.eos ?? tk.specialIds.sep ?? 0 });
      let n = 0;
      const b0 = performance.now();
      while (n < 2 * set.tokenCount) n += loader.nextBatch().inputIds.length;
      const packed = n / seconds(b0);
      // Encoder style: random documents' sentences padded into 32-row batches with masks.
      const shuf = new EpochShuffler(set.documentCount, 2);
      let m = 0;
      const p0 = performance.now();
      while (m < set.tokenCount) {
        const d = set.document(shuf.next());
        const rows: Uint32Array[] = [];
        for (let i = 0; i + 1 < d.sentenceBounds.length && rows.length < 32; i++) rows.push(d.tokens.subarray(d.sentenceBounds[i]!, d.sentenceBounds[i + 1]!));
        const b = padBatch(rows, { padId: tk.specialIds.pad ?? 0, maxLength: 128 });
        m += b.attentionMask.reduce((s, x) => s + x, 0);
      }
      const padded = m / seconds(p0);
      batching[kind] = { packed_blocks_tokens_per_s: packed, padded_sentences_tokens_per_s: padded };
      log(`batches ${kind}: packed ${(packed / 1e6).toFixed(1)} M tokens/s, padded sentences ${(padded / 1e6).toFixed(1)} M tokens/s`);
      set.close();
    }

    const engine = engineTokensPerSecond(opts.outDir);
    const slowestShard = Math.min(...kinds.map((k) => (sharding[k] as { tokens_per_s: number }).tokens_per_s));
    const slowestBatch = Math.min(...kinds.map((k) => Math.min(...Object.values(batching[k] as Record<string, number>))));
    const result: Record<string, unknown> = {
      bench: 'data',
      date: new Date().toISOString(),
      corpus: { name: 'brown', documents: docs.length, sentences: sentences.length, chars, parse_s: loadSeconds },
      machine: { cpus: os.cpus().length, node: process.version },
      tokenizer_training: training,
      sharding,
      batching,
      engine_training_tokens_per_s: engine.value,
      engine_source: engine.source,
      ratios: {
        sharding_vs_training: slowestShard / engine.value,
        batching_vs_training: slowestBatch / engine.value,
        required: REQUIRED_RATIO,
        ok: slowestShard / engine.value >= REQUIRED_RATIO && slowestBatch / engine.value >= REQUIRED_RATIO,
      },
    };
    mkdirSync(opts.outDir, { recursive: true });
    writeFileSync(path.join(opts.outDir, 'data.json'), JSON.stringify(result, null, 2) + '\n');
    log(`wrote ${path.join(opts.outDir, 'data.json')}`);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// Runnable on its own: node dist/bench/data.js
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runDataBench({ outDir: path.resolve('bench', 'results') });
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
}

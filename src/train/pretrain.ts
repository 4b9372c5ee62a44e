// Causal-LM pretraining from a TrainConfig: tokenizer (given, or trained on the corpus), token shards, a decoder
// built from a Hugging Face config, packed blocks, and the shared Trainer. The CLI's `pretrain train` calls this.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../io/files.js';
import path from 'node:path';
import type { Graph } from '../graph/index.js';
import { Ctx, initParameters } from '../nn/index.js';
import { causalLMFromHf, type CausalLMInfo } from '../models/index.js';
import { gpt2Config, gpt2ConfigToHf } from '../models/gpt2.js';
import type { Backend } from '../runtime/backend.js';
import type { Batch } from '../runtime/step.js';
import { ParameterStore } from '../runtime/store.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import type { HfConfig } from '../io/hf-config.js';
import type { JsonValue } from '../io/json.js';
import type { F32Tensor } from '../io/safetensors.js';
import { BlockLoader, buildShards, packBlocks, readCorpus, Rng, type BlockLoaderState, type DocumentSource, type TokenDocument } from '../data/index.js';
import { loadTokenizer, saveTokenizer, trainTokenizerAsync, type Tokenizer } from '../tokenizers/index.js';
import { clmBatch, randomWindows } from '../objectives/clm.js';
import { exportDecoderOnnx } from '../generate/decoder-graph.js';
import { Trainer, type BatchSource, type TrainResult } from './trainer.js';
import type { TrainConfig } from './config.js';
import { buildLlamaHf } from './llama-config.js';

/** Train and eval corpus specs: Brown has a fixed split; other corpora hold out every 50th document. */
function corpusSplits(spec: string): { train: string; eval: string; holdout: boolean } {
  if (spec === 'brown') return { train: 'brown:train', eval: 'brown:validation', holdout: false };
  return { train: spec, eval: spec, holdout: true };
}

class Subset implements DocumentSource {
  readonly documentCount: number;
  readonly tokenCount: number;
  constructor(private readonly src: DocumentSource, private readonly ids: number[]) {
    this.documentCount = ids.length;
    this.tokenCount = ids.reduce((n, i) => n + src.document(i).tokens.length, 0);
  }
  document(i: number): TokenDocument {
    return this.src.document(this.ids[i]);
  }
}

function holdout(src: DocumentSource): { train: DocumentSource; eval: DocumentSource } {
  const every = src.documentCount >= 1000 ? 50 : 10;
  const all = [...Array(src.documentCount).keys()];
  const ev = all.filter((i) => i % every === every - 1);
  if (!ev.length) return { train: src, eval: src };
  return { train: new Subset(src, all.filter((i) => i % every !== every - 1)), eval: new Subset(src, ev) };
}

export async function prepareTokenizer(cfg: TrainConfig, log: (s: string) => void): Promise<Tokenizer> {
  const dir = path.join(cfg.out, 'tokenizer');
  if (cfg.resume && existsSync(path.join(dir, 'tokenizer.json'))) return loadTokenizer(dir);
  if (cfg.tokenizer) {
    const src = cfg.tokenizer.endsWith('.json') ? path.dirname(cfg.tokenizer) : cfg.tokenizer;
    const t = loadTokenizer(src);
    return saveTokenizer(dir, { tokenizerJson: t.json, tokenizerConfig: t.config });
  }
  log(`training a byte-level BPE tokenizer (vocabulary ${cfg.vocabSize}) on ${cfg.corpus} ...`);
  const t0 = performance.now();
  const { train } = corpusSplits(cfg.corpus);
  async function* texts() {
    for await (const d of readCorpus(train)) yield d.text;
  }
  const trained = await trainTokenizerAsync('bpe', texts(), { vocabSize: cfg.vocabSize });
  log(`tokenizer trained in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${dir}`);
  return saveTokenizer(dir, trained);
}

/** The Hugging Face config for a new model of the configured size. */
export function newModelConfig(cfg: TrainConfig, tok: Tokenizer): HfConfig {
  const eos = tok.specialIds.eos ?? tok.specialIds.sep ?? tok.vocabSize - 1;
  const positions = Math.max(cfg.seqLen, 512);
  if (cfg.arch === 'gpt2')
    return gpt2ConfigToHf(gpt2Config({
      vocabSize: tok.vocabSize, nEmbd: cfg.hidden, nLayer: cfg.layers, nHead: cfg.heads, nInner: cfg.intermediate,
      nPositions: positions, dropout: cfg.dropout, bosTokenId: tok.specialIds.bos ?? eos, eosTokenId: eos,
    }));
  return buildLlamaHf(cfg, tok.vocabSize, positions, tok.specialIds.bos ?? eos, eos);
}

export function storeFor(info: CausalLMInfo, seed: number): ParameterStore {
  const store = new ParameterStore();
  const specs = info.model.parameters();
  const init = initParameters(specs, seed);
  for (const s of specs) store.set(s.name, s.shape, init.get(s.name)!);
  return store;
}

/** The store's weights under their Hugging Face names. */
export function weightsOf(store: ParameterStore): Map<string, F32Tensor> {
  return new Map(store.names().map((n) => [n, { shape: store.shapes.get(n)!, data: store.get(n) }]));
}

/** Packed blocks (HF group_texts) from documents in a seeded order per epoch. */
function packedSource(src: DocumentSource, cfg: TrainConfig, eos: number): BatchSource {
  const loader = new BlockLoader(src, { blockSize: cfg.seqLen, batchSize: cfg.batchSize, seed: cfg.seed, separatorId: eos });
  return {
    next: () => {
      const b = loader.nextBatch();
      return clmBatch(Array.from({ length: b.batchSize }, (_, r) => b.inputIds.subarray(r * b.seqLength, (r + 1) * b.seqLength)));
    },
    state: () => loader.getState() as unknown as JsonValue,
    restore: (s) => loader.setState(s as unknown as BlockLoaderState),
  };
}

/** Random windows of one token stream (documents joined by EOS), as nanoGPT's get_batch draws them. */
function windowSource(src: DocumentSource, cfg: TrainConfig, eos: number): BatchSource {
  const stream = new Uint32Array(src.tokenCount + src.documentCount);
  let n = 0;
  for (let i = 0; i < src.documentCount; i++) {
    const d = src.document(i).tokens;
    stream.set(d, n);
    n += d.length;
    stream[n++] = eos;
  }
  const rng = new Rng(cfg.seed);
  return {
    next: () => clmBatch(randomWindows(stream.subarray(0, n), cfg.seqLen, cfg.batchSize, () => rng.random())),
    state: () => rng.getState() as unknown as JsonValue,
    restore: (s) => rng.setState(s as unknown as number[]),
  };
}

export interface PretrainOptions {
  backend: Backend;
  progress?: boolean;
  log?: (s: string) => void;
  stopAfter?: number;
}

/** The resolved settings of a run, kept in its folder so that `--resume` continues with them. */
export const TRAIN_CONFIG_FILE = 'train_config.json';

export async function pretrainCausalLM(cfg: TrainConfig, o: PretrainOptions): Promise<TrainResult & { info: CausalLMInfo; tokenizer: Tokenizer }> {
  const log = o.log ?? ((s: string) => console.error(s));
  await mkdir(cfg.out, { recursive: true });
  await writeFileAtomic(path.join(cfg.out, TRAIN_CONFIG_FILE), `${JSON.stringify({ ...cfg, resume: false }, null, 2)}\n`);
  const tok = await prepareTokenizer(cfg, log);
  const splits = corpusSplits(cfg.corpus);
  let trainSrc: DocumentSource = await buildShards(splits.train, tok);
  let evalSrc: DocumentSource = splits.holdout ? trainSrc : await buildShards(splits.eval, tok);
  if (splits.holdout) ({ train: trainSrc, eval: evalSrc } = holdout(trainSrc));
  log(`corpus ${cfg.corpus}: ${trainSrc.documentCount} training documents, ${trainSrc.tokenCount} tokens; ${evalSrc.documentCount} held out`);

  let hf: HfConfig;
  if (cfg.resume) {
    // The model and the data order come from the checkpoint, whatever the flags say.
    const last = await latestCheckpoint(cfg.out);
    if (!last) throw new Error(`--resume: no checkpoint-<step> folder in ${cfg.out}`);
    const ck = await loadCheckpoint(last, { skipOptimizer: true });
    hf = ck.config;
    const seed = (ck.trainerState as { seed?: number } | undefined)?.seed;
    if (seed !== undefined && seed !== cfg.seed) {
      log(`--resume: continuing with the run's seed ${seed} (not ${cfg.seed})`);
      cfg = { ...cfg, seed };
    }
  } else hf = newModelConfig(cfg, tok);
  const info = causalLMFromHf(hf, { dropout: cfg.dropout });
  if (cfg.seqLen > info.maxPositions) throw new Error(`--seq-len ${cfg.seqLen} exceeds the model's ${info.maxPositions} positions`);
  const store = storeFor(info, cfg.seed);
  log(`model ${info.model.modelType}: ${(store.count() / 1e6).toFixed(2)} M parameters`);

  const eos = info.eosTokenId;
  const train = cfg.blocks === 'windows' ? windowSource(trainSrc, cfg, eos) : packedSource(trainSrc, cfg, eos);
  const evalBlocks = packBlocks((function* () {
    for (let i = 0; i < evalSrc.documentCount; i++) yield evalSrc.document(i).tokens;
  })(), cfg.seqLen, eos).slice(0, cfg.evalBatches * cfg.batchSize);
  const evalBatches: Batch[] = [];
  for (let i = 0; i + cfg.batchSize <= evalBlocks.length; i += cfg.batchSize) evalBatches.push(clmBatch(evalBlocks.slice(i, i + cfg.batchSize)));
  if (!evalBatches.length) log(`warning: the held-out documents do not fill one batch of ${cfg.batchSize}x${cfg.seqLen} tokens; evaluation is skipped`);

  const { model } = info;
  const inputs = (g: Graph) => [g.input('input_ids', 'int64', [cfg.batchSize, cfg.seqLen]), g.input('labels', 'int64', [cfg.batchSize, cfg.seqLen])] as const;
  const tokDir = path.join(cfg.out, 'tokenizer');
  const trainer = new Trainer(o.backend, store, {
    trainLoss: (g) => model.loss(new Ctx(g, true, cfg.dropout), ...inputs(g)),
    evalLoss: (g) => model.loss(new Ctx(g, false), ...inputs(g)),
    train,
    evalBatches: () => evalBatches,
    tokensPerMicroBatch: cfg.batchSize * cfg.seqLen,
    // The final checkpoint also carries onnx/model.onnx (with a KV cache), which transformers.js loads as is.
    save: (dir, resume, final) =>
      saveCheckpoint(dir, {
        config: info.hf, weights: weightsOf(store), tokenizer: { dir: tokDir }, generationConfig: true, ...resume,
        extraFiles: final ? { 'onnx/model.onnx': exportDecoderOnnx(model, store) } : undefined,
      }),
  }, {
    outDir: cfg.out, maxSteps: cfg.maxSteps, gradAccum: cfg.gradAccum, lr: cfg.lr, warmup: cfg.warmup, decay: cfg.decay,
    minLrRatio: cfg.minLrRatio, gradClip: cfg.gradClip, evalEvery: cfg.evalEvery, saveEvery: cfg.saveEvery,
    keepLast: cfg.keepLast, seed: cfg.seed, resume: !!cfg.resume, progress: o.progress, stopAfter: o.stopAfter,
    optimizer: { kind: 'adamw', beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay },
  });
  const result = await trainer.run();
  return { ...result, info, tokenizer: tok };
}

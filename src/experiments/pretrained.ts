// Step 1 of the paradigm for the experiment: one pretraining per variant (family x objective), resumable, and the
// domain check of its model: perplexity on the task's held-out texts beside perplexity on its own held-out
// pretraining text, and the tokenizer's pieces per word on both.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ctx } from '../nn/index.js';
import { getModel } from '../models/registry.js';
import { getObjective, objectiveHeads } from '../objectives/objective.js';
import type { Backend } from '../runtime/backend.js';
import { storeFromWeights, type ParameterStore } from '../runtime/store.js';
import { latestCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/files.js';
import type { HfConfig } from '../io/hf-config.js';
import { readCorpus, type DocumentSource, type TokenDocument } from '../data/index.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { corpusDocuments, objectiveOptions, pretrain, pretrainingGraph } from '../train/pretrain.js';
import { compileEval, evaluateBatches } from '../train/trainer.js';
import type { FinetuneBase } from '../train/finetune.js';
import type { TrainConfig } from '../train/config.js';
import { pretrainConfig, type ExperimentSettings, type Variant } from './design.js';

/** A finished pretraining: what fine-tuning starts from, and its held-out numbers. */
export interface Pretrained {
  variant: Variant;
  cfg: TrainConfig;
  base: FinetuneBase;
  dir: string;
  steps: number;
  evalLoss?: number;
  perplexity?: number;
}

const DONE_FILE = 'experiment_done.json';

/**
 * Pretrains a variant into <out>/pretrain/<id>, or loads it when finished; an interrupted pretraining resumes from
 * its newest checkpoint. Undefined when `signal` stopped it.
 */
export async function pretrainVariant(s: ExperimentSettings, v: Variant, out: string,
  o: { backend: Backend; signal?: AbortSignal; log: (s: string) => void }): Promise<Pretrained | undefined> {
  const dir = path.join(out, 'pretrain', v.id);
  const done = path.join(dir, DONE_FILE);
  if (existsSync(done)) {
    const d = JSON.parse(await readFile(done, 'utf8')) as { finalDir: string; steps: number; evalLoss?: number; perplexity?: number };
    // Saved relative to the pretraining folder, so the experiment folder may move.
    d.finalDir = path.join(dir, d.finalDir);
    const ck = await loadCheckpoint(d.finalDir, { skipOptimizer: true });
    const cfg = pretrainConfig(s, v, dir, false);
    const store = storeOf(ck.config, v, ck.weights, d.finalDir);
    return { variant: v, cfg, base: { hf: ck.config, store, tokenizer: loadTokenizer(d.finalDir), tokenizerDir: d.finalDir }, dir: d.finalDir, steps: d.steps, evalLoss: d.evalLoss, perplexity: d.perplexity };
  }
  const resume = (await latestCheckpoint(dir)) !== undefined;
  const cfg = pretrainConfig(s, v, dir, resume);
  o.log(`${resume ? 'resuming' : 'pretraining'} ${v.id} (${v.description}): ${cfg.maxSteps} steps of ${cfg.batchSize}x${cfg.seqLen} tokens`);
  const r = await pretrain(cfg, { backend: o.backend, progress: false, signal: o.signal, log: () => {} });
  if (r.stoppedBy === 'interrupt') return undefined;
  if (r.stoppedBy !== 'done' || !r.finalDir) throw new Error(`pretraining ${v.id} stopped (${r.stoppedBy})`);
  const summary = { finalDir: r.finalDir, steps: r.step, evalLoss: r.lastEval?.loss, perplexity: r.lastEval?.perplexity };
  await writeFileAtomic(done, `${JSON.stringify({ ...summary, finalDir: path.relative(dir, r.finalDir) }, null, 2)}\n`);
  return { variant: v, cfg, base: { hf: r.hf, store: r.store, tokenizer: r.tokenizer, tokenizerDir: r.finalDir }, dir: r.finalDir, steps: r.step, evalLoss: summary.evalLoss, perplexity: summary.perplexity };
}

/** The pretraining model (body and objective heads) of a variant with a checkpoint's weights. */
function storeOf(hf: HfConfig, v: Variant, weights: Parameters<typeof storeFromWeights>[1], source: string): ParameterStore {
  const entry = getModel(v.family);
  const model = entry.build(hf, { dropout: 0, heads: objectiveHeads(getObjective(v.objective), entry.family) });
  return storeFromWeights(model.parameters(), weights, source);
}

/** Texts as one-sentence token documents, for an objective's evaluation batches. */
async function textDocuments(texts: string[], tok: Tokenizer): Promise<DocumentSource> {
  const docs: TokenDocument[] = (await tok.encodeIdsBatch(texts)).filter((ids) => ids.length > 0)
    .map((ids) => ({ tokens: Uint32Array.from(ids), sentenceBounds: Uint32Array.from([0, ids.length]) }));
  return { documentCount: docs.length, tokenCount: docs.reduce((n, d) => n + d.tokens.length, 0), document: (i) => docs[i]! };
}

/** Tokenizer pieces per whitespace-separated word. */
async function piecesPerWord(texts: string[], tok: Tokenizer): Promise<number> {
  const words = texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
  const pieces = (await tok.encodeIdsBatch(texts)).reduce((n, e) => n + e.length, 0);
  return pieces / Math.max(1, words);
}

/** The domain check of one pretrained model on one task's texts. */
export interface DomainCheck {
  variant: string;
  task: string;
  /** The objective's held-out perplexity (BERT: of the masked tokens; T5: of the targets). */
  pretrainPerplexity: number;
  taskPerplexity: number;
  pretrainPiecesPerWord: number;
  taskPiecesPerWord: number;
  /** The rule: perplexity more than twice, or pieces per word more than 1.3 times, the pretraining text's. */
  far: boolean;
}

export const FAR_PERPLEXITY_RATIO = 2;
export const FAR_PIECES_RATIO = 1.3;

export async function domainCheck(p: Pretrained, task: string, texts: string[], backend: Backend): Promise<DomainCheck> {
  const tok = p.base.tokenizer;
  const entry = getModel(p.variant.family);
  const objective = getObjective(p.variant.objective);
  const opts = objectiveOptions(p.cfg);
  const model = entry.build(p.base.hf, { dropout: 0, heads: objectiveHeads(objective, entry.family) });
  const fwd = await compileEval(backend, (g) => pretrainingGraph(g, model, objective, opts, new Ctx(g, false)), p.base.store!);
  const batches = p.cfg.evalBatches;
  const perplexity = async (docs: DocumentSource) => {
    const b = objective.evalBatches(docs, tok, opts, batches);
    return b.length ? (await evaluateBatches(fwd, b)).perplexity : NaN;
  };
  const held = (await corpusDocuments(p.cfg.corpus, tok)).eval;
  const pretrainTexts: string[] = [];
  const spec = p.cfg.corpus === 'brown' ? 'brown:validation' : p.cfg.corpus;
  for await (const d of readCorpus(spec)) if (pretrainTexts.push(d.text) >= 500) break;
  const check = {
    variant: p.variant.id, task,
    pretrainPerplexity: await perplexity(held), taskPerplexity: await perplexity(await textDocuments(texts, tok)),
    pretrainPiecesPerWord: await piecesPerWord(pretrainTexts, tok), taskPiecesPerWord: await piecesPerWord(texts, tok),
  };
  const far = check.taskPerplexity > FAR_PERPLEXITY_RATIO * check.pretrainPerplexity || check.taskPiecesPerWord > FAR_PIECES_RATIO * check.pretrainPiecesPerWord;
  return { ...check, far };
}

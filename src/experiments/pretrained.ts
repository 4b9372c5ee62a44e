// Step 1 of the paradigm for the experiment: one pretraining per variant (family x objective), resumable, and the
// domain check of its model (src/train/domain.ts) on each task's held-out texts.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getModel } from '../models/registry.js';
import { getObjective, objectiveHeads } from '../objectives/objective.js';
import type { Backend } from '../runtime/backend.js';
import { storeFromWeights, type ParameterStore } from '../runtime/store.js';
import { latestCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/files.js';
import type { HfConfig } from '../io/hf-config.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { pretrain } from '../train/pretrain.js';
import { domainCheck as checkDomain, type DomainCheck } from '../train/domain.js';
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

/** What a finished pretraining leaves in <out>/pretrain/<id>/experiment_done.json. */
export interface PretrainingDone {
  /** Its final checkpoint, relative to the pretraining folder (so the experiment folder may move). */
  finalDir: string;
  steps: number;
  evalLoss?: number;
  perplexity?: number;
}

/** A variant's finished pretraining, or undefined when it has not finished. */
export async function finishedPretraining(out: string, id: string): Promise<PretrainingDone | undefined> {
  const done = path.join(out, 'pretrain', id, DONE_FILE);
  return existsSync(done) ? (JSON.parse(await readFile(done, 'utf8')) as PretrainingDone) : undefined;
}

/**
 * Pretrains a variant into <out>/pretrain/<id>, or loads it when finished; an interrupted pretraining resumes from
 * its newest checkpoint. Undefined when `signal` stopped it.
 */
export async function pretrainVariant(s: ExperimentSettings, v: Variant, out: string,
  o: { backend: Backend; signal?: AbortSignal; log: (s: string) => void }): Promise<Pretrained | undefined> {
  const dir = path.join(out, 'pretrain', v.id);
  const done = path.join(dir, DONE_FILE);
  const d = await finishedPretraining(out, v.id);
  if (d) {
    const finalDir = path.join(dir, d.finalDir);
    const ck = await loadCheckpoint(finalDir, { skipOptimizer: true });
    const cfg = pretrainConfig(s, v, dir, false);
    const store = storeOf(ck.config, v, ck.weights, finalDir);
    return { variant: v, cfg, base: { hf: ck.config, store, tokenizer: loadTokenizer(finalDir), tokenizerDir: finalDir }, dir: finalDir, steps: d.steps, evalLoss: d.evalLoss, perplexity: d.perplexity };
  }
  const resume = (await latestCheckpoint(dir)) !== undefined;
  const cfg = pretrainConfig(s, v, dir, resume);
  o.log(`${resume ? 'resuming' : 'pretraining'} ${v.id} (${v.description}): ${cfg.maxSteps} steps of ${cfg.batchSize}x${cfg.seqLen} tokens`);
  const r = await pretrain(cfg, { backend: o.backend, progress: false, signal: o.signal, log: () => {} });
  if (r.stoppedBy === 'interrupt') return undefined;
  if (r.stoppedBy !== 'done' || !r.finalDir) throw new Error(`pretraining ${v.id} stopped (${r.stoppedBy})`);
  const summary = { finalDir: r.finalDir, steps: r.step, evalLoss: r.lastEval?.loss, perplexity: r.lastEval?.perplexity };
  await writeFileAtomic(done, `${JSON.stringify({ ...summary, finalDir: path.relative(dir, r.finalDir) } satisfies PretrainingDone, null, 2)}\n`);
  o.log(`pretrained ${v.id}: ${r.step} steps, held-out perplexity ${summary.perplexity?.toFixed(1)}`);
  return { variant: v, cfg, base: { hf: r.hf, store: r.store, tokenizer: r.tokenizer, tokenizerDir: r.finalDir }, dir: r.finalDir, steps: r.step, evalLoss: summary.evalLoss, perplexity: summary.perplexity };
}

/** The pretraining model (body and objective heads) of a variant with a checkpoint's weights. */
function storeOf(hf: HfConfig, v: Variant, weights: Parameters<typeof storeFromWeights>[1], source: string): ParameterStore {
  const entry = getModel(v.family);
  const model = entry.build(hf, { dropout: 0, heads: objectiveHeads(getObjective(v.objective), entry.family) });
  return storeFromWeights(model.parameters(), weights, source);
}

/** The domain check of a pretrained variant on one task's texts (src/train/domain.ts). */
export function domainCheck(p: Pretrained, task: string, texts: string[], backend: Backend): Promise<DomainCheck> {
  return checkDomain({ name: p.variant.id, hf: p.base.hf, store: p.base.store!, tokenizer: p.base.tokenizer, cfg: p.cfg }, task, texts, backend);
}

// `pretrain eval`: the loss and metrics of a saved model on held-out text, with the objective it was pretrained
// with (or --objective): perplexity for decoders; masked-token accuracy and perplexity over the masked positions
// (and NSP accuracy) for encoders, on a fixed seeded masking so that two evaluations agree.
import { Ctx } from '../nn/index.js';
import { buildShards } from '../data/index.js';
import { getObjective } from '../objectives/objective.js';
import { nodeBackend } from '../runtime/node.js';
import { loadPretrained } from '../train/load.js';
import { objectiveOptions, pretrainingGraph } from '../train/pretrain-setup.js';
import { compileEval, evaluateBatches, formatEval } from '../train/trainer.js';
import { resolveConfig } from './config.js';
import { intArg } from './args.js';

export interface EvalFlags {
  model: string;
  corpus: string;
  seqLen: string;
  batchSize: string;
  maxBatches: string;
  objective?: string;
  seed: string;
  json: boolean;
}

export async function evalCommand(o: EvalFlags): Promise<void> {
  const seqLen = intArg('--seq-len', o.seqLen);
  const batchSize = intArg('--batch-size', o.batchSize);
  const maxBatches = intArg('--max-batches', o.maxBatches, 0);
  const m = await loadPretrained(o.model, { objective: o.objective });
  const positions = (m.hf as { n_positions?: number; max_position_embeddings?: number }).n_positions ?? (m.hf as { max_position_embeddings?: number }).max_position_embeddings;
  if (positions !== undefined && seqLen > positions) throw new Error(`--seq-len ${seqLen} exceeds the model's ${positions} positions`);
  const objective = getObjective(m.objective);
  // The objective's options at their defaults, with this command's sizes and seed.
  const cfg = resolveConfig(undefined, { arch: m.hf.model_type, objective: m.objective, seqLen, batchSize, seed: intArg('--seed', o.seed, 0) });
  const opts = objectiveOptions(cfg);
  const docs = await buildShards(o.corpus, m.tokenizer);
  const batches = objective.evalBatches(docs, m.tokenizer, opts, maxBatches === 0 ? Number.MAX_SAFE_INTEGER : maxBatches);
  if (batches.length === 0) throw new Error(`corpus ${o.corpus} gives no batch of ${batchSize}x${seqLen} tokens (try a smaller --batch-size or --seq-len)`);
  const fwd = await compileEval(nodeBackend, (g) => pretrainingGraph(g, m.model, objective, opts, new Ctx(g, false)), m.store);
  const r = await evaluateBatches(fwd, batches);
  const result = { model: m.dir, corpus: o.corpus, objective: m.objective, batches: batches.length, tokens: batches.length * batchSize * seqLen, loss: r.loss, perplexity: r.perplexity, ...r.metrics };
  if (o.json) console.log(JSON.stringify(result));
  else console.log(`${o.corpus}: ${formatEval(r)} over ${batches.length} batches of ${batchSize}x${seqLen} tokens (${m.objective}; ${m.dir})`);
}

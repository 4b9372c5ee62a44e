// `pretrain eval`: mean causal-LM loss and perplexity over packed blocks of a corpus.
import { Ctx } from '../nn/index.js';
import { buildShards, packBlocks } from '../data/index.js';
import { clmBatch } from '../objectives/clm.js';
import { Forward } from '../runtime/step.js';
import { nodeBackend } from '../runtime/node.js';
import { loadDecoder } from './load.js';
import { intArg } from './args.js';

export async function evalCommand(o: { model: string; corpus: string; seqLen: string; batchSize: string; maxBatches: string; json: boolean }): Promise<void> {
  const seqLen = intArg('--seq-len', o.seqLen);
  const batchSize = intArg('--batch-size', o.batchSize);
  const maxBatches = intArg('--max-batches', o.maxBatches, 0);
  const m = await loadDecoder(o.model);
  if (seqLen > m.maxPositions) throw new Error(`--seq-len ${seqLen} exceeds the model's ${m.maxPositions} positions`);
  const shards = await buildShards(o.corpus, m.tokenizer);
  const blocks = packBlocks((function* () {
    for (const d of shards.documents()) yield d.tokens;
  })(), seqLen, m.eosTokenId);
  const fwd = await Forward.compile(nodeBackend, (g) => ({
    loss: m.model.loss(new Ctx(g), g.input('input_ids', 'int64', ['batch', seqLen]), g.input('labels', 'int64', ['batch', seqLen])),
  }), m.store, 'eval');
  let sum = 0;
  let n = 0;
  for (let i = 0; i < blocks.length && (maxBatches === 0 || n < maxBatches); i += batchSize) {
    sum += Number((await fwd.run(clmBatch(blocks.slice(i, i + batchSize)))).loss.data[0]);
    n++;
  }
  if (n === 0) throw new Error(`corpus ${o.corpus} gives no block of ${seqLen} tokens`);
  const loss = sum / n;
  const result = { model: m.dir, corpus: o.corpus, batches: n, tokens: n * batchSize * seqLen, loss, perplexity: Math.exp(loss) };
  if (o.json) console.log(JSON.stringify(result));
  else console.log(`${o.corpus}: loss ${loss.toFixed(4)}, perplexity ${result.perplexity.toFixed(2)} over ${n} batches of ${batchSize}x${seqLen} tokens (${m.dir})`);
}

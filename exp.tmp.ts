import { nodeBackend } from './src/runtime/node.js';
import { loadDecoder } from './src/cli/load.js';
import { brownGenreData, finetuneClassifier, limitPerLabel, type ClassificationData } from './src/train/finetune.js';
const base = await loadDecoder(process.env.CK ?? '/tmp/demo1/pretrain/checkpoint-900');
const COARSE: Record<string, string> = { news: 'press', editorial: 'press', reviews: 'press', religion: 'general', hobbies: 'general', lore: 'general', belles_lettres: 'general', government: 'learned', learned: 'learned' };
const coarse = (d: ClassificationData): ClassificationData => {
  const m = (x: { text: string; label: string }) => ({ text: x.text, label: COARSE[x.label] ?? 'fiction' });
  return { labels: ['fiction', 'general', 'learned', 'press'], train: d.train.map(m), eval: d.eval.map(m) };
};
const [variant, sentences, maxLen, perLabel, epochs, lr] = process.argv.slice(2);
let data = brownGenreData({ sentences: Number(sentences) });
if (variant === 'coarse') data = coarse(data);
data = { ...data, train: limitPerLabel(data.train, Number(perLabel), 0) };
for (const scratch of [false, true]) {
  const t0 = Date.now();
  const r = await finetuneClassifier({ backend: nodeBackend, base: { hf: base.hf, store: base.store, tokenizer: base.tokenizer, tokenizerDir: base.dir }, scratch, data, out: `/tmp/exp-${scratch}`, maxLen: Number(maxLen), batchSize: 16, epochs: Number(epochs), lr: Number(lr), warmupFraction: 0.1, weightDecay: 0.01, gradClip: 1, auxLm: 0, dropout: 0.1, seed: 0, progress: false });
  console.log(process.argv.slice(2).join(' '), scratch ? 'scratch   ' : 'pretrained', (100 * r.accuracy).toFixed(1), (100 * r.macroF1).toFixed(1), `${r.steps} steps`, `${(Date.now() - t0) / 1000}s`, `eval n=${r.evalExamples}`);
}

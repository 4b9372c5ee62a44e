// `pretrain fill-mask`: the top-k candidates for each mask token of a text, from a saved encoder.
import type { Command } from 'commander';
import { fillMask } from '../generate/fill-mask.js';
import type { MaskedLM } from '../generate/encoder-graph.js';
import { nodeBackend } from '../runtime/node.js';
import { loadPretrained } from '../train/load.js';
import { intArg } from './args.js';

export function registerFillMaskCommand(program: Command, fail: (e: unknown) => never): void {
  program
    .command('fill-mask')
    .description("predict the tokens behind the mask tokens of a text with a masked-LM encoder (bert, roberta), as Hugging Face's fill-mask pipeline")
    .requiredOption('--model <dir>', 'checkpoint folder, or a run folder')
    .option('--top-k <n>', 'candidates per mask', '5')
    .option('--json', 'print {"input_ids": [...], "predictions": [[{score, token, token_str, sequence}, ...] per mask]}', false)
    .argument('<text...>', "the text, with the tokenizer's mask token ([MASK] for WordPiece, <mask> for RoBERTa's BPE)")
    .action(async (words: string[], f: { model: string; topK: string; json: boolean }) => {
      try {
        const text = words.join(' ');
        const topK = intArg('--top-k', f.topK);
        const m = await loadPretrained(f.model);
        if (m.entry.family !== 'encoder') throw new Error(`--model ${m.dir}: fill-mask needs a masked-LM encoder (bert, roberta), not a ${m.hf.model_type} model`);
        const predictions = await fillMask(nodeBackend, m.model as unknown as MaskedLM, m.store, m.tokenizer, text, { topK });
        if (f.json) {
          const { ids } = await m.tokenizer.encode(text);
          console.log(JSON.stringify({ input_ids: ids, predictions }));
          return;
        }
        predictions.forEach((cands, i) => {
          if (predictions.length > 1) console.log(`mask ${i + 1}:`);
          for (const c of cands) console.log(`  ${(100 * c.score).toFixed(1).padStart(5)}%  ${c.token_str.padEnd(14)} ${c.sequence}`);
        });
      } catch (e) {
        fail(e);
      }
    });
}

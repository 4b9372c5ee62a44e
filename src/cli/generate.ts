// `pretrain generate`: sample from a trained decoder through the KV cache, streaming tokens to the terminal.
import type { Command } from 'commander';
import { Generator, textStreamer } from '../generate/generate.js';
import { nodeBackend } from '../runtime/node.js';
import { syncDecoder } from '../tokenizers/index.js';
import { intArg, numberArg } from './args.js';
import { loadDecoder } from './load.js';

interface GenerateFlags {
  model: string;
  prompt: string;
  maxNewTokens: string;
  greedy: boolean;
  temperature: string;
  topK: string;
  topP: string;
  repetitionPenalty: string;
  seed?: string;
  numSamples: string;
  stop?: string[];
  json: boolean;
}

export function registerGenerateCommand(program: Command, fail: (e: unknown) => never): void {
  program
    .command('generate')
    .description('generate text from a trained decoder (KV cache; greedy or sampled)')
    .requiredOption('--model <dir>', 'checkpoint folder, or a run folder (its newest checkpoint)')
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--max-new-tokens <n>', 'tokens to generate', '50')
    .option('--greedy', 'always take the most likely token (ignores temperature, top-k, top-p)', false)
    .option('--temperature <x>', 'divide logits by this before sampling', '1')
    .option('--top-k <n>', 'sample among the k most likely tokens (0 = off)', '50')
    .option('--top-p <x>', 'sample from the smallest set with probability >= p (1 = off)', '1')
    .option('--repetition-penalty <x>', 'penalise tokens already present (1 = off; CTRL uses 1.2)', '1')
    .option('--seed <n>', 'seed for reproducible sampling (default: random; printed with --json)')
    .option('--num-samples <n>', 'independent samples of the prompt', '1')
    .option('--stop <text...>', 'stop a sample when its new text contains this')
    .option('--json', 'print one JSON object (prompt ids, generated ids, texts) instead of streaming', false)
    .action(async (f: GenerateFlags) => {
      try {
        // Flags first, so a bad value fails before anything is loaded or printed.
        const numSamples = intArg('--num-samples', f.numSamples, 1);
        const sampling = {
          maxNewTokens: intArg('--max-new-tokens', f.maxNewTokens, 1),
          doSample: !f.greedy,
          temperature: numberArg('--temperature', f.temperature, 0),
          topK: intArg('--top-k', f.topK, 0),
          topP: numberArg('--top-p', f.topP, 0),
          repetitionPenalty: numberArg('--repetition-penalty', f.repetitionPenalty, 0),
          seed: f.seed === undefined ? undefined : intArg('--seed', f.seed, 0),
          numSamples,
          stopStrings: f.stop,
        };
        // The library's own checks name its fields (doSample, topP); these name the flags.
        if (sampling.doSample && !(sampling.temperature > 0))
          throw new Error(`--temperature must be > 0 when sampling, got "${f.temperature}" (use --greedy for the most likely token)`);
        if (!(sampling.topP > 0 && sampling.topP <= 1)) throw new Error(`--top-p must be in (0, 1] (1 = off), got "${f.topP}"`);
        if (!(sampling.repetitionPenalty > 0)) throw new Error(`--repetition-penalty must be > 0 (1 = off), got "${f.repetitionPenalty}"`);
        const m = await loadDecoder(f.model);
        const decode = syncDecoder(m.tokenizer);
        const promptIds = (await m.tokenizer.encodeIdsBatch([f.prompt]))[0];
        if (!promptIds.length) throw new Error('--prompt encodes to no tokens');
        // Check the length before anything is printed (the prompt is streamed first).
        if (m.maxPositions !== undefined && promptIds.length + sampling.maxNewTokens > m.maxPositions)
          throw new Error(`--max-new-tokens ${sampling.maxNewTokens}: the ${promptIds.length}-token prompt plus ${sampling.maxNewTokens} new tokens exceeds the model's ` +
            `${m.maxPositions} positions (at most ${Math.max(0, m.maxPositions - promptIds.length)} here)`);
        const gen = await Generator.create(nodeBackend, m.model, m.store, { weights: 'baked', maxPositions: m.maxPositions });
        const streaming = !f.json && numSamples === 1;
        if (streaming) process.stdout.write(f.prompt);
        const r = await gen.generate(promptIds, {
          ...sampling,
          eosTokenId: m.eosTokenId,
          decode,
          onToken: streaming ? textStreamer(decode, (s) => process.stdout.write(s)) : undefined,
        });
        if (streaming) process.stdout.write('\n');
        const texts = r.sequences.map((s) => decode(s.tokens));
        if (f.json)
          console.log(JSON.stringify({
            prompt: f.prompt, prompt_ids: promptIds, seed: r.seed,
            samples: r.sequences.map((s, i) => ({ ids: s.tokens, text: texts[i], finish_reason: s.finishReason })),
          }));
        else if (!streaming) texts.forEach((t, i) => console.log(`--- sample ${i + 1}\n${f.prompt}${t}`));
      } catch (e) {
        fail(e);
      }
    });
}

// `pretrain generate`: text from a trained decoder (continuing --prompt) or encoder-decoder (from --input), greedy,
// sampled or by beam search. The model's registry family picks the generator; the CLI knows no model by name.
import type { Command } from 'commander';
import { Generator, textStreamer } from '../generate/generate.js';
import { Seq2SeqGenerator } from '../generate/seq2seq.js';
import { nodeBackend } from '../runtime/node.js';
import { syncDecoder } from '../tokenizers/index.js';
import { intArg, numberArg } from './args.js';
import { loadDecoder, loadSeq2Seq, modelFamilyOf } from './load.js';

interface GenerateFlags {
  model: string;
  prompt?: string;
  input?: string;
  maxNewTokens: string;
  greedy: boolean;
  temperature: string;
  topK: string;
  topP: string;
  repetitionPenalty: string;
  seed?: string;
  numSamples: string;
  numBeams: string;
  lengthPenalty: string;
  earlyStopping: string;
  stop?: string[];
  json: boolean;
}

/** What `--json` prints, for every family. */
interface GenerateJson {
  prompt: string;
  prompt_ids: number[];
  seed?: number;
  samples: { ids: number[]; text: string; finish_reason: string; score?: number }[];
}

export function registerGenerateCommand(program: Command, fail: (e: unknown) => never): void {
  program
    .command('generate')
    .description('generate text from a trained decoder (continues --prompt) or encoder-decoder such as T5 (from --input): greedy, sampled or beam search')
    .requiredOption('--model <dir>', 'checkpoint folder, or a run folder (its newest checkpoint)')
    .option('--prompt <text>', 'the text to continue (decoders) or the encoder input (encoder-decoders)')
    .option('--input <text>', 'the same as --prompt (the usual name for an encoder-decoder\'s input)')
    .option('--max-new-tokens <n>', 'tokens to generate', '50')
    .option('--greedy', 'always take the most likely token (ignores temperature, top-k, top-p)', false)
    .option('--temperature <x>', 'divide logits by this before sampling', '1')
    .option('--top-k <n>', 'sample among the k most likely tokens (0 = off)', '50')
    .option('--top-p <x>', 'sample from the smallest set with probability >= p (1 = off)', '1')
    .option('--repetition-penalty <x>', 'penalise tokens already present (1 = off; CTRL uses 1.2)', '1')
    .option('--seed <n>', 'seed for reproducible sampling (default: random; printed with --json)')
    .option('--num-samples <n>', 'independent samples of the prompt', '1')
    .option('--num-beams <n>', 'beam search with this many beams (1 = off); deterministic, as HF generate(num_beams=n)', '1')
    .option('--length-penalty <x>', 'beam search: a hypothesis scores sum(log p) / length ** x (> 0 favours longer ones)', '1')
    .option('--early-stopping <when>', 'beam search: true (stop at num-beams finished hypotheses), false (HF\'s heuristic) or never (exact)', 'false')
    .option('--stop <text...>', 'stop a sample when its new text contains this (decoders, without beam search)')
    .option('--json', 'print one JSON object (prompt ids, generated ids, texts) instead of streaming', false)
    .action(async (f: GenerateFlags) => {
      try {
        // Flags first, so a bad value fails before anything is loaded or printed.
        if (f.prompt !== undefined && f.input !== undefined) throw new Error('give --prompt or --input, not both');
        const text = f.prompt ?? f.input;
        if (text === undefined) throw new Error('--prompt (or --input) is required: the text to continue, or the encoder input');
        const numSamples = intArg('--num-samples', f.numSamples, 1);
        const numBeams = intArg('--num-beams', f.numBeams, 1);
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
        const lengthPenalty = Number(f.lengthPenalty);
        if (f.lengthPenalty.trim() === '' || !Number.isFinite(lengthPenalty)) throw new Error(`--length-penalty must be a number, got "${f.lengthPenalty}"`);
        const earlyStopping = ({ true: true, false: false, never: 'never' } as const)[f.earlyStopping as 'true' | 'false' | 'never'];
        if (earlyStopping === undefined) throw new Error(`--early-stopping must be true, false or never, got "${f.earlyStopping}"`);
        if (numBeams > 1) {
          if (numSamples > 1) throw new Error('--num-samples > 1 is for sampling; beam search returns its best beam (use --num-beams alone)');
          if (sampling.repetitionPenalty !== 1) throw new Error('--repetition-penalty is not supported with beam search');
          if (f.stop?.length) throw new Error('--stop is not supported with beam search');
        }
        const beam = { numBeams, maxNewTokens: sampling.maxNewTokens, lengthPenalty, earlyStopping };

        const { family, modelType } = await modelFamilyOf(f.model);
        let out: GenerateJson;
        switch (family) {
          case 'decoder': {
            const m = await loadDecoder(f.model);
            const decode = syncDecoder(m.tokenizer);
            const promptIds = (await m.tokenizer.encodeIdsBatch([text]))[0];
            if (!promptIds.length) throw new Error('--prompt encodes to no tokens');
            // Check the length before anything is printed (the prompt is streamed first).
            if (m.maxPositions !== undefined && promptIds.length + sampling.maxNewTokens > m.maxPositions)
              throw new Error(`--max-new-tokens ${sampling.maxNewTokens}: the ${promptIds.length}-token prompt plus ${sampling.maxNewTokens} new tokens exceeds the model's ` +
                `${m.maxPositions} positions (at most ${Math.max(0, m.maxPositions - promptIds.length)} here)`);
            const gen = await Generator.create(nodeBackend, m.model, m.store, { weights: 'baked', maxPositions: m.maxPositions });
            if (numBeams > 1) {
              const r = await gen.beamSearch(promptIds, { ...beam, eosTokenId: m.eosTokenId, decode });
              out = { prompt: text, prompt_ids: promptIds, samples: r.sequences.map((s) => ({ ids: s.tokens, text: s.text ?? '', finish_reason: s.finishReason, score: s.score })) };
              if (!f.json) console.log(`${text}${out.samples[0].text}`);
              break;
            }
            const streaming = !f.json && numSamples === 1;
            if (streaming) process.stdout.write(text);
            const r = await gen.generate(promptIds, {
              ...sampling, eosTokenId: m.eosTokenId, decode,
              onToken: streaming ? textStreamer(decode, (s) => process.stdout.write(s)) : undefined,
            });
            if (streaming) process.stdout.write('\n');
            out = {
              prompt: text, prompt_ids: promptIds, seed: r.seed,
              samples: r.sequences.map((s) => ({ ids: s.tokens, text: decode(s.tokens), finish_reason: s.finishReason })),
            };
            if (!f.json && !streaming) out.samples.forEach((s, i) => console.log(`--- sample ${i + 1}\n${text}${s.text}`));
            break;
          }
          case 'encoder-decoder': {
            if (f.stop?.length) throw new Error('--stop is for decoders; an encoder-decoder stops at EOS or --max-new-tokens');
            const m = await loadSeq2Seq(f.model);
            const decode = syncDecoder(m.tokenizer);
            // With the tokenizer's special tokens: T5's appends </s>, as HF's tokenizer(text) does.
            const inputIds = (await m.tokenizer.encode(text)).ids;
            if (!inputIds.length) throw new Error('--input encodes to no tokens');
            const gen = await Seq2SeqGenerator.create(nodeBackend, m.model, m.store);
            const ids = { decoderStartTokenId: m.decoderStartTokenId, eosTokenId: m.eosTokenId, padTokenId: m.padTokenId };
            if (numBeams > 1) {
              const r = await gen.beamSearch(inputIds, { ...beam, ...ids });
              out = { prompt: text, prompt_ids: inputIds, samples: r.tokens.map((t, i) => ({ ids: t, text: decode(t), finish_reason: r.finishReason[i], score: r.scores[i] })) };
            } else {
              const seed = sampling.seed ?? Math.floor(Math.random() * 2 ** 32);
              // Several samples of one input: the same input in several rows, each row drawing from its own stream.
              const r = await gen.generate(Array.from({ length: numSamples }, () => inputIds), { ...sampling, ...ids, seed });
              out = { prompt: text, prompt_ids: inputIds, seed, samples: r.tokens.map((t, i) => ({ ids: t, text: decode(t), finish_reason: r.finishReason[i] })) };
            }
            if (!f.json) out.samples.forEach((s, i) => console.log(out.samples.length > 1 ? `--- sample ${i + 1}\n${s.text}` : s.text));
            break;
          }
          default:
            throw new Error(`--model: a ${modelType} model (${family}) does not generate text; for a masked LM try \`pretrain fill-mask\``);
        }
        if (f.json) console.log(JSON.stringify(out));
      } catch (e) {
        fail(e);
      }
    });
}

// Generation speed: greedy tokens/s of a 4-layer, 256-wide GPT-2 (random init, vocabulary 8192) from a 16-token
// prompt, batch 1, through the KV cache (parameters fed from the store, or baked into the graph) and without it
// (every step re-reads the whole sequence).
import { initParameters } from '../src/nn/index.js';
import { Gpt2LMHeadModel, gpt2Config } from '../src/models/gpt2.js';
import { availableCores, nodeBackend } from '../src/runtime/node.js';
import { ParameterStore } from '../src/runtime/store.js';
import { Generator, type GeneratorOptions } from '../src/generate/generate.js';
import { peakRssMib, writeResult } from './common.js';

const LAYERS = 4;
const HIDDEN = 256;
const HEADS = 4;
const VOCAB = 8192;
const PROMPT = 16;
const REPEATS = 3;

interface Figures {
  tokens_per_s: number;
  /** Mean time per new token after the first (one model run each). */
  ms_per_token: number;
  /** The first run: the whole prompt. */
  prefill_ms: number;
  total_ms: number;
  compile_s: number;
}

export async function runGenerateBench(opts: { tokens: number }): Promise<Record<string, unknown>> {
  const tokens = opts.tokens;
  const config = gpt2Config({ vocabSize: VOCAB, nEmbd: HIDDEN, nLayer: LAYERS, nHead: HEADS, nPositions: Math.max(1024, PROMPT + tokens) });
  const model = new Gpt2LMHeadModel(config);
  const specs = model.parameters();
  const store = new ParameterStore();
  for (const [n, v] of initParameters(specs, 0)) store.set(n, specs.find((p) => p.name === n)!.shape, v);
  const prompt = Array.from({ length: PROMPT }, (_, i) => (i * 2654435761) % VOCAB);

  const measure = async (g: GeneratorOptions): Promise<Figures & { tokens: number[] }> => {
    const t0 = performance.now();
    const gen = await Generator.create(nodeBackend, model, store, g);
    const compileS = (performance.now() - t0) / 1000;
    await gen.generate(prompt, { maxNewTokens: 4, doSample: false }); // warm-up: ORT's first runs allocate
    let best: Awaited<ReturnType<Generator['generate']>> | undefined;
    for (let i = 0; i < REPEATS; i++) {
      const r = await gen.generate(prompt, { maxNewTokens: tokens, doSample: false });
      if (!best || r.totalMs < best.totalMs) best = r;
    }
    const r = best!;
    return {
      tokens_per_s: tokens / (r.totalMs / 1000),
      ms_per_token: (r.totalMs - r.prefillMs) / Math.max(1, r.runs - 1),
      prefill_ms: r.prefillMs,
      total_ms: r.totalMs,
      compile_s: compileS,
      tokens: r.sequences[0].tokens,
    };
  };

  const cached = await measure({ cache: true });
  const baked = await measure({ cache: true, weights: 'baked' });
  const uncached = await measure({ cache: false });
  const same = cached.tokens.join() === uncached.tokens.join() && baked.tokens.join() === cached.tokens.join();
  const strip = ({ tokens: _t, ...f }: Figures & { tokens: number[] }): Figures => f;
  const result = {
    bench: 'generate',
    date: new Date().toISOString(),
    config: { model: 'gpt2', layers: LAYERS, hidden: HIDDEN, heads: HEADS, vocab: VOCAB, prompt: PROMPT, new_tokens: tokens, batch: 1, decoding: 'greedy', repeats: REPEATS, timing: 'best of repeats' },
    cached: strip(cached),
    cached_baked_weights: strip(baked),
    uncached: strip(uncached),
    speedup_cache: cached.tokens_per_s / uncached.tokens_per_s,
    speedup_cache_baked: baked.tokens_per_s / uncached.tokens_per_s,
    same_tokens: same,
    peak_rss_mib: peakRssMib(),
    threads: availableCores(),
  };
  const file = writeResult('generate', result);
  const f = (x: Figures) => `${x.tokens_per_s.toFixed(0)} tokens/s (${x.ms_per_token.toFixed(2)} ms/token, prefill ${x.prefill_ms.toFixed(1)} ms)`;
  console.log(`generate: GPT-2 ${LAYERS}x${HIDDEN}, vocab ${VOCAB}, prompt ${PROMPT}, ${tokens} new tokens, batch 1, greedy`);
  console.log(`  KV cache             : ${f(cached)}`);
  console.log(`  KV cache, baked      : ${f(baked)}`);
  console.log(`  no cache             : ${f(uncached)}`);
  console.log(`  cache speed-up ${result.speedup_cache.toFixed(2)}x (baked ${result.speedup_cache_baked.toFixed(2)}x); same tokens: ${same}`);
  console.log(`  -> ${file}`);
  if (!same) throw new Error('generate bench: cached and uncached greedy decoding chose different tokens');
  return result;
}

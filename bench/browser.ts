// `npm run bench -- browser`: the training step of tiny configurations in Chromium (onnxruntime-web WASM, 1 and 2
// threads, the page served by `pretrain serve`) beside onnxruntime-node in the same invocation, on the same text
// and settings (so the same graphs and batches). Reports the median step time after warm-up steps.
import { existsSync } from 'node:fs';
import { brownDocuments } from '../src/data/brown.js';
import { servePlayground } from '../src/cli/serve.js';
import { nodeBackend } from '../src/runtime/node.js';
import { trainText, type TextTrainOptions } from '../src/browser/train.js';
import { median, writeResult } from './common.js';

export const browserDefaults = { steps: 20, warmup: 5 };

const CONFIGS: Array<Omit<TextTrainOptions, 'text'>> = [
  { arch: 'gpt2', objective: 'clm' },
  { arch: 'bert', objective: 'mlm' },
  { arch: 't5', objective: 'span-corruption' },
];
const SIZE = { layers: 2, hidden: 64, heads: 2, seqLen: 64, batchSize: 8, vocabSize: 1000, seed: 1, evalBatches: 1 };

export async function runBrowserBench(o: { steps: number; warmup: number; chromium?: string }): Promise<void> {
  const chromiumPath = o.chromium ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!chromiumPath) throw new Error('bench browser: no Chromium found (apt-get install chromium, or --chromium <path>)');
  const text = `${brownDocuments('train').slice(0, 20).map((d) => d.sentences.join('\n')).join('\n\n')}\n`;
  const maxSteps = o.warmup + o.steps;
  const timed = (ms: number[]) => median(ms.slice(o.warmup));
  const { chromium } = await import('playwright-core');
  const { server, url } = await servePlayground(0);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const rows: Array<Record<string, unknown>> = [];
  try {
    for (const c of CONFIGS) {
      const options = { ...c, ...SIZE, maxSteps };
      const node = await trainText({ ...options, text }, { backend: nodeBackend });
      const row: Record<string, unknown> = { arch: c.arch, objective: c.objective, ...SIZE, tokensPerStep: SIZE.batchSize * SIZE.seqLen, node_ms: timed(node.stepMs) };
      for (const threads of [1, 2]) {
        const page = await browser.newPage();
        await page.goto(`${url}?threads=${threads}`);
        await page.waitForFunction(() => window.pretrain !== undefined);
        const r = await page.evaluate(([opts, t]) => window.pretrain.train({ ...opts, text: t }), [options, text] as const);
        const worst = Math.max(...r.losses.map((l, i) => Math.abs(l - node.losses[i]!)));
        row[`wasm${threads}_ms`] = timed(r.stepMs);
        row[`wasm${threads}_max_loss_diff`] = worst;
        await page.close();
      }
      row['wasm1_vs_node'] = (row['wasm1_ms'] as number) / (row['node_ms'] as number);
      row['wasm2_vs_node'] = (row['wasm2_ms'] as number) / (row['node_ms'] as number);
      rows.push(row);
      console.log(`${c.arch} ${c.objective}: node ${(row['node_ms'] as number).toFixed(1)} ms/step, wasm 1 thread ${(row['wasm1_ms'] as number).toFixed(1)} ms (${(row['wasm1_vs_node'] as number).toFixed(2)}x), ` +
        `2 threads ${(row['wasm2_ms'] as number).toFixed(1)} ms (${(row['wasm2_vs_node'] as number).toFixed(2)}x); losses within ${Math.max(row['wasm1_max_loss_diff'] as number, row['wasm2_max_loss_diff'] as number).toExponential(1)}`);
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`  -> ${writeResult('browser', { bench: 'browser', date: new Date().toISOString(), steps: o.steps, warmup: o.warmup, chromium: chromiumPath, rows })}`);
}

// The playground in a real Chromium (Debian's `chromium`, driven by playwright-core): the page served by
// `pretrain serve` loads without console errors and cross-origin isolated, trains a decoder (gpt2), an encoder
// (bert, mlm+nsp) and an encoder-decoder (t5, span corruption) through window.pretrain.train with losses equal to
// `pretrain train --corpus that.txt` (same flags) to 1e-4 for 20 steps, and its downloaded checkpoints load in the
// CLI (generate, fill-mask) and give the page's predictions; a CLI checkpoint folder opens in the page and the stop
// button ends a run. Skipped, saying so, when no Chromium is installed
// (.ci/run installs it). PRETRAIN_CHROMIUM names another binary; PRETRAIN_UPDATE_SCREENSHOT=1 writes
// docs/playground.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brownDocuments } from '../../src/data/brown.js';
import { servePlayground } from '../../src/cli/serve.js';
import { tempDir } from '../tokenizers/helpers.js';

const CHROMIUM = process.env.PRETRAIN_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const main = path.join(root, 'dist/src/cli/main.js');

interface PageResult {
  losses: number[];
  tokensPerSecond: number;
  stoppedBy: string;
}

/** Files of a zip written by zipFiles (stored entries), by name. */
function unzip(bytes: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let p = 0;
  while (bytes.readUInt32LE(p) === 0x04034b50) {
    const size = bytes.readUInt32LE(p + 18);
    const nameLen = bytes.readUInt16LE(p + 26);
    const extra = bytes.readUInt16LE(p + 28);
    const name = bytes.toString('utf8', p + 30, p + 30 + nameLen);
    const start = p + 30 + nameLen + extra;
    out.set(name, bytes.subarray(start, start + size));
    p = start + size;
  }
  return out;
}

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `pretrain ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const FAMILIES = [
  { arch: 'gpt2', objective: 'clm' },
  { arch: 'bert', objective: 'mlm+nsp' },
  { arch: 't5', objective: 'span-corruption' },
] as const;
const SETTINGS = { layers: 1, hidden: 32, heads: 2, seqLen: 32, batchSize: 4, vocabSize: 400, maxSteps: 20, seed: 7, lr: 0.002 };
const flags = (o: Record<string, string | number>) => Object.entries(o).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)]);

test('playground in Chromium: trains each family with the CLI\'s losses; its checkpoints load in the CLI', { skip: CHROMIUM ? false : 'no Chromium found (apt-get install chromium, or set PRETRAIN_CHROMIUM)', timeout: 240_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const dir = tempDir('pretrain-playground-');
  const corpus = path.join(dir, 'brown20.txt');
  writeFileSync(corpus, `${brownDocuments('train').slice(0, 20).map((d) => d.sentences.join('\n')).join('\n\n')}\n`);
  const text = readFileSync(corpus, 'utf8');

  const { server, url } = await servePlayground(0);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => window.pretrain !== undefined);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'pretrain serve sends the cross-origin isolation headers');

    for (const f of FAMILIES) {
      const options = { ...SETTINGS, arch: f.arch, objective: f.objective };
      const r: PageResult = await page.evaluate(([o, t]) => window.pretrain.train({ ...o, text: t }), [options, text] as const);
      assert.equal(r.stoppedBy, 'done');
      assert.ok(r.tokensPerSecond > 0);
      const out = path.join(dir, f.arch);
      cli(['train', ...flags(options), '--corpus', corpus, '--out', out, '--eval-every', '0']);
      const log = readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; loss: number });
      const cliLosses = log.filter((x) => x.kind === 'train').map((x) => x.loss);
      assert.equal(r.losses.length, SETTINGS.maxSteps);
      assert.equal(cliLosses.length, SETTINGS.maxSteps);
      const worst = Math.max(...r.losses.map((l, i) => Math.abs(l - cliLosses[i]!)));
      assert.ok(worst < 1e-4, `${f.arch}: page and CLI losses differ by ${worst}\npage ${r.losses.join(' ')}\ncli  ${cliLosses.join(' ')}`);
      assert.ok(r.losses.at(-1)! < r.losses[0]!, `${f.arch}: the loss falls`);

      // The page's checkpoint, as downloaded, loads in the CLI and predicts what the page predicts.
      const files = unzip(Buffer.from(await page.evaluate(() => window.pretrain.checkpointBase64()), 'base64'));
      const ck = path.join(dir, `${f.arch}-page`);
      for (const [name, data] of files) {
        const p = path.join(ck, name.split('/').slice(1).join('/'));
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(p, data);
      }
      for (const need of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(existsSync(path.join(ck, need)), `${f.arch}: ${need} in the zip`);
      if (f.arch === 'gpt2') {
        const pageText = await page.evaluate(() => window.pretrain.tryModel('The jury said', { maxNewTokens: 6, greedy: true }));
        const c = JSON.parse(cli(['generate', '--model', ck, '--prompt', 'The jury said', '--max-new-tokens', '6', '--greedy', '--json'])) as { samples: Array<{ text: string }> };
        assert.equal(pageText, `The jury said${c.samples[0]!.text}`);
      } else if (f.arch === 'bert') {
        const pageText = await page.evaluate(() => window.pretrain.tryModel('The jury [MASK] the report.'));
        const c = JSON.parse(cli(['fill-mask', '--model', ck, '--json', 'The jury [MASK] the report.'])) as { predictions: Array<Array<{ token_str: string }>> };
        assert.ok(pageText.startsWith(`mask 1: ${c.predictions[0]![0]!.token_str} (`), `page: ${pageText}\ncli: ${JSON.stringify(c.predictions[0]![0])}`);
      } else {
        const c = JSON.parse(cli(['generate', '--model', ck, '--input', 'The jury said', '--max-new-tokens', '4', '--greedy', '--json'])) as { samples: Array<{ ids: number[] }> };
        assert.ok(Array.isArray(c.samples[0]!.ids));
      }
    }
    assert.match(await page.evaluate(() => window.pretrain.preview()), /example 1/);

    // A checkpoint folder trained by the CLI opens in the page and generates what the CLI generates from it.
    const cliRun = path.join(dir, 'gpt2');
    const folder = Object.fromEntries(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((n) => [n, readFileSync(path.join(cliRun, n)).toString('base64')]));
    const opened = await page.evaluate(async (f) => {
      const bytes = Object.fromEntries(Object.entries(f).map(([n, b]) => [n, Uint8Array.from(atob(b), (c) => c.charCodeAt(0))]));
      await window.pretrain.openCheckpoint(bytes);
      return window.pretrain.tryModel('The jury said', { maxNewTokens: 6, greedy: true });
    }, folder);
    const fromCli = JSON.parse(cli(['generate', '--model', cliRun, '--prompt', 'The jury said', '--max-new-tokens', '6', '--greedy', '--json'])) as { samples: Array<{ text: string }> };
    assert.equal(opened, `The jury said${fromCli.samples[0]!.text}`);

    // Stop ends a run after the current step.
    const stopped = await page.evaluate(async (t) => {
      const run = window.pretrain.train({ arch: 'gpt2', layers: 1, hidden: 32, heads: 2, seqLen: 32, batchSize: 4, vocabSize: 400, maxSteps: 10_000, text: t });
      while (!/step [2-9]\/10000/.test(document.getElementById('rate')?.textContent ?? '')) await new Promise((r) => setTimeout(r, 20));
      window.pretrain.stop();
      return run;
    }, text);
    assert.equal(stopped.stoppedBy, 'interrupt');
    assert.ok(stopped.losses.length >= 2 && stopped.losses.length < 100, `stopped after ${stopped.losses.length} steps`);
    // The screenshot in the README: the page after a short GPT-2 run through its own form.
    await page.evaluate(() => window.pretrain.train({ arch: 'gpt2', layers: 2, hidden: 64, heads: 2, seqLen: 64, batchSize: 8, vocabSize: 600, maxSteps: 30, lr: 0.003 }));
    await page.fill('#try-text', 'The jury said');
    await page.click('#try');
    await page.waitForFunction(() => (document.getElementById('try-out')?.textContent ?? '').length > 0);
    const shot = process.env.PRETRAIN_UPDATE_SCREENSHOT === '1' ? path.join(root, 'docs/playground.png') : path.join(tmpdir(), 'pretrain-playground.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual(errors, [], 'console errors');
  } finally {
    await browser.close();
    server.close();
  }
});

if (!CHROMIUM) console.log('# playground test SKIPPED: no Chromium found (apt-get install chromium, or set PRETRAIN_CHROMIUM)');

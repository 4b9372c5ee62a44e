// `pretrain generate` on an encoder-decoder (a new tiny T5 checkpoint): --input with --json gives the same shape as
// for decoders and the tokens of Seq2SeqGenerator (greedy, beam search); sampling is reproducible with --seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Seq2SeqGenerator } from '../../src/generate/seq2seq.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { writeTinyT5 } from '../helpers/t5.js';
import { cli } from '../helpers/cli.js';


interface Out { prompt: string; prompt_ids: number[]; seed?: number; samples: { ids: number[]; text: string; finish_reason: string; score?: number }[] }

test('pretrain generate on a T5 checkpoint: greedy, beam search and seeded sampling', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pretrain-t5cli-'));
  try {
    const dir = path.join(root, 't5');
    const { tok, model, store } = await writeTinyT5(dir);
    const input = 'The cat sat on the mat.';
    const ids = (await tok.encode(input)).ids;
    const gen = await Seq2SeqGenerator.create(nodeBackend, model, store);

    const g = cli('generate', '--model', dir, '--input', input, '--greedy', '--max-new-tokens', '10', '--json');
    assert.equal(g.code, 0, g.err);
    const greedy = JSON.parse(g.out) as Out;
    assert.deepEqual(greedy.prompt_ids, ids);
    const want = await gen.generate(ids, { maxNewTokens: 10, decoderStartTokenId: 0, eosTokenId: 1 });
    assert.deepEqual(greedy.samples.map((s) => s.ids), want.tokens);
    assert.equal(greedy.samples[0].text, await tok.decode(want.tokens[0], { skipSpecialTokens: true }));
    assert.equal(greedy.samples[0].finish_reason, want.finishReason[0]);

    const b = cli('generate', '--model', dir, '--input', input, '--num-beams', '4', '--max-new-tokens', '10', '--early-stopping', 'never', '--json');
    assert.equal(b.code, 0, b.err);
    const beams = JSON.parse(b.out) as Out;
    const wantBeams = await gen.beamSearch(ids, { numBeams: 4, maxNewTokens: 10, decoderStartTokenId: 0, eosTokenId: 1, earlyStopping: 'never' });
    assert.deepEqual(beams.samples.map((s) => s.ids), wantBeams.tokens);
    assert.ok(Math.abs(beams.samples[0].score! - wantBeams.scores[0]) < 1e-9);

    const s1 = cli('generate', '--model', dir, '--prompt', input, '--seed', '7', '--num-samples', '3', '--max-new-tokens', '6', '--json');
    const s2 = cli('generate', '--model', dir, '--prompt', input, '--seed', '7', '--num-samples', '3', '--max-new-tokens', '6', '--json');
    assert.equal(s1.code, 0, s1.err);
    const a = JSON.parse(s1.out) as Out;
    assert.equal(a.seed, 7);
    assert.equal(a.samples.length, 3);
    assert.deepEqual(a, JSON.parse(s2.out));

    const plain = cli('generate', '--model', dir, '--input', input, '--greedy', '--max-new-tokens', '10');
    assert.equal(plain.code, 0, plain.err);
    assert.equal(plain.out, `${greedy.samples[0].text}\n`);

    const bad = cli('generate', '--model', dir, '--input', input, '--early-stopping', 'maybe');
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /--early-stopping must be true, false or never/);
    const none = cli('generate', '--model', dir);
    assert.notEqual(none.code, 0);
    assert.match(none.err, /--prompt \(or --input\) is required/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

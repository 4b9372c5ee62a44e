// `bench all`'s summary: each goal of issue 12 judged from the figures of one invocation, and "not measured"
// (never "met") when a part or its PyTorch baseline did not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, type TrainResult } from '../../bench/all.js';
import type { TorchResult, TrainFigures } from '../../bench/common.js';

function result(ours: Partial<TrainFigures>, torch: Partial<TorchResult> | null): TrainResult {
  const o = { tokens_per_s: 1000, peak_rss_mib: 500, mfu: 0.5, mfu_incl_lm_head: 0.6, peak_gflops_ort_matmul: 150, share_outside_kernels: 0.04, ...ours } as TrainFigures;
  return { ours: o, torch: torch ? ({ tokens_per_s: 500, peak_rss_mib: 1000, mfu: 0.3, peak_gflops: 180, ...torch } as TorchResult) : null, torch_skipped: torch ? undefined : 'no torch' };
}

test('goals: met, not met, and not measured', () => {
  const { goals, markdown } = summarize({
    gpt2: result({ tokens_per_s: 2100, mfu_incl_lm_head: 0.71, peak_rss_mib: 590, share_outside_kernels: 0.02 }, { tokens_per_s: 1000, peak_rss_mib: 1000 }),
    bert: result({ tokens_per_s: 1400 }, { tokens_per_s: 1000 }),
    t5: result({}, null),
  }, { started: '2026-11-30T00:00:00Z', minutes: 1, ran: ['gpt2', 'bert', 't5'] });
  const met = Object.fromEntries(goals.map((g) => [g.goal, g.met]));
  assert.equal(met['GPT-2 MFU counting the LM head'], true);
  assert.equal(met['GPT-2 tokens/s'], true);
  assert.equal(met['BERT tokens/s'], false, '1.4x is short of 1.5x');
  assert.equal(met['T5 tokens/s'], null, 'no baseline: not measured');
  assert.equal(met['GPT-2 peak memory'], true);
  assert.equal(met['BERT peak memory'], true, '500 / 1000 MiB');
  assert.equal(met['T5 peak memory'], null);
  assert.equal(met['time outside ORT kernels'], false, 'BERT and T5 spend 4% outside');
  assert.match(markdown, /\| \*\*ratio\*\* \| \*\*2\.10x\*\* \| \*\*1\.40x\*\* \| \*\*n\/a\*\* \|/);
  assert.match(markdown, /\| T5 tokens\/s \| >= 1\.5x PyTorch \| n\/a \| not measured \|/);

  const none = summarize({}, { started: '2026-11-30T00:00:00Z', minutes: 0, ran: [] });
  assert.ok(none.goals.every((g) => g.met === null));
});

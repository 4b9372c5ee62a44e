// `pretrain experiment` flags: presets with overrides, and one-line errors naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { experimentSettings } from '../../src/cli/experiment.js';
import { PRESETS } from '../../src/experiments/design.js';

const base = { preset: 'quick', out: 'runs/x', overwrite: false, progress: false };

test('the quick preset covers the three families and says what it leaves out', () => {
  const s = experimentSettings(base);
  assert.deepEqual(s.families, ['bert', 'gpt2', 't5']);
  assert.ok(s.seeds.length >= 2, 'an interval needs two seeds');
  assert.ok(s.leftOut.length > 0);
  assert.deepEqual(experimentSettings({ ...base, preset: 'full' }).fractions, [0.01, 0.1, 1]);
  assert.deepEqual(PRESETS.quick.families, ['bert', 'gpt2', 't5'], 'overrides do not change the preset itself');
});

test('overrides and user data', () => {
  const s = experimentSettings({ ...base, families: 'gpt2,t5', fractions: '0.05,1', seeds: '3,4', pretrainSteps: '10', finetuneMaxSteps: '90' });
  assert.deepEqual([s.families, s.fractions, s.seeds, s.pretrain.steps, s.finetune.maxSteps], [['gpt2', 't5'], [0.05, 1], [3, 4], 10, 90]);
  assert.match(s.leftOut.at(-1)!, /--families gpt2,t5/);
  const u = experimentSettings({ ...base, corpus: 'my.jsonl', task: 'tag', data: 'tags.jsonl' });
  assert.deepEqual([u.corpus, u.tasks, u.user], ['my.jsonl', ['user'], { task: 'tag', data: 'tags.jsonl' }]);
});

test('bad flags: one line naming the flag', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ preset: 'huge' }, /--preset: "huge" is not one of quick, full/],
    [{ families: 'bert,llama' }, /--families: "llama" is not one of bert, gpt2, t5/],
    [{ fractions: '0.1,2' }, /--fractions must list numbers in \(0, 1\], got "2"/],
    [{ seeds: '1,1' }, /--seeds lists a seed twice/],
    [{ task: 'classify' }, /--task and --eval need --data/],
    [{ data: 'x.jsonl', task: 'qa' }, /--task: "qa" is not one of classify, tag/],
    [{ finetuneMinSteps: '100', finetuneMaxSteps: '50' }, /--finetune-min-steps 100 exceeds --finetune-max-steps 50/],
  ];
  for (const [flags, re] of bad) assert.throws(() => experimentSettings({ ...base, ...flags }), re);
});

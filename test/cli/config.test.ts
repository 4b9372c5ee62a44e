import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatConfigHelp, CONFIG_FIELDS, CONFIG_KEYS, closestKey, configToJson, DEFAULT_CONFIG, flagName, loadConfig, parseConfigText, resolveConfig } from '../../src/cli/config.js';

const msg = (re: RegExp) => (e: Error) => re.test(e.message);

test('defaults: every field has a description; resolved defaults are a valid small model', () => {
  for (const k of CONFIG_KEYS) {
    assert.ok(CONFIG_FIELDS[k].description.length > 5, k);
    assert.ok(!CONFIG_FIELDS[k].description.includes('\n'), k);
  }
  const c = resolveConfig(undefined, {});
  assert.equal(c.arch, 'gpt2');
  assert.equal(c.objective.name, 'clm');
  assert.equal(c.model.hidden % c.model.heads, 0);
  assert.equal(c.warmup, 100, '5% of 2000 steps');
  assert.equal(c.resume, false);
  assert.equal(c.model.kvHeads, undefined);
  assert.equal(DEFAULT_CONFIG.lr, 6e-4);
  assert.deepEqual(CONFIG_FIELDS.decay.choices, ['cosine', 'linear', 'constant']);
  const json = configToJson(c);
  assert.deepEqual(Object.keys(json.model as object).sort(), ['dropout', 'heads', 'hidden', 'layers']);
  assert.equal((json.objective as { name: string }).name, 'clm');
});

test('loadConfig reads YAML and JSON by extension; flags win; flag strings are converted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-cfg-'));
  try {
    const y = join(dir, 'run.yaml');
    writeFileSync(y, 'arch: llama\nlr: 3e-4\nlayers: 2\nheads: 4\nkvHeads: 2\nmaxSteps: 500\n# comment\nresume: runs/x/checkpoint-100\n');
    const fromYaml = await loadConfig(y);
    assert.equal(fromYaml.source, y);
    assert.deepEqual(fromYaml.values, { arch: 'llama', lr: 3e-4, layers: 2, heads: 4, kvHeads: 2, maxSteps: 500, resume: 'runs/x/checkpoint-100' });
    const c = resolveConfig(fromYaml, { lr: '1e-3', layers: 6, batchSize: undefined, resume: 'false' });
    assert.equal(c.lr, 1e-3);
    assert.equal(c.model.layers, 6);
    assert.equal(c.batchSize, 16);
    assert.equal(c.model.kvHeads, 2);
    assert.equal(c.warmup, 25);
    assert.equal(c.resume, false);
    const j = join(dir, 'run.json');
    writeFileSync(j, JSON.stringify({ decay: 'linear', warmup: 0 }));
    const cj = resolveConfig(await loadConfig(j), { resume: true });
    assert.equal(cj.decay, 'linear');
    assert.equal(cj.warmup, 0);
    assert.equal(cj.resume, true);
    writeFileSync(join(dir, 'empty.yml'), '');
    assert.deepEqual((await loadConfig(join(dir, 'empty.yml'))).values, {});
    await assert.rejects(loadConfig(join(dir, 'missing.yaml')), msg(/cannot read config file .*missing\.yaml: ENOENT/));
    await assert.rejects(loadConfig(join(dir, 'run.toml')), msg(/run\.toml: config files must end in \.yaml, \.yml or \.json/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown key names the key and the file and suggests the closest valid key', () => {
  assert.throws(() => parseConfigText('learning_rate: 0.001\n', 'cfg.yaml'), (e: Error) => e.message === 'cfg.yaml: unknown key "learning_rate" (did you mean "lr"?)');
  assert.throws(() => parseConfigText('{"hiden": 64}', 'cfg.json'), msg(/^cfg\.json: unknown key "hiden" \(did you mean "hidden"\?\)$/));
  assert.throws(() => parseConfigText('zzzzzz: 1\n', 'cfg.yaml'), (e: Error) => e.message === 'cfg.yaml: unknown key "zzzzzz"');
  assert.throws(() => resolveConfig(undefined, { maxStep: 5 }), (e: Error) => e.message === 'unknown option --max-step (did you mean --max-steps?)');
  assert.equal(closestKey('n_embd'), 'hidden');
  assert.equal(closestKey('warmupsteps'), 'warmup');
  assert.equal(closestKey('evalevery'), 'evalEvery');
  assert.equal(flagName('gradAccum'), '--grad-accum');
});

test('a wrong type names the key, the expected type and the value found', () => {
  assert.throws(() => parseConfigText('lr: fast\n', 'cfg.yaml'), (e: Error) => e.message === 'cfg.yaml: "lr": expected a number, got string "fast"');
  assert.throws(() => parseConfigText('layers: 2.5\n', 'cfg.yaml'), (e: Error) => e.message === 'cfg.yaml: "layers": expected an integer, got number 2.5');
  assert.throws(() => parseConfigText('arch: gpt3\n', 'cfg.yaml'), (e: Error) => /^cfg\.yaml: "arch": expected one of gpt2, llama.*\(got string "gpt3"\)$/.test(e.message));
  assert.throws(() => parseConfigText('heads: [4]\n', 'cfg.yaml'), msg(/"heads": expected a number, got array \[4\]/));
  assert.throws(() => parseConfigText('dropout: 1.5\n', 'cfg.yaml'), msg(/"dropout": expected number to be <1, got number 1\.5/));
  assert.throws(() => parseConfigText('resume: 3\n', 'cfg.yaml'), msg(/"resume": expected true, false or a checkpoint folder \(got number 3\)/));
  assert.throws(() => resolveConfig(undefined, { lr: 'abc' }), (e: Error) => e.message === '--lr: expected a number, got string "abc"');
  assert.throws(() => resolveConfig(undefined, { seqLen: '0' }), msg(/^--seq-len: expected number to be >0, got number 0$/));
  // Every problem is listed, not only the first.
  assert.throws(() => parseConfigText('lr: x\nlayers: y\nfoo: 1\n', 'cfg.yaml'), (e: Error) => e.message.split('\n').length === 3);
});

test('malformed files and inconsistent settings', () => {
  assert.throws(() => parseConfigText('lr: [1,\n b: 2', 'cfg.yaml'), msg(/^cfg\.yaml: invalid YAML: .*line 2, column 6/));
  assert.throws(() => parseConfigText('lr: 1\nlr: 2\n', 'cfg.yaml'), msg(/cfg\.yaml: invalid YAML: Map keys must be unique/));
  assert.throws(() => parseConfigText('{"lr": ', 'cfg.json'), msg(/^cfg\.json: invalid JSON/));
  assert.throws(() => parseConfigText('- lr\n', 'cfg.yaml'), msg(/cfg\.yaml: expected a mapping of config keys to values, got a list/));
  assert.throws(() => resolveConfig({ hidden: 100, heads: 3 }, {}), msg(/hidden \(100\) must be divisible by heads \(3\)/));
  assert.throws(() => resolveConfig({ kvHeads: 2 }, {}), msg(/kvHeads applies only to arch "llama"/));
  assert.throws(() => resolveConfig({ arch: 'llama', kvHeads: 3 }, {}), msg(/kvHeads \(3\) must divide heads \(4\)/));
  assert.throws(() => resolveConfig(undefined, { warmup: 50, maxSteps: 50 }), msg(/warmup \(50\) must be less than maxSteps \(50\)/));
  assert.equal(resolveConfig(undefined, { maxSteps: 10 }).warmup, 1, 'default warmup follows maxSteps');
});

test('formatConfigHelp lists every field with its flag, type and default', () => {
  const help = formatConfigHelp();
  assert.equal(help.split('\n').length, CONFIG_KEYS.length);
  assert.match(help, /--max-steps <integer> +optimizer steps in total \(default: 2000\)/);
  assert.match(help, /--arch <gpt2\|llama\|bert\|roberta\|t5> +model architecture .*\(default: "gpt2"\)/);
  assert.match(help, /--resume \[path\] +resume: .*\(default: false\)/);
  assert.match(help, /--kv-heads <integer> +llama only: [^(]*\(default: heads\)$/m);
});

test('a config file may group keys in model/objective sections and spell them seq-len, seq_len or seqLen', () => {
  const y = parseConfigText('arch: gpt2\nseq-len: 64\nmax_steps: 10\nmodel:\n  layers: 3\n  hidden: 96\n  heads: 3\nobjective:\n  name: clm\n  blocks: windows\n', 'run.yaml');
  const c = resolveConfig(y, {});
  assert.equal(c.seqLen, 64);
  assert.equal(c.maxSteps, 10);
  assert.deepEqual([c.model.layers, c.model.heads], [3, 3]);
  assert.equal(c.objective.name, 'clm');
  assert.equal(c.objective.blocks, 'windows');
  assert.throws(() => parseConfigText('model:\n  lr: 1\n', 'run.yaml'), msg(/run\.yaml: "model\.lr": belongs at the top level/));
});

test('an objective the architecture cannot train fails with one line naming the valid ones', () => {
  assert.throws(() => resolveConfig(undefined, { arch: 'gpt2', objective: 'mlm+nsp' }), (e: Error) => e.message === '--arch gpt2 cannot train --objective mlm+nsp; valid objectives for gpt2: clm, prefix-lm');
  assert.throws(() => resolveConfig(undefined, { arch: 'bertish' }), msg(/--arch: expected one of gpt2, llama.*bertish/));
});

test('examples/roberta.yaml resolves to the RoBERTa recipe', async () => {
  const c = resolveConfig(await loadConfig('examples/roberta.yaml'), {});
  assert.equal(c.arch, 'roberta');
  assert.equal(c.objective.name, 'mlm');
  assert.equal(c.objective.packing, 'full-sentences');
  assert.deepEqual([c.model.layers, c.model.hidden, c.gradAccum, c.seqLen], [4, 256, 4, 128]);
  assert.deepEqual([c.beta2, c.eps, c.weightDecay, c.decay], [0.98, 1e-6, 0.01, 'linear'], 'from the roberta recipe');
  assert.equal(resolveConfig(await loadConfig('examples/roberta.yaml'), { beta2: 0.95 }).beta2, 0.95, 'flags override the recipe');
});

test('gradient checkpointing is off by default and a file may spell it as Hugging Face does', () => {
  assert.equal(resolveConfig(undefined, {}).gradientCheckpointing, false);
  assert.equal(resolveConfig(parseConfigText('gradient_checkpointing: true\n', 'run.yaml'), {}).gradientCheckpointing, true);
  assert.equal(resolveConfig(undefined, { gradientCheckpointing: 'true' }).gradientCheckpointing, true);
});

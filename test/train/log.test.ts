import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogWriter, parseLog, readLog } from '../../src/train/log.js';

test('writer appends one JSON object per line; reader returns them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-log-'));
  try {
    const path = join(dir, 'log.jsonl');
    const w = await LogWriter.open(path);
    w.append({ kind: 'train', step: 1, loss: 4.5, lr: 1e-4 });
    w.append({ kind: 'eval', step: 1, loss: 4.6, time: 'fixed' });
    w.close();
    assert.throws(() => w.append({ kind: 'train', step: 2 }), /log is closed/);
    const text = readFileSync(path, 'utf8');
    assert.equal(text.split('\n').length, 3);
    const { records, tornTail } = await readLog(path);
    assert.equal(tornTail, false);
    assert.equal(records.length, 2);
    assert.deepEqual({ ...records[0], time: undefined }, { kind: 'train', step: 1, loss: 4.5, lr: 1e-4, time: undefined });
    assert.match(String(records[0]!.time), /^\d{4}-\d\d-\d\dT/);
    assert.equal(records[1]!.time, 'fixed');
    assert.deepEqual(await readLog(join(dir, 'none.jsonl')), { records: [], tornTail: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn last line is skipped by the reader and repaired by the writer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-log-'));
  try {
    const path = join(dir, 'log.jsonl');
    writeFileSync(path, '{"kind":"train","step":1,"loss":3}\n{"kind":"train","step":2,"loss":2}\n{"kind":"train","st');
    const r = await readLog(path);
    assert.equal(r.tornTail, true);
    assert.deepEqual(r.records.map((x) => x.step), [1, 2]);
    const w = await LogWriter.open(path);
    w.append({ kind: 'train', step: 3, loss: 1, time: 't' });
    w.close();
    assert.equal(readFileSync(path, 'utf8').split('\n').at(-2), '{"kind":"train","step":3,"loss":1,"time":"t"}');
    assert.deepEqual((await readLog(path)).records.map((x) => x.step), [1, 2, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resuming drops records written after the checkpoint step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-log-'));
  try {
    const path = join(dir, 'log.jsonl');
    for (let s = 1; s <= 5; s++) appendFileSync(path, `${JSON.stringify({ kind: 'train', step: s })}\n`);
    const w = await LogWriter.open(path, { resumeStep: 3 });
    w.append({ kind: 'train', step: 4, resumed: true });
    w.close();
    const { records } = await readLog(path);
    assert.deepEqual(records.map((x) => [x.step, x.resumed ?? false]), [[1, false], [2, false], [3, false], [4, true]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseLog: complete last line without newline is kept; a bad middle line is an error with its line number', () => {
  assert.deepEqual(parseLog('{"kind":"eval","step":7}', 'f').records, [{ kind: 'eval', step: 7 }]);
  assert.equal(parseLog('', 'f').records.length, 0);
  assert.equal(parseLog('\n\n', 'f').records.length, 0);
  assert.throws(() => parseLog('{"kind":"train","step":1}\n{oops\n{"kind":"train","step":2}\n', 'run/log.jsonl'), /^Error: run\/log\.jsonl:2: not valid JSON/);
  assert.throws(() => parseLog('[1,2]\n', 'f'), /f:1: a log record must be an object/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  etaSeconds,
  formatCount,
  formatDuration,
  formatPlainLine,
  formatRate,
  formatSci,
  formatTtyLine,
  ProgressBar,
  RateMeter,
  renderBar,
} from '../../src/train/progress.js';

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(5.4), '0:05');
  assert.equal(formatDuration(59.6), '1:00');
  assert.equal(formatDuration(754), '12:34');
  assert.equal(formatDuration(3723), '1:02:03');
  assert.equal(formatDuration(100 * 3600 + 61), '100:01:01');
  assert.equal(formatDuration(NaN), '--:--');
  assert.equal(formatDuration(Infinity), '--:--');
  assert.equal(formatDuration(-1), '--:--');
});

test('formatCount, formatRate, formatSci', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(12.345), '12.3');
  assert.equal(formatCount(1234), '1.23k');
  assert.equal(formatCount(12345), '12.3k');
  assert.equal(formatCount(999_960), '1.00M');
  assert.equal(formatCount(4.56e9), '4.56G');
  assert.equal(formatRate(15300), '15.3k tok/s');
  assert.equal(formatRate(2.5, 'step'), '2.50 step/s');
  assert.equal(formatSci(6e-4), '6.00e-4');
  assert.equal(formatSci(1234), '1.23e3');
  assert.equal(formatSci(0), '0');
});

test('etaSeconds uses the pace of this run since startStep', () => {
  assert.equal(etaSeconds(0, 100, 0, 0), undefined);
  assert.equal(etaSeconds(25, 100, 0, 50), 150); // 2 s/step, 75 left
  assert.equal(etaSeconds(60, 100, 50, 20), 80); // resumed at 50: 10 steps in 20 s
  assert.equal(etaSeconds(100, 100, 0, 10), 0);
});

test('RateMeter is the exact rate when steady and smooths a stall', () => {
  const m = new RateMeter(5);
  assert.equal(m.update(0, 0), undefined);
  for (let t = 1; t <= 20; t++) m.update(1000 * t, t);
  assert.ok(Math.abs(m.rate! - 1000) < 1e-9);
  // One 2 s pause (an eval) moves it only partly towards 0.
  m.update(20000, 22);
  assert.ok(m.rate! > 500 && m.rate! < 1000, String(m.rate));
});

test('renderBar and line formats', () => {
  assert.equal(renderBar(0, 4), '    ');
  assert.equal(renderBar(1, 4), '████');
  assert.equal(renderBar(0.5, 4), '██  ');
  assert.equal(renderBar(0.5 + 1 / 32, 4), '██▏ ');
  assert.equal(renderBar(2, 3).length, 3);
  const s = { step: 450, total: 1000, loss: 3.21449, lr: 6e-4, tokensPerSec: 12345, elapsedSec: 45, etaSec: 55 };
  assert.equal(formatPlainLine(s), 'step 450/1000 (45.0%) | loss 3.2145 | lr 6.00e-4 | 12.3k tok/s | elapsed 0:45 | eta 0:55');
  const line = formatTtyLine(s, 100);
  assert.ok(line.length <= 100);
  assert.match(line, /^ 45%\|█+▏? +\| 450\/1000 loss 3\.2145 lr 6\.00e-4 12\.3k tok\/s \[0:45<0:55\]$/);
  const narrow = formatTtyLine({ ...s, extra: { ppl: 24.9 } }, 40);
  assert.ok(narrow.length < 40, narrow);
  assert.match(formatTtyLine({ ...s, label: 'eval', extra: { ppl: 24.91234 } }, 160), /^eval  45%\|.* ppl 24\.9123 \[0:45<0:55\]$/);
});

function fakeStream(tty: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY: tty, columns: 80, write: (s: string) => out.push(s) } };
}

test('ProgressBar: plain lines every N steps off a TTY', () => {
  let now = 0;
  const { out, stream } = fakeStream(false);
  const bar = new ProgressBar({ total: 10, stream, plainEvery: 4, now: () => now });
  for (let step = 1; step <= 10; step++) {
    now += 1000;
    bar.update({ step, loss: 2, lr: 1e-3, tokens: step * 512 });
  }
  bar.finish();
  assert.deepEqual(out.map((l) => l.split(' |')[0]), ['step 1/10 (10.0%)', 'step 5/10 (50.0%)', 'step 9/10 (90.0%)', 'step 10/10 (100.0%)']);
  assert.match(out[3]!, /512 tok\/s \| elapsed 0:10 \| eta 0:00\n$/);
});

test('ProgressBar: redraws in place on a TTY, throttled, and logs above the bar', () => {
  let now = 0;
  const { out, stream } = fakeStream(true);
  const bar = new ProgressBar({ total: 100, stream, now: () => now });
  for (let step = 1; step <= 100; step++) {
    now += 20; // 50 updates/s -> about 10 redraws/s
    bar.update({ step, loss: 1 });
    if (step === 50) bar.log('eval loss 1.0');
  }
  bar.finish();
  const draws = out.filter((s) => s.startsWith('\r') && !s.includes('eval'));
  assert.ok(draws.length >= 18 && draws.length <= 24, `${draws.length} redraws`);
  assert.ok(draws.every((d) => d.endsWith('\x1b[K') && !d.includes('\n')));
  assert.ok(out.includes('\r\x1b[Keval loss 1.0\n'));
  assert.equal(out.at(-1), '\n');
  assert.match(out.at(-2)!, /100\/100/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lossPointsFromRecords, scoreChartSvg, defaultSmoothing, formatTick, logTicks, lossCurveSvg, lossCurvesSvg, niceTicks, smoothEma, smoothZeroPhase } from '../../src/train/plot.js';

const curve = (n: number) => Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: 3 + 6 * Math.exp(-i / (n / 5)) + 0.3 * Math.sin(i * 7.3) }));
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

test('tick helpers', () => {
  assert.deepEqual(niceTicks(0, 2000, 7), [0, 500, 1000, 1500, 2000]);
  assert.deepEqual(niceTicks(2.65, 9.35, 7), [3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(niceTicks(0, 1, 4), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(logTicks(2.5, 10), [3, 4, 5, 6, 8, 10]);
  assert.deepEqual(logTicks(0.01, 100), [0.01, 0.1, 1, 10, 100]);
  assert.deepEqual(logTicks(0.5, 20), [0.5, 1, 2, 5, 10, 20]);
  assert.deepEqual(logTicks(1e-3, 1e3), [1e-3, 1e-2, 0.1, 1, 10, 100, 1000]);
  assert.deepEqual([0, 3, 2.5, 1500, 20000, 2e6, 1e-4].map(formatTick), ['0', '3', '2.5', '1500', '20k', '2M', '1e-4']);
});

test('smoothing: identity at 0, keeps constants, zero-phase does not lag a falling line', () => {
  assert.deepEqual(smoothEma([1, 5, 2], 0), [1, 5, 2]);
  for (const v of smoothEma([4, 4, 4, 4], 0.9)) assert.ok(Math.abs(v - 4) < 1e-12);
  for (const v of smoothZeroPhase([4, 4, 4, 4], 0.9)) assert.ok(Math.abs(v - 4) < 1e-12);
  const line = Array.from({ length: 101 }, (_, i) => 100 - i);
  const ema = smoothEma(line, 0.9);
  const zp = smoothZeroPhase(line, 0.9);
  assert.ok(ema[50]! - line[50]! > 5, 'EMA lags');
  assert.ok(Math.abs(zp[50]! - line[50]!) < 0.2, 'zero-phase is centred on a straight line');
  assert.equal(defaultSmoothing(5), 0);
  assert.ok(defaultSmoothing(2000) > 0.9);
});

test('lossCurveSvg draws raw + smoothed train loss, eval markers, axes, title and legend', () => {
  const svg = lossCurveSvg({ train: curve(500), eval: [0, 100, 200, 300, 400, 500].map((s) => ({ step: s, loss: 4 + 5 * Math.exp(-s / 100) })) }, { title: 'GPT-2 <tiny> & co' });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="800" height="480"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.match(svg, />GPT-2 &lt;tiny&gt; &amp; co<\/text>/);
  assert.equal(count(svg, /<polyline /g), 3, 'raw, smoothed, eval line');
  assert.equal(count(svg, /<circle /g), 6 + 1, 'six eval points + legend marker');
  for (const label of ['train (smoothed)', 'train (raw)', 'eval', '>step<', '>loss<']) assert.ok(svg.includes(label), label);
  for (const t of ['>0<', '>100<', '>500<']) assert.ok(svg.includes(t), `x tick ${t}`);
  // Balanced groups and no NaN coordinates.
  assert.equal(count(svg, /<g[ >]/g), count(svg, /<\/g>/g));
  assert.ok(!/NaN|Infinity|undefined/.test(svg));
});

test('log scale, bad values, several runs, huge runs and empty input', () => {
  const withBad = [...curve(50), { step: 51, loss: NaN }, { step: 52, loss: 0 }, { step: 53, loss: Infinity }];
  const logSvg = lossCurveSvg({ train: withBad }, { logY: true });
  assert.ok(logSvg.includes('loss (log scale)'));
  assert.ok(!/NaN|Infinity/.test(logSvg));
  const multi = lossCurvesSvg([
    { name: 'pretrained', train: curve(100), eval: [{ step: 50, loss: 4 }] },
    { name: 'scratch', train: curve(100).map((p) => ({ ...p, loss: p.loss + 1 })), eval: [{ step: 50, loss: 5 }] },
  ]);
  for (const label of ['pretrained: train (smoothed)', 'scratch: eval']) assert.ok(multi.includes(label), label);
  assert.ok(multi.includes('#1f77b4') && multi.includes('#d95f02'), 'one colour per run');
  const big = lossCurveSvg({ train: curve(100_000) }, { maxPointsPerLine: 1000 });
  const longest = Math.max(...[...big.matchAll(/points="([^"]*)"/g)].map((m) => m[1]!.split(' ').length));
  assert.ok(longest <= 1000, `${longest} vertices`);
  assert.ok(big.length < 100_000, `${big.length} bytes`);
  const noSmooth = lossCurveSvg({ train: curve(100) }, { smoothing: 0 });
  assert.equal(count(noSmooth, /<polyline /g), 1);
  assert.ok(noSmooth.includes('>train<'));
  assert.ok(lossCurveSvg({ train: [] }).includes('no data'));
  assert.ok(!/NaN/.test(lossCurveSvg({ train: [{ step: 3, loss: 2 }] })), 'a single point');
});

test('lossPointsFromRecords picks train and eval losses from log records', () => {
  const pts = lossPointsFromRecords([
    { kind: 'train', step: 1, loss: 5 },
    { kind: 'eval', step: 1, loss: 5.5 },
    { kind: 'train', step: 2, loss: 4 },
    { kind: 'checkpoint', step: 2 },
    { kind: 'train', step: 3, loss: 'x' },
  ]);
  assert.deepEqual(pts, { train: [{ step: 1, loss: 5 }, { step: 2, loss: 4 }], eval: [{ step: 1, loss: 5.5 }] });
});

test('scoreChartSvg: log x with percent ticks, error bars, dashed series and a legend', () => {
  const svg = scoreChartSvg([
    { name: 'pretrained', points: [{ x: 0.01, y: 0.5, err: 0.1 }, { x: 0.1, y: 0.7, err: 0.05 }, { x: 1, y: 0.8 }] },
    { name: 'scratch', dashed: true, points: [{ x: 0.01, y: 0.3, err: 0.1 }, { x: 0.1, y: 0.6 }, { x: 1, y: NaN }] },
  ], { title: 'score vs labels', logX: true, xPercent: true, xLabel: 'labels' });
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const t of ['>1%<', '>10%<', '>100%<', 'labels (log scale)', '>pretrained<', '>scratch<']) assert.ok(svg.includes(t), t);
  // 5 finite points drawn; 3 error bars of 3 lines each (the bar and its two caps); one dashed line and legend entry.
  assert.equal((svg.match(/<circle /g) ?? []).length, 5 + 2);
  assert.equal((svg.match(/stroke-dasharray="6 4"/g) ?? []).length, 2);
  const errorBarLines = [...svg.matchAll(/<g stroke="#[0-9a-f]+" stroke-width="1.4">\n([^]*?)<\/g>/g)].flatMap((g) => g[1]!.split('\n').filter(Boolean));
  assert.equal(errorBarLines.length, 3 * 3);
  assert.match(scoreChartSvg([], { title: 'empty' }), /no data/);
});

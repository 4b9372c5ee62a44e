// detLog/detExp (fdlibm, + - * / only) stay within one ulp of Math.log/Math.exp and handle the edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detExp, detLog } from '../../src/tokenizers/det-math.js';

function ulps(a: number, b: number): number {
  const i = new BigInt64Array(new Float64Array([a, b]).buffer);
  return Math.abs(Number(i[0]! - i[1]!));
}

test('detLog and detExp are within 1 ulp of Math.log and Math.exp', () => {
  let s = 12345;
  for (let i = 0; i < 100_000; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const x = (s / 2147483648) * 1400 - 700;
    assert.ok(ulps(detExp(x), Math.exp(x)) <= 1, `exp(${x})`);
    const y = Math.abs(x) * 10 ** ((s % 60) - 30) + 1e-300;
    assert.ok(ulps(detLog(y), Math.log(y)) <= 1, `log(${y})`);
  }
  assert.equal(detLog(1), 0);
  assert.equal(detLog(0), -Infinity);
  assert.ok(Number.isNaN(detLog(-1)));
  assert.equal(detLog(Infinity), Infinity);
  assert.equal(detExp(0), 1);
  assert.equal(detExp(-Infinity), 0);
  assert.equal(detExp(1000), Infinity);
  assert.equal(detExp(-1000), 0);
  assert.ok(ulps(detLog(5e-324), Math.log(5e-324)) <= 1);
});

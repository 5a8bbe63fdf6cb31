// Unit tests of nnsym/runtime/js/runtime.js, where it lives: node --test tests/js/runtime.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SplitMix64,
  _shuffle,
  _logsumexp,
  _adamStep,
} from "../../nnsym/runtime/js/runtime.js";

test("splitmix64 from state 0 gives the published first outputs", () => {
  const rng = new SplitMix64(0);
  assert.equal(rng.next(), 0xe220a8397b1dcdafn);
  assert.equal(rng.next(), 0x6e789e6aa1b965f4n);
});

test("uniform draws lie in [-1, 1) and use the top 53 bits", () => {
  const a = new SplitMix64(9);
  const b = new SplitMix64(9);
  for (let i = 0; i < 1000; i++) {
    const u = a.uniform();
    assert.ok(u >= -1 && u < 1);
    assert.equal(u, 2 * (Number(b.next() >> 11n) / 2 ** 53) - 1);
  }
});

test("shuffle is a permutation", () => {
  const order = Array.from({ length: 50 }, (_, i) => i);
  _shuffle(order, new SplitMix64(3));
  assert.deepEqual([...order].sort((p, q) => p - q), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(order, Array.from({ length: 50 }, (_, i) => i));
});

test("logsumexp does not overflow and keeps the small terms", () => {
  assert.equal(_logsumexp(1000, 1000), 1000 + Math.log(2));
  assert.equal(_logsumexp(-1000, -1000), -1000 + Math.log(2));
  assert.ok(Math.abs(_logsumexp(0, Math.log(3)) - Math.log(4)) < 1e-15);
});

test("adam's first step moves each parameter by lr against its gradient's sign", () => {
  const params = [1, 1];
  _adamStep(params, [2, -3], [0, 0], [0, 0], 1, 0.1, 0.9, 0.999, 1e-8);
  assert.ok(Math.abs(params[0] - 0.9) < 1e-8 && Math.abs(params[1] - 1.1) < 1e-8);
});

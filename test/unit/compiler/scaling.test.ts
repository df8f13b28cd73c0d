import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampTarget, effectiveScaling } from '../../../src/compiler/index.js';

test('no scaling section means exactly one instance', () => {
  assert.deepEqual(effectiveScaling({}), { min: 1, max: 1 });
  assert.deepEqual(effectiveScaling({ scaling: {} }), { min: 1, max: 1 });
});

test('min 0 means 1', () => {
  assert.deepEqual(effectiveScaling({ scaling: { min: 0 } }), { min: 1, max: 1 });
  assert.deepEqual(effectiveScaling({ scaling: { min: 0, max: 3 } }), { min: 1, max: 3 });
});

test('absent max equals min', () => {
  assert.deepEqual(effectiveScaling({ scaling: { min: 4 } }), { min: 4, max: 4 });
});

test('absent min is 1 while max is kept', () => {
  assert.deepEqual(effectiveScaling({ scaling: { max: 10 } }), { min: 1, max: 10 });
});

test('max below min is raised to min', () => {
  assert.deepEqual(effectiveScaling({ scaling: { min: 5, max: 2 } }), { min: 5, max: 5 });
  assert.deepEqual(effectiveScaling({ scaling: { min: 3, max: 0 } }), { min: 3, max: 3 });
});

test('targets are clamped into [min, max] and truncated like int()', () => {
  const s = { min: 2, max: 5 };
  assert.equal(clampTarget(0, s), 2);
  assert.equal(clampTarget(3, s), 3);
  assert.equal(clampTarget(9, s), 5);
  assert.equal(clampTarget(4.9, s), 4);
  assert.equal(clampTarget(-3, s), 2);
  assert.equal(clampTarget(Infinity, s), 5);
  assert.equal(clampTarget(Number.NaN, s), 2);
});

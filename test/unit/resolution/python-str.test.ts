import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pyFloatRepr, pyRepr, pyStr, pyTruthy } from '../../../src/resolution/python-str.js';

test('lists and dicts print as Python reprs', () => {
  assert.equal(pyStr(['a', 'b']), "['a', 'b']");
  assert.equal(pyStr({ k: 'v' }), "{'k': 'v'}");
  assert.equal(pyStr({ dbuser: 'u', n: [1, { x: null }] }), "{'dbuser': 'u', 'n': [1, {'x': None}]}");
  assert.equal(pyStr([]), '[]');
  assert.equal(pyStr({}), '{}');
});

test('booleans, None, ints and floats print as Python does', () => {
  assert.equal(pyStr(true), 'True');
  assert.equal(pyStr(false), 'False');
  assert.equal(pyStr(null), 'None');
  assert.equal(pyStr(42), '42');
  assert.equal(pyStr(-7), '-7');
  assert.equal(pyStr(1.5), '1.5');
  assert.equal(pyStr(0.1 + 0.2), '0.30000000000000004');
  assert.equal(pyStr([true, null, 2.25]), '[True, None, 2.25]');
});

test('float repr switches to exponent notation where Python does', () => {
  assert.equal(pyFloatRepr(1), '1.0');
  assert.equal(pyFloatRepr(0.0001), '0.0001');
  assert.equal(pyFloatRepr(0.00001), '1e-05');
  assert.equal(pyFloatRepr(1.5e-7), '1.5e-07');
  assert.equal(pyFloatRepr(1e16), '1e+16');
  assert.equal(pyFloatRepr(123456.789), '123456.789');
  assert.equal(pyFloatRepr(-2.5), '-2.5');
  assert.equal(pyFloatRepr(Infinity), 'inf');
  assert.equal(pyFloatRepr(NaN), 'nan');
});

test('a top-level string prints as is, strings inside containers get Python quoting', () => {
  assert.equal(pyStr("it's"), "it's");
  assert.equal(pyRepr('plain'), "'plain'");
  assert.equal(pyRepr("it's"), '"it\'s"');
  assert.equal(pyRepr('both \' and "'), "'both \\' and \"'");
  assert.equal(pyRepr('a\\b\nc\td'), "'a\\\\b\\nc\\td'");
  assert.equal(pyRepr('\x01é'), "'\\x01é'");
  assert.equal(pyStr(['x', "y'z"]), `['x', "y'z"]`);
});

test('undefined prints as empty text at top level', () => {
  assert.equal(pyStr(undefined), '');
});

test('Python truthiness: empty containers are false', () => {
  assert.equal(pyTruthy([]), false);
  assert.equal(pyTruthy({}), false);
  assert.equal(pyTruthy(''), false);
  assert.equal(pyTruthy(0), false);
  assert.equal(pyTruthy([0]), true);
  assert.equal(pyTruthy({ a: 1 }), true);
  assert.equal(pyTruthy('0'), true);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedVersions, notModified } from '../src/http/etag.js';

describe('If-Match (strong comparison)', () => {
  for (const [header, versions] of [
    [undefined, undefined],
    ['*', undefined],
    ['"3"', [3]],
    [' "9" ,"1"', [9, 1]],
    ['W/"3"', []],
    ['W/"3", "4"', [4]],
    ['"3" "4"', []],
    ['3', []],
    ['"abc"', []],
    ['"1234567890"', []],
  ] as const) {
    it(`${JSON.stringify(header)} allows ${JSON.stringify(versions)}`, () => {
      assert.deepEqual(expectedVersions(header), versions);
    });
  }
});

describe('If-None-Match (weak comparison)', () => {
  for (const [header, version, hit] of [
    [undefined, 1, false],
    ['*', 1, true],
    ['"1"', 1, true],
    ['W/"1"', 1, true],
    ['"2", W/"1"', 1, true],
    ['"2"', 1, false],
    ['"1" "2"', 1, false],
  ] as const) {
    it(`${JSON.stringify(header)} on version ${version}: ${hit ? '304' : '200'}`, () => {
      assert.equal(notModified(header, version), hit);
    });
  }
});

// SOURCE_DATE_EPOCH as tbuild build reads it: from the build args, filled in from the environment
// when the flags do not give it (as buildx does), whole seconds only, written as Go writes times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withEnvironmentEpoch } from '../../cli/build-epoch.ts';
import { TbuildError } from '../../errors.ts';
import { epochTimestamp, sourceDateEpoch } from '../../frontend/index.ts';

test('the environment fills in a missing build arg and never overrides one given', () => {
  assert.deepEqual(withEnvironmentEpoch({}, { SOURCE_DATE_EPOCH: '5' }), { SOURCE_DATE_EPOCH: '5' });
  assert.deepEqual(withEnvironmentEpoch({ SOURCE_DATE_EPOCH: '7' }, { SOURCE_DATE_EPOCH: '5' }), {
    SOURCE_DATE_EPOCH: '7',
  });
  assert.deepEqual(withEnvironmentEpoch({ A: '1' }, {}), { A: '1' });
});

test('whole seconds are read; unset or empty is no epoch; anything else is refused', () => {
  assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' }), 1700000000);
  assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '0' }), 0);
  assert.equal(sourceDateEpoch({}), undefined);
  assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '' }), undefined);
  for (const bad of ['soon', '1.5', '1e9', ' 1', '0x10', '99999999999999999999']) {
    assert.throws(
      () => sourceDateEpoch({ SOURCE_DATE_EPOCH: bad }),
      (error: unknown) =>
        error instanceof TbuildError &&
        error.exitCode === 1 &&
        error.message === `invalid SOURCE_DATE_EPOCH: ${bad}`,
      bad,
    );
  }
});

test('the config time is RFC 3339 in UTC without a zero fraction', () => {
  assert.equal(epochTimestamp(1700000000), '2023-11-14T22:13:20Z');
  assert.equal(epochTimestamp(0), '1970-01-01T00:00:00Z');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { familiarString, formatReference, parseReference, parseTaggedReference } from '../../image/index.ts';

// Expected values follow distribution/reference normalize_test.go and what the Docker CLI prints.
const valid: [input: string, full: string, familiar: string][] = [
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
  ['user/app:v1.0-rc_1', 'docker.io/user/app:v1.0-rc_1', 'user/app:v1.0-rc_1'],
  ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
  ['localhost:5000/team/app:2', 'localhost:5000/team/app:2', 'localhost:5000/team/app:2'],
  ['registry.example.com/a/b/c', 'registry.example.com/a/b/c:latest', 'registry.example.com/a/b/c:latest'],
  ['[::1]:5000/app', '[::1]:5000/app:latest', '[::1]:5000/app:latest'],
  ['Example.com/app', 'Example.com/app:latest', 'Example.com/app:latest'],
  ['a__b/c.d-e', 'docker.io/a__b/c.d-e:latest', 'a__b/c.d-e:latest'],
];

test('references are normalised like distribution/reference', () => {
  for (const [input, full, familiar] of valid) {
    const ref = parseTaggedReference(input);
    assert.equal(formatReference(ref), full, input);
    assert.equal(familiarString(ref), familiar, input);
  }
});

test('digests are kept, with or without a tag, and imply no tag', () => {
  const hex = 'a'.repeat(64);
  const ref = parseTaggedReference(`busybox@sha256:${hex}`);
  assert.equal(ref.tag, undefined);
  assert.equal(formatReference(ref), `docker.io/library/busybox@sha256:${hex}`);
  const both = parseReference(`user/app:v1@sha256:${hex}`);
  assert.equal(both.tag, 'v1');
  assert.equal(both.digest, `sha256:${hex}`);
  assert.equal(familiarString(both), `user/app:v1@sha256:${hex}`);
});

const invalid: [input: string, reason: RegExp][] = [
  ['Busybox', /repository name \(library\/Busybox\) must be lowercase/],
  ['user/App', /must be lowercase/],
  ['', /empty reference/],
  ['a'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
  ['busybox:', /invalid tag ""/],
  ['busybox:-bad', /invalid tag "-bad"/],
  ['busybox@sha256:xyz', /invalid digest/],
  ['busybox@md5:0123456789abcdef0123456789abcdef', /unsupported digest/],
  ['-busybox', /not a valid image name/],
  ['bus//box', /not a valid image name/],
  ['busy box', /not a valid image name/],
  [`docker.io/${'a'.repeat(250)}`, /must not be more than 255 characters/],
];

test('invalid references are rejected with a reason', () => {
  for (const [input, reason] of invalid) {
    assert.throws(
      () => parseReference(input),
      (e: Error) =>
        e.name === 'StoreError' && /^invalid reference format: /.test(e.message) && reason.test(e.message),
      input,
    );
  }
});

// `RUN <<EOF` whose body starts with `#!`: BuildKit writes the body to a file and executes it, so
// the interpreter named by the shebang runs it (dockerfile2llb dispatchRun, /dev/pipes/<name>).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('a shebang heredoc runs with its interpreter, from a file that is not left in the image', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'RUN <<EOF',
      '#!/bin/awk -f',
      'BEGIN { print "awk ran", ARGV[0] > "/awk.txt" }',
      'EOF',
      'RUN <<-EOT',
      '\t#!/bin/sh',
      '\techo "script $0" > /sh.txt',
      '\tEOT',
      'RUN <<EOF',
      'echo "no shebang: plain shell" > /plain.txt',
      'EOF',
      '',
    ].join('\n'),
  });
  assert.equal(await image.text('/awk.txt'), 'awk ran awk\n');
  // <<- strips the tabs first, so the body still starts with #!.
  assert.equal(await image.text('/sh.txt'), 'script /dev/pipes/EOT\n');
  assert.equal(await image.text('/plain.txt'), 'no shebang: plain shell\n');
  assert.equal(image.entries.has('/dev/pipes'), false);
  const createdBy = (image.config.history ?? []).map((entry) => entry.created_by);
  assert.ok(createdBy.includes('RUN /bin/sh -c /dev/pipes/EOF # buildkit'), createdBy.join('\n'));
});

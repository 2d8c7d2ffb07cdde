// image/delete-plan.ts planImageDelete: moby's daemon/images/image_delete.go rules as a table
// (image tags, how rmi names it, -f, the containers using it) → untag lines and deletion, or the
// conflict Docker reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DeleteRequest, type ImageUser, planImageDelete } from '../../image/index.ts';

const id = `sha256:${'ab'.repeat(32)}`;
const ctr = 'cd'.repeat(32);
const digest = `sha256:${'ef'.repeat(32)}`;
const bb = 'docker.io/library/busybox:latest';
const bb1 = 'docker.io/library/busybox:1';
const other = 'example.com/team/bb:v1';
const stopped: ImageUser[] = [{ id: ctr, running: false }];
const running: ImageUser[] = [{ id: ctr, running: true }];

interface Row {
  name: string;
  tags: string[];
  request: DeleteRequest;
  force?: boolean;
  users?: ImageUser[];
  /** The plan, or the conflict message. */
  want: { untag: string[]; untagged: string[]; deleteImage: boolean } | string;
}

const rows: Row[] = [
  {
    name: 'the last tag: untag and delete',
    tags: [bb],
    request: { kind: 'tag', tag: bb, arg: 'busybox' },
    want: { untag: [bb], untagged: ['busybox:latest'], deleteImage: true },
  },
  {
    name: 'one of two tags: untag only',
    tags: [bb, other],
    request: { kind: 'tag', tag: other, arg: 'example.com/team/bb:v1' },
    want: { untag: [other], untagged: ['example.com/team/bb:v1'], deleteImage: false },
  },
  {
    name: 'an ID with one tag: untag and delete',
    tags: [bb],
    request: { kind: 'id' },
    want: { untag: [bb], untagged: ['busybox:latest'], deleteImage: true },
  },
  {
    name: 'an ID with tags in two repositories: must be forced',
    tags: [bb, other],
    request: { kind: 'id' },
    want: `conflict: unable to delete abababababab (must be forced) - image is referenced in multiple repositories`,
  },
  {
    // moby's isSingleReference counts tags, not repositories: two tags of one repository too.
    name: 'an ID with two tags of one repository: must be forced (same message)',
    tags: [bb1, bb],
    request: { kind: 'id' },
    want: `conflict: unable to delete abababababab (must be forced) - image is referenced in multiple repositories`,
  },
  {
    name: 'an ID with two tags, forced: every tag goes and the image',
    tags: [bb, other],
    request: { kind: 'id' },
    force: true,
    want: { untag: [bb, other], untagged: ['busybox:latest', 'example.com/team/bb:v1'], deleteImage: true },
  },
  {
    name: 'an untagged image by ID',
    tags: [],
    request: { kind: 'id' },
    want: { untag: [], untagged: [], deleteImage: true },
  },
  {
    name: 'a digest reference of a tagged image: only that reference',
    tags: [bb],
    request: { kind: 'digest', arg: `busybox@${digest}` },
    want: { untag: [], untagged: [`busybox@${digest}`], deleteImage: false },
  },
  {
    name: 'the digest reference of an untagged image: it is the last one',
    tags: [],
    request: { kind: 'digest', arg: `busybox@${digest}` },
    want: { untag: [], untagged: [`busybox@${digest}`], deleteImage: true },
  },
  {
    name: 'the last tag of an image a stopped container uses: must force',
    tags: [bb],
    request: { kind: 'tag', tag: bb, arg: 'busybox' },
    users: stopped,
    want: `conflict: unable to remove repository reference "busybox" (must force) - container cdcdcdcdcdcd is using its referenced image abababababab`,
  },
  {
    name: 'the last tag of an image a stopped container uses, forced: untag and delete',
    tags: [bb],
    request: { kind: 'tag', tag: bb, arg: 'busybox' },
    users: stopped,
    force: true,
    want: { untag: [bb], untagged: ['busybox:latest'], deleteImage: true },
  },
  {
    name: 'the last tag of an image a running container uses, forced: untag, the image stays',
    tags: [bb],
    request: { kind: 'tag', tag: bb, arg: 'busybox' },
    users: running,
    force: true,
    want: { untag: [bb], untagged: ['busybox:latest'], deleteImage: false },
  },
  {
    name: 'one of two tags of an image a container uses: untag only, no conflict',
    tags: [bb, other],
    request: { kind: 'tag', tag: bb, arg: 'busybox' },
    users: running,
    want: { untag: [bb], untagged: ['busybox:latest'], deleteImage: false },
  },
  {
    name: 'an ID a stopped container uses: must be forced',
    tags: [bb],
    request: { kind: 'id' },
    users: stopped,
    want: `conflict: unable to delete abababababab (must be forced) - image is being used by stopped container cdcdcdcdcdcd`,
  },
  {
    name: 'an ID a stopped container uses, forced: deleted',
    tags: [bb],
    request: { kind: 'id' },
    users: stopped,
    force: true,
    want: { untag: [bb], untagged: ['busybox:latest'], deleteImage: true },
  },
  {
    name: 'an ID a running container uses: cannot be forced',
    tags: [bb],
    request: { kind: 'id' },
    users: running,
    force: true,
    want: `conflict: unable to delete abababababab (cannot be forced) - image is being used by running container cdcdcdcdcdcd`,
  },
  {
    name: 'an untagged ID a running container uses, forced: cannot be forced',
    tags: [],
    request: { kind: 'id' },
    users: running,
    force: true,
    want: `conflict: unable to delete abababababab (cannot be forced) - image is being used by running container cdcdcdcdcdcd`,
  },
  {
    name: 'an ID with two tags a running container uses, forced: cannot be forced',
    tags: [bb, other],
    request: { kind: 'id' },
    users: running,
    force: true,
    want: `conflict: unable to delete abababababab (cannot be forced) - image is being used by running container cdcdcdcdcdcd`,
  },
];

for (const row of rows) {
  test(row.name, () => {
    const run = () =>
      planImageDelete({ id, tags: row.tags }, row.request, row.force ?? false, row.users ?? []);
    if (typeof row.want === 'string') {
      assert.throws(run, (error: Error) => {
        assert.equal(error.message, row.want);
        return true;
      });
    } else {
      assert.deepEqual(run(), row.want);
    }
  });
}

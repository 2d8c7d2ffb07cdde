import {
  type DeleteRequest,
  type Digest,
  familiarString,
  type ImageStore,
  type ImageUser,
  normalizeTag,
  parseReference,
  planImageDelete,
  type StoredImage,
  StoreError,
} from '../../image/index.ts';
import { listContainers, syncState } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild rmi [OPTIONS] IMAGE [IMAGE...]

Remove one or more images

Options:
  -f, --force      Force removal of the image
      --no-prune   Do not delete untagged parents (accepted for compatibility)
`;

/** Docker's isImageIDPrefix: the argument is (a prefix of) the image ID, with or without `sha256:`. */
function isImageIdPrefix(id: string, arg: string): boolean {
  return id.startsWith(arg) || id.slice('sha256:'.length).startsWith(arg);
}

/** How `arg` names the image it found: ID, tag, or digest reference (see image/delete-plan.ts). */
function requestOf(arg: string, images: StoredImage[]): DeleteRequest {
  const id = (images[0] as StoredImage).id;
  if (isImageIdPrefix(id, arg)) return { kind: 'id' };
  const ref = parseReference(arg);
  if (ref.digest === undefined) return { kind: 'tag', tag: normalizeTag(arg), arg };
  // A digest reference exists for each repository the image is tagged in (its RepoDigests), or,
  // untagged, as its only name; another repository's name with this digest names nothing.
  const repoTagged = images.some((i) => i.tags.some((t) => parseReference(t).name === ref.name));
  const untagged = images.every((i) => i.tags.length === 0);
  if (!images.some((i) => i.descriptor.digest === ref.digest) || !(repoTagged || untagged)) {
    throw new StoreError(`No such image: ${arg}`);
  }
  return { kind: 'digest', arg: familiarString(ref) };
}

/** The containers made from image `id`, with their state made true first. */
async function usersOf(root: string, id: string): Promise<ImageUser[]> {
  const users: ImageUser[] = [];
  for (const listed of await listContainers(root)) {
    if (listed.record.ImageId !== id) continue;
    const c = await syncState(root, listed);
    users.push({ id: c.record.Id, running: ['running', 'paused', 'restarting'].includes(c.state.Status) });
  }
  return users;
}

/** Removes one argument: the plan of image/delete-plan.ts (moby's ImageDelete), then carried out. */
async function removeOne(
  store: ImageStore,
  root: string,
  arg: string,
  force: boolean,
  out: string[],
): Promise<void> {
  const matches = await store.find(arg);
  if (matches.length === 0) throw new StoreError(`No such image: ${arg}`);
  const ids = new Set(matches.map((m) => m.id));
  if (ids.size > 1) throw new StoreError(`multiple images match "${arg}": give a longer ID or a tag`);
  const request = requestOf(arg, matches);
  // A tag names one manifest; an ID or digest may stand for several manifests of one config.
  const images = request.kind === 'tag' ? matches.filter((m) => m.tags.includes(request.tag)) : matches;
  const target = { id: (matches[0] as StoredImage).id, tags: [...new Set(images.flatMap((m) => m.tags))] };
  const plan = planImageDelete(target, request, force, await usersOf(root, target.id));
  for (const tag of plan.untag) await store.untag(tag, true);
  for (const line of plan.untagged) out.push(`Untagged: ${line}`);
  if (!plan.deleteImage) return;
  for (const image of images) await store.deleteImage(image.descriptor.digest);
  await deleteBlobs(store, images, out);
}

async function deleteBlobs(store: ImageStore, images: StoredImage[], out: string[]): Promise<void> {
  const candidates = new Set<Digest>();
  for (const image of images) {
    candidates.add(image.descriptor.digest);
    candidates.add(image.id);
    for (const l of image.manifest.layers) candidates.add(l.digest);
  }
  const removed = new Set(await store.collectGarbage(candidates));
  const id = images[0]?.id;
  if (id !== undefined && (removed.has(id) || !(await store.hasBlob(id)))) out.push(`Deleted: ${id}`);
  for (const image of images) {
    for (const l of image.manifest.layers) {
      if (removed.has(l.digest)) {
        out.push(`Deleted: ${l.digest}`);
        removed.delete(l.digest);
      }
    }
  }
}

/** `tbuild rmi [-f] IMAGE...` (docker rmi). */
export const rmiCommand: Command = {
  summary: 'Remove one or more images',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'rmi',
      usage,
      options: { force: { type: 'boolean', short: 'f' }, 'no-prune': { type: 'boolean' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const store = await openStore(ctx);
    let failed = 0;
    try {
      for (const arg of positionals) {
        const out: string[] = [];
        try {
          await removeOne(store, containerRoot(ctx), arg, values.force ?? false, out);
        } catch (error) {
          if (!(error instanceof StoreError)) throw error;
          // Docker goes on with the other arguments and exits 1 at the end.
          failed++;
          ctx.stderr.write(`Error: ${error.message}\n`);
        }
        for (const line of out) ctx.stdout.write(`${line}\n`);
      }
      return failed > 0 ? 1 : 0;
    } finally {
      await store.close();
    }
  },
};

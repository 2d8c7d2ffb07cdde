/**
 * What `rmi ARG` does to one image, decided as moby's daemon/images/image_delete.go ImageDelete
 * and imageDeleteHelper decide it, as a pure plan: which tags to remove, the `Untagged:` lines,
 * and whether the image itself goes, or a conflict error.
 *
 * tbuild's references differ from Docker's in one way: it stores tags only. An image's digest
 * references (its RepoDigests, `REPO@<manifest digest>`, see cli/commands/inspect.ts); cli/commands/rmi.ts
 * carries the plan out are implied,
 * one per repository it is tagged in, so Docker's cleanup of a repository's digest references when
 * its last tag goes needs no step here, and `rmi REPO@sha256:…` removes only that reference: the
 * `Untagged:` line, while the tags, the image and its blobs stay (as Docker, when tags remain).
 * A dangling image named by its manifest digest is its own last reference and is deleted.
 * tbuild images have no parent chain, so Docker's "image has dependent child images" never arises.
 */

import { StoreError } from './errors.ts';
import { familiarString, parseReference } from './reference.ts';
import { shortId } from './short-id.ts';

/** The image `rmi` found for its argument (every manifest with this ID, merged). */
export interface DeleteTarget {
  /** The image ID (config digest). */
  id: string;
  /** Full normalised tags (`docker.io/library/busybox:latest`). */
  tags: string[];
}

/** A container made from the image. */
export interface ImageUser {
  id: string;
  /** Running, paused or restarting (moby's IsRunning). */
  running: boolean;
}

/** How the argument named the image: by ID (or ID prefix), by tag, or by digest reference. */
export type DeleteRequest =
  | { kind: 'id' }
  | { kind: 'tag'; tag: string; arg: string }
  | { kind: 'digest'; arg: string };

export interface DeletePlan {
  /** Tags to remove from the store, in order. */
  untag: string[];
  /** The `Untagged: …` lines, familiar form. */
  untagged: string[];
  /** Whether the image's index entries go (its blobs then at garbage collection). */
  deleteImage: boolean;
}

const display = (ref: string) => familiarString(parseReference(ref));

/** moby's imageDeleteConflict: hard conflicts cannot be forced, soft ones must be. */
interface Conflict {
  hard: boolean;
  /** A container uses the image (moby's `used`). */
  used: boolean;
  message: string;
}

function conflictError(id: string, c: Conflict): StoreError {
  return new StoreError(
    `conflict: unable to delete ${shortId(id)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}`,
  );
}

/**
 * moby checkImageDeleteConflict, in its order: a running container (hard), remaining references
 * (soft), a stopped container (soft). `soft` false is `-f`; `references` false leaves that check
 * out (ImageDelete's `conflictSoft &^ conflictActiveReference` for a singly referenced ID).
 */
function findConflict(
  remaining: string[],
  users: ImageUser[],
  check: { soft: boolean; references: boolean },
): Conflict | undefined {
  const running = users.find((u) => u.running);
  if (running) {
    return {
      hard: true,
      used: true,
      message: `image is being used by running container ${shortId(running.id)}`,
    };
  }
  if (!check.soft) return undefined;
  if (check.references && remaining.length > 0) {
    return { hard: false, used: false, message: 'image is referenced in multiple repositories' };
  }
  const stopped = users.find((u) => !u.running);
  if (stopped) {
    return {
      hard: false,
      used: true,
      message: `image is being used by stopped container ${shortId(stopped.id)}`,
    };
  }
  return undefined;
}

/** The plan for `rmi [-f] ARG` (see the file comment); throws a StoreError for a conflict. */
export function planImageDelete(
  target: DeleteTarget,
  request: DeleteRequest,
  force: boolean,
  users: ImageUser[],
): DeletePlan {
  const plan: DeletePlan = { untag: [], untagged: [], deleteImage: false };
  let remaining = [...target.tags];
  // moby isSingleReference: one tag (with digest references in its repository only), or, here,
  // the implied digest reference of an untagged image.
  const single = target.tags.length === 1 || (target.tags.length === 0 && request.kind === 'digest');
  let quiet = false;
  if (request.kind !== 'id') {
    const user = users[0];
    if (!force && single && user) {
      // Untagging would leave the container's image dangling: moby makes the user force it. It
      // quotes the argument as given (`"busybox"`), not normalised.
      throw new StoreError(
        `conflict: unable to remove repository reference "${request.arg}" (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(target.id)}`,
      );
    }
    if (request.kind === 'tag') {
      plan.untag.push(request.tag);
      remaining = remaining.filter((t) => t !== request.tag);
    }
    plan.untagged.push(request.kind === 'tag' ? display(request.tag) : request.arg);
    if (remaining.length > 0) return plan;
    // The last reference went: the image goes too, unless something still needs it (quietly).
    quiet = true;
  } else if (single) {
    const conflict = findConflict(remaining, users, { soft: !force, references: false });
    if (conflict) throw conflictError(target.id, conflict);
    for (const tag of remaining) {
      plan.untag.push(tag);
      plan.untagged.push(display(tag));
    }
    remaining = [];
  }
  const conflict = findConflict(remaining, users, { soft: !force, references: true });
  if (conflict) {
    // moby imageDeleteHelper: after an untag, a used image stays as `<none>` without an error.
    if (quiet && conflict.used) return plan;
    throw conflictError(target.id, conflict);
  }
  for (const tag of remaining) {
    plan.untag.push(tag);
    plan.untagged.push(display(tag));
  }
  plan.deleteImage = true;
  return plan;
}

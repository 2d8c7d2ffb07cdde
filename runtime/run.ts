/**
 * Attached containers, as `docker run` without `-d`, `docker start -a` and `docker attach` have
 * them: the session (attach.ts) and, once it ends, the container's exit code (waited for) with
 * `--rm` applied by whoever was attached. A start attaches between `runc create` and `runc
 * start`, so nothing the process writes first is missed. The container is kept otherwise: `ps
 * -a` shows it exited, as Docker keeps it.
 */
import {
  type AttachEnd,
  type AttachRequest,
  type AttachSession,
  attachContainer,
  openAttachSession,
} from './attach.ts';
import type { Container } from './container.ts';
import { ContainerError } from './errors.ts';
import { removeContainer, type SelfCommand, startContainer, waitContainer } from './lifecycle.ts';
import { holdRemoval } from './removal-hold.ts';

export interface AttachedRun {
  container: Container;
  session: AttachSession;
  /**
   * After the session is done: the container's exit code (waited for) and its `--rm` applied;
   * undefined when the user detached (the container runs on).
   */
  finish(end: AttachEnd): Promise<number | undefined>;
}

/** Starts the container (a running one is only attached to) with `attach` connected first. */
export async function startAttached(
  root: string,
  ref: string,
  self: SelfCommand,
  attach: AttachRequest,
): Promise<AttachedRun> {
  let session: AttachSession | undefined;
  let release: (() => Promise<void>) | undefined;
  try {
    const container = await startContainer(root, ref, self, {
      beforeStart: async (created) => {
        if (created.record.HostConfig.AutoRemove) release = await holdRemoval(created);
        session = await openAttachSession(created, attach);
      },
    });
    // It was running already: attached as it is (docker start -a of a running container).
    session ??= await openAttachSession(container, attach);
    return attached(root, container, session, release);
  } catch (error) {
    session?.detach();
    await release?.();
    throw error;
  }
}

/** Attaches to a running container (`attach`). */
export async function attachRunning(root: string, ref: string, attach: AttachRequest): Promise<AttachedRun> {
  const session = await attachContainer(root, ref, attach);
  const container = session.container;
  const release = container.record.HostConfig.AutoRemove ? await holdRemoval(container) : undefined;
  return attached(root, container, session, release);
}

function attached(
  root: string,
  container: Container,
  session: AttachSession,
  release: (() => Promise<void>) | undefined,
): AttachedRun {
  const { Id, HostConfig } = container.record;
  return {
    container,
    session,
    finish: async (end) => {
      try {
        if (end === 'detached') return undefined;
        const code = await waitContainer(root, Id);
        if (HostConfig.AutoRemove) await removeIfPresent(root, Id);
        return code;
      } finally {
        await release?.();
      }
    },
  };
}

async function removeIfPresent(root: string, id: string): Promise<void> {
  try {
    await removeContainer(root, id, true, true);
  } catch (error) {
    if (!(error instanceof ContainerError && error.message.startsWith('No such container'))) throw error;
  }
}

/**
 * A port forwarder found dead (killed with -9, OOM-killed) while its container runs: the next
 * command that looks at the container's ports (`ps`, `port`, `start` of the running container)
 * starts a new one on the same host ports, and says so; a host port someone else took meanwhile
 * is reported and dropped from the published ports, which then show what is really published.
 *
 * Why restore rather than only report: Podman's rootlessport and Docker's docker-proxy are not
 * watched by anyone (conmon watches the container, not them), so their death leaves ports listed
 * that nothing serves, until the container restarts. Here the record knows the exact bindings
 * and the container runs, so serving them again is what the user asked for with `-p`; doing it
 * in the next command that reads them keeps tbuild daemonless.
 *
 * Runs under the container's lock, so it never races the detach of a stop or rm (which stops the
 * forwarder under that lock), and under the root's ports lock, as a start publishes them.
 */
import { join } from 'node:path';
import { acquireLock } from '../../locks.ts';
import { withContainerLock } from '../container-store.ts';
import { isActive } from '../state-sync.ts';
import { attachedContainerIds, readAttachment, writeAttachment } from './attach.ts';
import { startForwarder } from './forwarder.ts';
import { isHelperAlive } from './helper-process.ts';
import { listenOnHost } from './host-listen.ts';
import { endpointId } from './manage.ts';
import { isNamespaceMounted } from './namespace.ts';
import { runDir } from './run-dir.ts';

/** What became of a container's forwarder: still alive (or none needed), started again, or its ports lost. */
export type ForwarderCheck = { kind: 'fine' } | { kind: 'restored' } | { kind: 'lost'; reason: string };

/** Restores the container's forwarder if it died; `self` runs tbuild (the forwarder is `tbuild port-forwarder`). */
export async function restoreForwarder(
  root: string,
  containerId: string,
  self: readonly string[],
): Promise<ForwarderCheck> {
  const quick = readAttachment(root, containerId);
  if (quick === undefined || quick.ports.length === 0 || isHelperAlive(quick.forwarder))
    return { kind: 'fine' };
  const outcome = await withContainerLock(root, containerId, async (container): Promise<ForwarderCheck> => {
    const attachment = readAttachment(root, containerId);
    const primary = attachment?.networks[0];
    if (attachment === undefined || primary === undefined || attachment.ports.length === 0)
      return { kind: 'fine' };
    if (isHelperAlive(attachment.forwarder) || !isActive(container)) return { kind: 'fine' };
    if (!isNamespaceMounted(primary.networkNetns)) return { kind: 'fine' }; // its network is gone: the sync detaches it
    const lock = await acquireLock(join(runDir(root), 'locks', 'ports.lock'));
    try {
      const taken = attachedContainerIds(root)
        .filter((id) => id !== containerId)
        .flatMap((id) => readAttachment(root, id)?.ports ?? []);
      const wanted = attachment.ports.map((p) => ({
        ...p,
        hostPorts: [p.hostPort, p.hostPort] as [number, number],
      }));
      const endpoint = `${container.record.Name} (${endpointId(containerId, primary.id)})`;
      try {
        const { listeners, bound } = await listenOnHost(wanted, taken, endpoint);
        attachment.forwarder = await startForwarder(
          self,
          primary.networkNetns,
          attachment.netns,
          listeners,
          bound,
          primary.ip,
        );
        writeAttachment(root, attachment);
        return { kind: 'restored' };
      } catch (error) {
        attachment.ports = [];
        delete attachment.forwarder;
        writeAttachment(root, attachment);
        return { kind: 'lost', reason: (error as Error).message };
      }
    } finally {
      await lock.release();
    }
  });
  return outcome ?? { kind: 'fine' };
}

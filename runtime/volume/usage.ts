/**
 * Which containers use which volume: every container on disk, whatever its state, holds its
 * volumes (Docker refuses `volume rm` of a volume a stopped container refers to, and `dangling`
 * means no container at all refers to it).
 */
import { listContainers } from '../container-store.ts';
import { mountedVolumes } from './container-mount.ts';

/** Volume name → the ids of the containers that refer to it. */
export async function volumeUsers(root: string): Promise<Map<string, string[]>> {
  const users = new Map<string, string[]>();
  for (const container of await listContainers(root)) {
    for (const name of new Set(mountedVolumes(container.record.HostConfig.Mounts))) {
      users.set(name, [...(users.get(name) ?? []), container.record.Id]);
    }
  }
  return users;
}

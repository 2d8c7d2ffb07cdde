import { chmod, chown, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';

/**
 * `RUN --mount=type=ssh`: a socket of the step's own, owned and moded as the mount says, that
 * relays every connection to the build's ssh agent (BuildKit's sshforward MountSSHSocket does the
 * same over its session). The step can ask the agent to sign; the keys stay in the agent, so no
 * key material passes through here, let alone into a layer. The agent's own socket is never
 * mounted: its owner and mode are the user's, not the step's to change.
 */
export interface ForwardedAgent {
  /** The socket to bind-mount into the step. */
  path: string;
  /** Stops relaying, closes open connections, removes the socket. Never throws. */
  close(): Promise<void>;
}

export async function forwardSshAgent(
  agent: string,
  path: string,
  owner: { uid: number; gid: number; mode: number },
): Promise<ForwardedAgent> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(agent);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      // One side failing ends both: the step sees the agent go away, nothing more.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const close = async () => {
    for (const socket of open) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(path, { force: true }).catch(() => undefined);
  };
  try {
    await chown(path, owner.uid, owner.gid);
    await chmod(path, owner.mode);
  } catch (error) {
    await close();
    throw error;
  }
  return { path, close };
}

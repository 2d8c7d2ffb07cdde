/**
 * Attaching to a container (`attach`, `start -a`, and `run` in the foreground): its output from
 * the monitor as it comes, our stdin to it when it was created with `-i`, and Docker's detach
 * keys, which end the attach and leave the container running. The connection itself is
 * attach-relay.ts; the terminal (raw mode, window size, signals) belongs to the caller.
 */
import { connectToMonitor } from './attach-relay.ts';
import type { Container } from './container.ts';
import { containerPaths } from './container-store.ts';
import { DetachKeyWatcher } from './detach-keys.ts';
import { ContainerError } from './errors.ts';
import { inspectContainer } from './lifecycle.ts';

export interface AttachRequest {
  /** Our input, relayed to the container's stdin (only for a container created with `-i`). */
  stdin?: NodeJS.ReadableStream;
  stdout: (chunk: Buffer) => void;
  stderr: (chunk: Buffer) => void;
  /** The detach sequence (detach-keys.ts); empty: none. */
  detachKeys: Buffer;
  /** A `-t` container's terminal size, set as soon as the connection is made. */
  size?: { rows: number; columns: number };
}

/** How an attach ended: the container's output ended (it exited), or the user detached. */
export type AttachEnd = 'ended' | 'detached';

export interface AttachSession {
  /** The container as it was when the attach was made. */
  container: Container;
  /** Resolves when the attach is over. */
  done: Promise<AttachEnd>;
  resize(rows: number, columns: number): void;
  /** Ends the attach as the detach keys do. */
  detach(): void;
}

/**
 * Attaches to a running container; Docker's errors for one that is not running (the daemon's
 * words, moby daemon/attach.go).
 */
export async function attachContainer(
  root: string,
  ref: string,
  request: AttachRequest,
): Promise<AttachSession> {
  const container = await inspectContainer(root, ref);
  if (container.state.Status === 'paused') {
    throw new ContainerError('You cannot attach to a paused container, unpause it first');
  }
  if (container.state.Status !== 'running') {
    throw new ContainerError('You cannot attach to a stopped container, start it first');
  }
  return openAttachSession(container, request);
}

/**
 * Attaches to a container whose monitor runs (or is about to run it: `start`'s hook between
 * `runc create` and `runc start`, so that no output is missed).
 */
export async function openAttachSession(
  container: Container,
  request: AttachRequest,
): Promise<AttachSession> {
  const withStdin = request.stdin !== undefined && container.record.Config.OpenStdin;
  const monitor = await connectToMonitor(containerPaths(container.dir, container.record.Id).bundle, {
    stdin: withStdin,
    stdout: request.stdout,
    stderr: request.stderr,
  });
  if (request.size && container.record.Config.Tty) monitor.resize(request.size.rows, request.size.columns);
  let finish: (end: AttachEnd) => void = () => undefined;
  const done = new Promise<AttachEnd>((resolve) => {
    finish = resolve;
  });
  const stdin = withStdin ? request.stdin : undefined;
  const watcher = new DetachKeyWatcher(request.detachKeys);
  const onData = (chunk: Buffer | string) => {
    const { pass, detached } = watcher.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (pass.length > 0) monitor.input?.write(pass);
    if (detached) finish('detached');
  };
  const onEnd = () => monitor.input?.end();
  stdin?.on('data', onData);
  stdin?.once('end', onEnd);
  stdin?.resume();
  void monitor.ended.then(
    () => finish('ended'),
    () => finish('ended'),
  );
  void done.then((end) => {
    stdin?.off('data', onData);
    stdin?.off('end', onEnd);
    stdin?.pause();
    if (end === 'detached') void monitor.close();
  });
  return {
    container,
    done,
    resize: (rows, columns) => {
      if (container.record.Config.Tty) monitor.resize(rows, columns);
    },
    detach: () => finish('detached'),
  };
}

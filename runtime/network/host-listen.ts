/**
 * The host side of published ports: the listening sockets, opened by tbuild in the host's network
 * namespace (where they must be) and handed to the forwarder (forwarder.ts) as inherited
 * descriptors. TCP through net.Server, UDP through dgram; a host port range takes its first port
 * that neither another container of this root holds nor anyone else has bound, as Docker's
 * port allocator does.
 *
 * Node gives no public way to the descriptor of a listening socket; libuv's is read here once,
 * at the hand-over, and checked (a TCP server's `_handle.fd`, a dgram socket's state handle:
 * its `_handle` getter is deprecated and would print a warning).
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, isIP } from 'node:net';
import { RunError } from '../errors.ts';
import type { BoundPort, WantedPort } from './ports.ts';

/** An open listening socket of the host and the descriptor to hand over. */
export interface HostListener {
  fd: number;
  close(): void;
}

/**
 * Binds each wanted port; `taken` are the bindings other containers of this root hold. Throws
 * Docker's messages: "port is already allocated" for one of ours, the userland proxy's bind error
 * for anyone else's.
 */
export async function listenOnHost(
  wanted: WantedPort[],
  taken: BoundPort[],
  endpoint: string,
): Promise<{ listeners: HostListener[]; bound: BoundPort[] }> {
  const listeners: HostListener[] = [];
  const bound: BoundPort[] = [];
  try {
    for (const w of wanted) {
      const [first, last] = w.hostPorts;
      let made: { listener: HostListener; port: number } | undefined;
      let failure: RunError | undefined;
      for (let port = first; port <= last && made === undefined; port++) {
        const candidate: BoundPort = { ...w, hostPort: port };
        if ([...taken, ...bound].some((t) => bindingsClash(candidate, t))) {
          failure = portTakenError(endpoint, candidate);
          continue;
        }
        try {
          made = await listen(candidate);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          failure = new RunError(
            `driver failed programming external connectivity on endpoint ${endpoint}: Error starting userland proxy: listen ${w.protocol}${isIP(w.hostIp) === 6 ? 6 : 4} ${w.hostIp}:${port}: bind: ${code === 'EADDRINUSE' ? 'address already in use' : (error as Error).message}`,
          );
        }
      }
      if (made === undefined)
        throw failure ?? new RunError(`no host port for ${w.containerPort}/${w.protocol}`);
      listeners.push(made.listener);
      bound.push({
        containerPort: w.containerPort,
        protocol: w.protocol,
        hostIp: w.hostIp,
        hostPort: made.port,
      });
    }
  } catch (error) {
    for (const l of listeners) l.close();
    throw error;
  }
  return { listeners, bound };
}

async function listen(b: BoundPort): Promise<{ listener: HostListener; port: number }> {
  if (b.protocol === 'udp') {
    const socket = createSocket({ type: isIP(b.hostIp) === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: b.hostIp, port: b.hostPort, exclusive: true }, () => resolve());
    }).catch((error: unknown) => {
      socket.close();
      throw error;
    });
    return {
      listener: { fd: udpDescriptor(socket), close: () => socket.close() },
      port: socket.address().port,
    };
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: b.hostIp, port: b.hostPort, exclusive: true }, () => resolve());
  });
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return {
    listener: { fd: checked(fd), close: () => server.close() },
    port: (server.address() as { port: number }).port,
  };
}

function udpDescriptor(socket: Socket): number {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle =
    state === undefined
      ? undefined
      : (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[state];
  return checked(handle?.handle?.fd);
}

function checked(fd: number | undefined): number {
  if (typeof fd !== 'number' || fd < 0)
    throw new RunError('cannot hand a listening socket to the port forwarder');
  return fd;
}

/** Docker's message for a host port another container of this root holds. */
export function portTakenError(endpoint: string, b: BoundPort): RunError {
  return new RunError(
    `driver failed programming external connectivity on endpoint ${endpoint}: Bind for ${b.hostIp}:${b.hostPort} failed: port is already allocated`,
  );
}

/** True when two bindings need the same host port (0.0.0.0 overlaps every address). */
export function bindingsClash(a: BoundPort, b: BoundPort): boolean {
  return (
    a.hostPort !== 0 &&
    a.hostPort === b.hostPort &&
    a.protocol === b.protocol &&
    (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0')
  );
}

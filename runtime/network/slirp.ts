/**
 * Outbound traffic of a network: slirp4netns (Debian package `slirp4netns`), the user-mode TCP/IP
 * stack rootless Podman and rootless Docker use, attached to the network's namespace. It adds a
 * tap device there (10.0.2.100/24, default route via 10.0.2.2) and carries what the namespace
 * sends out through ordinary sockets of the host, so the host gets no interface, address, route
 * or firewall rule. 10.0.2.3 forwards DNS to the host's resolvers.
 *
 * It runs with --disable-host-loopback: the host's 127.0.0.1 is not reachable from a network,
 * neither at 10.0.2.2 nor otherwise, as with Docker on Linux and rootless Podman's default
 * (allow_host_loopback=false); services bound to the host's loopback expect only the host's
 * own users. A container that asks for `host-gateway` gets the host's loopback on its own
 * (host-loopback.ts).
 *
 * An `--internal` network gets none: its namespace has no route out at all.
 *
 * Published ports do not go through slirp4netns's own port forwarding (its API's add_hostfwd):
 * measured here, a 100 MB download through it ran at ~14 MB/s, against ~100 MB/s through the
 * forwarder of forwarder.ts, and slirp's listeners would die with it. See forwarder.ts.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { NetworkError } from './errors.ts';
import { type HelperProcess, helperOf } from './helper-process.ts';
import { networkTool } from './tools.ts';

/** slirp4netns's gateway; where it is allowed to (host-loopback.ts), it maps to the host's loopback. */
export const hostGatewayAddress = '10.0.2.2';

/** slirp4netns's DNS forwarder inside a network. */
export const slirpDnsAddress = '10.0.2.3';

/** The tap device's network; user-defined subnets must not overlap it. */
export const slirpSubnet = '10.0.2.0/24';

/** The MTU of slirp4netns's tap devices: the largest it allows, fewer packets through its stack. */
export const slirpMtu = 65520;

/**
 * Starts a network's slirp4netns on the namespace bound to `netnsPath` and resolves once the tap
 * device is up (10.0.2.100/24, default route via 10.0.2.2), the host's loopback cut off.
 */
export function startSlirp(netnsPath: string, logPath: string): Promise<HelperProcess> {
  return spawnSlirp(netnsPath, 'tap0', ['--configure', '--disable-host-loopback'], logPath);
}

/**
 * Starts slirp4netns with `options` on the namespace bound to `netnsPath`, making the tap device
 * `tap` there, and resolves once it is ready. It runs detached (its own session) so that it
 * outlives this command; `logPath` gets its messages.
 */
export async function spawnSlirp(
  netnsPath: string,
  tap: string,
  options: readonly string[],
  logPath: string,
): Promise<HelperProcess> {
  const logFd = openSync(logPath, 'a');
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(
      networkTool('slirp4netns'),
      [
        ...options,
        `--mtu=${slirpMtu}`,
        // A mount namespace of its own with nothing in it, and only CAP_NET_BIND_SERVICE left.
        '--enable-sandbox',
        '--enable-seccomp',
        '--ready-fd=3',
        '--netns-type=path',
        netnsPath,
        tap,
      ],
      { stdio: ['ignore', logFd, logFd, 'pipe'], detached: true },
    );
  } finally {
    closeSync(logFd);
  }
  const ready = child.stdio[3] as Readable;
  await new Promise<void>((resolve, reject) => {
    const fail = (reason: string) =>
      reject(new NetworkError(`could not start slirp4netns for a container network: ${reason}`));
    child.once('error', (error) => fail(error.message));
    ready.once('data', () => resolve());
    ready.once('end', () => fail(lastLines(logPath) || 'it exited before the network was up'));
  });
  ready.destroy();
  child.unref();
  if (child.pid === undefined) throw new NetworkError('could not start slirp4netns: no pid');
  return helperOf(child.pid);
}

function lastLines(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-2).join(' ');
  } catch {
    return '';
  }
}

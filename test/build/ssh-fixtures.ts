/**
 * SSH for tests, all local: a key made by ssh-keygen, Debian's sshd on 127.0.0.1 at a port of the
 * test's own (its own config, host key and authorized_keys in the test's folder, started and
 * stopped by the test), and an image with the host's ssh, ssh-add and git (and the libraries
 * they load) over the busybox fixture, so a RUN step can use an ssh agent.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An ed25519 key pair without a passphrase: the private key file, its public line, its fingerprint. */
export interface TestKey {
  path: string;
  publicKey: string;
  /** `SHA256:…`, as `ssh-add -l` prints it. */
  fingerprint: string;
  /** The 32-byte secret seed inside the key file (openssh-key-v1), to search for. */
  seed: Buffer;
}

export async function makeKey(dir: string, name = 'id_test'): Promise<TestKey> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@tbuild-test`, '-f', path]);
  const publicKey = (await readFile(`${path}.pub`, 'utf8')).trim();
  const { stdout } = await run('ssh-keygen', ['-l', '-f', `${path}.pub`]);
  const fingerprint = stdout.split(' ')[1] as string;
  return { path, publicKey, fingerprint, seed: privateSeed(await readFile(path, 'utf8')) };
}

/** The ed25519 seed of an unencrypted openssh-key-v1 file (PROTOCOL.key). */
function privateSeed(pem: string): Buffer {
  const body = Buffer.from(
    pem
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('-----'))
      .join(''),
    'base64',
  );
  let at = 'openssh-key-v1\0'.length;
  const string = () => {
    const length = body.readUInt32BE(at);
    const value = body.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  string(); // cipher
  string(); // kdf
  string(); // kdf options
  at += 4; // number of keys
  string(); // public key
  const secret = string();
  let inner = 8; // two check words
  const innerString = () => {
    const length = secret.readUInt32BE(inner);
    const value = secret.subarray(inner + 4, inner + 4 + length);
    inner += 4 + length;
    return value;
  };
  innerString(); // key type
  innerString(); // public part
  return Buffer.from(innerString().subarray(0, 32));
}

/** A port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SshServer {
  port: number;
  stop(): Promise<void>;
}

/** sshd on 127.0.0.1 letting in root with `authorized` (public key lines) only. */
export async function startSshd(dir: string, authorized: string[]): Promise<SshServer> {
  await mkdir(dir, { recursive: true });
  const hostKey = join(dir, 'host_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await writeFile(join(dir, 'authorized_keys'), `${authorized.join('\n')}\n`, { mode: 0o600 });
  // sshd insists on its privilege separation directory (Debian's service unit makes it).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let waited = 0; ; waited += 50) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || waited > 10_000) {
      child.kill();
      throw new Error(`sshd did not start: ${stderr}`);
    }
    await sleep(50);
  }
  return {
    port,
    async stop() {
      child.kill();
      await exited;
    },
  };
}

/**
 * A context whose Dockerfile puts the host's ssh, ssh-add and git, with every library `ldd` lists
 * for them, over busybox.
 */
export async function sshToolsContext(dir: string): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  const binaries = ['/usr/bin/ssh', '/usr/bin/ssh-add', '/usr/bin/git'];
  const files = new Set(binaries);
  for (const binary of binaries) {
    const { stdout } = await run('ldd', [binary]);
    for (const match of stdout.matchAll(/(\/\S+) \(0x/g)) files.add(match[1] as string);
  }
  for (const file of files) {
    const to = join(rootfs, file);
    await mkdir(dirname(to), { recursive: true });
    await copyFile(await realpath(file), to);
  }
  await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY rootfs/ /\n');
  return dir;
}

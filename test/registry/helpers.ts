/**
 * Registry test harness: Debian's `docker-registry` (CNCF distribution 2.8) on 127.0.0.1 with a
 * temp config and storage, optionally behind htpasswd basic auth or a token server of our own;
 * a fault-injecting proxy; skopeo; and the tbuild CLI as a child process with its own
 * DOCKER_CONFIG. Everything listens on loopback only.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { needCommands } from '../needs.ts';
import { runTbuild } from '../tbuild-entry.ts';

export const exec = promisify(execFile);
export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Why registry tests cannot run here, or false (callers pass it through test/needs.ts's skipReason). */
export function whyNoRegistry(): string | false {
  return needCommands('docker-registry', 'skopeo');
}

/** Why tests that run containers cannot run here, or false: the build tests' needs. */
export { whyNotRunnable as whyNoRuntime } from '../build/helpers.ts';

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; realm: string; service: string; issuer: string };

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  storage: string;
  /** SIGKILL now, no waiting for uploads. */
  kill(): Promise<void>;
  /** Starts it again on the same port and storage. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a registry in `dir` (config and storage under it). */
export async function startRegistry(
  dir: string,
  auth: RegistryAuth = { kind: 'none' },
): Promise<TestRegistry> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const storage = join(dir, 'storage');
  let authYaml = '';
  if (auth.kind === 'htpasswd') {
    const file = join(dir, 'htpasswd');
    let lines = '';
    for (const [user, password] of Object.entries(auth.users)) {
      const { stdout } = await exec('htpasswd', ['-nbB', user, password]);
      lines += `${stdout.trim()}\n`;
    }
    await writeFile(file, lines);
    authYaml = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${file}\n`;
  } else if (auth.kind === 'token') {
    authYaml =
      `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n` +
      `    rootcertbundle: ${join(fixtures, 'token-cert.pem')}\n`;
  }
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: tbuild-test-secret
${authYaml}`,
  );
  let child: ChildProcess | undefined;
  let log = '';
  const registry: TestRegistry = {
    host: `127.0.0.1:${port}`,
    port,
    storage,
    async start() {
      child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        log = (log + d).slice(-4000);
      });
      // Never what keeps the test process alive (node:test skips later after() hooks once one
      // throws, so stop() may never run); it dies with this process instead.
      const running = child;
      running.unref();
      (running.stderr as { unref?: () => void } | null)?.unref?.();
      process.once('exit', () => running.kill('SIGKILL'));
      const started = Date.now();
      for (;;) {
        if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log}`);
        const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
          () => true,
          () => false,
        );
        if (ok) return;
        if (Date.now() - started > 10_000) throw new Error(`docker-registry did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      // Referenced again while we wait for it to go, or the event loop could end first.
      c.ref();
      (c.stderr as { ref?: () => void } | null)?.ref?.();
      const exited = new Promise((r) => c.once('exit', r));
      c.ref(); // unref'd since start(): without this, waiting for its exit lets the loop drain
      c.kill('SIGKILL');
      await exited;
    },
    async stop() {
      await registry.kill();
    },
  };
  await registry.start();
  return registry;
}

/** The libtrust key ID distribution uses as a JWT `kid`: base32 of the SPKI sha256's first 30 bytes. */
function libtrustKeyId(spkiDer: Buffer): string {
  const bytes = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return (out.match(/.{4}/g) ?? []).join(':');
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** Token requests seen (scope lists). */
  requests: { user: string | undefined; scopes: string[] }[];
  close(): Promise<void>;
}

/**
 * A token server of our own: checks Basic credentials against `users` and issues ES256 JWTs,
 * signed with the fixture key whose certificate the registry trusts, granting what was asked
 * (only `pull` to `readOnly` users).
 */
export async function startTokenServer(
  users: Record<string, string>,
  readOnly: string[] = [],
): Promise<TokenServer> {
  const key = createPrivateKey(await readFile(join(fixtures, 'token-key.pem')));
  const kid = libtrustKeyId(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  const service = 'tbuild-test-registry';
  const issuer = 'tbuild-test-issuer';
  const requests: TokenServer['requests'] = [];
  const b64 = (v: object | Buffer) =>
    (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    let user: string | undefined;
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (u === undefined || users[u] !== p.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    const scopes = url.searchParams.getAll('scope');
    requests.push({ user, scopes });
    // Anonymous users get nothing: the registry answers 401 again, as with a real token server.
    const access = user
      ? scopes.map((s) => {
          const [type, ...rest] = s.split(':');
          const actions = rest.pop() ?? '';
          const granted = actions.split(',').filter((a) => a === 'pull' || !readOnly.includes(user));
          return { type, name: rest.join(':'), actions: granted };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', kid };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: url.searchParams.get('service'),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64(header)}.${b64(claims)}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${input}.${b64(signature)}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Decides what the proxy does with a request: pass it on, or handle it itself. */
export type ProxyHook = (
  req: IncomingMessage,
  res: ServerResponse,
  forward: (onResponse?: (upstream: IncomingMessage) => NodeJS.ReadableStream | undefined) => void,
) => void;

/** A small HTTP proxy on 127.0.0.1 in front of `target` (host:port), with a hook per request. */
export async function startProxy(
  target: string,
  hook: ProxyHook,
): Promise<{ host: string; close(): Promise<void> }> {
  const [hostname, port] = target.split(':');
  const server: Server = createServer((req, res) => {
    const forward = (onResponse?: (upstream: IncomingMessage) => NodeJS.ReadableStream | undefined) => {
      const upstream = httpRequest(
        { hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers },
        (up) => {
          const replaced = onResponse?.(up);
          res.writeHead(up.statusCode ?? 502, up.headers);
          (replaced ?? up).pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    hook(req, res, forward);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port: own } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${own}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the tbuild CLI with `--root root` and the given DOCKER_CONFIG dir. */
export function tbuild(
  root: string,
  args: string[],
  options: { dockerConfig?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return runTbuild(['--root', root, ...args], {
    env: { DOCKER_CONFIG: options.dockerConfig ?? join(root, 'no-docker-config'), ...options.env },
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  });
}

/** `tbuild ...` that must succeed; returns stdout. */
export async function tbuildOk(
  root: string,
  args: string[],
  options: Parameters<typeof tbuild>[2] = {},
): Promise<string> {
  const r = await tbuild(root, args, options);
  if (r.code !== 0) throw new Error(`tbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** skopeo with our loopback registries allowed over http; returns stdout. */
export async function skopeo(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await exec('skopeo', args, {
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
  });
  return stdout;
}

/** The busybox fixture archive (made once, cached in os.tmpdir() like test/build/helpers.ts). */
export async function busyboxArchive(): Promise<string> {
  const cached = join(tmpdir(), 'tbuild-test-busybox.tar');
  if (existsSync(cached)) return cached;
  const partial = `${cached}.${process.pid}`;
  await exec('bash', [join(repo, 'fixtures/make-busybox-image.sh'), partial]);
  await rename(partial, cached);
  return cached;
}

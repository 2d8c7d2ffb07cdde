/**
 * What the network tests look at on the host: the namespaces, helper processes and records the
 * network layer keeps for a tbuild root (runtime/network/run-dir.ts), so that a test can say that
 * nothing is left after a command, a removal or a kill.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { mountedNamespaces } from '../../runtime/network/namespace.ts';
import { runDir } from '../../runtime/network/run-dir.ts';

/** The network namespace files of the root that are mounted. */
export function namespacesOf(root: string): string[] {
  return [...mountedNamespaces()].filter((p) => p.startsWith(runDir(root)));
}

/** `pid: argv` of every process whose argv mentions `text`. */
export function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (argv.includes(text)) out.push(`${pid}: ${argv.trim()}`);
    } catch {}
  }
  return out;
}

/** What the network layer of `root` still holds: namespaces, helper processes, attachment records, running networks. */
export function networkLeftovers(root: string): {
  namespaces: string[];
  processes: string[];
  attachments: string[];
  networks: string[];
} {
  const dir = runDir(root);
  const list = (sub: string) => (existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)) : []);
  return {
    namespaces: namespacesOf(root),
    processes: existsSync(dir) ? processesMentioning(dir) : [],
    attachments: list('attachments'),
    networks: list('networks'),
  };
}

export const noNetworkLeftovers = { namespaces: [], processes: [], attachments: [], networks: [] };

/** `run -d --name NAME [FLAGS] busybox httpd`: a web server on port 80 serving /etc. */
export function httpdArgs(name: string, ...flags: string[]): string[] {
  return ['run', '-d', '--name', name, ...flags, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'];
}

/** Removes every container of the root (`ps -aq`, `rm -f`) and checks that the network layer kept nothing. */
export async function removeAllContainers(
  root: string,
  ok: (args: string[]) => Promise<string>,
): Promise<void> {
  const all = (await ok(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  if (all.length > 0) await ok(['rm', '-f', ...all]);
  assert.deepEqual(networkLeftovers(root), noNetworkLeftovers);
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** GET http://127.0.0.1:PORT/PATH: status, body bytes. */
export function fetchLocal(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

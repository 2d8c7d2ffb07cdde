/**
 * Git repositories and servers for context tests, all local: repositories made with Debian's git
 * in a test's folder, served over smart http by `git http-backend` (a CGI program) behind a small
 * node http server on 127.0.0.1 that the test starts and stops.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const gitEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_AUTHOR_DATE: '2023-11-14T22:13:20Z',
  GIT_COMMITTER_DATE: '2023-11-14T22:13:20Z',
};

/** `git args…` in `dir`; its stdout. */
export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: dir, env: gitEnv });
  return stdout;
}

/** One commit: files to write (relative paths), then an optional tag. */
export interface Commit {
  files: Record<string, string>;
  tag?: string;
}

/** A repository at `dir` (branch `main`) with `commits`; returns each commit's hash. */
export async function makeRepo(dir: string, commits: Commit[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  const hashes: string[] = [];
  for (const [i, commit] of commits.entries()) {
    for (const [name, text] of Object.entries(commit.files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', `commit ${i}`);
    if (commit.tag) await git(dir, 'tag', '-a', '-m', commit.tag, commit.tag);
    hashes.push((await git(dir, 'rev-parse', 'HEAD')).trim());
  }
  return hashes;
}

/** A smart-http git server for the repositories under `projectRoot`, on 127.0.0.1. */
export interface GitHttpServer {
  url: string;
  /** Every request path seen, for tests that check what was asked. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * `git http-backend` per request (CGI): the request's method, path, query and body in, its
 * `Status:` and headers out. GIT_HTTP_EXPORT_ALL serves every repository under the root.
 */
export async function startGitHttp(projectRoot: string): Promise<GitHttpServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: '127.0.0.1',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let headerDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headerDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    child.on('close', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

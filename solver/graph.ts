import { createHash } from 'node:crypto';

/**
 * The build graph: plain data, content-addressed. The frontend turns a Dockerfile into vertices;
 * the solver runs them. A vertex's digest covers its op and its inputs' digests, so two identical
 * steps (the same RUN on the same parent) are one vertex and run once.
 *
 * A vertex's result is a root filesystem, held as an ordered stack of layers (see `solver/solve.ts`).
 */
export type Digest = `sha256:${string}`;

/** The user a step runs as or files are owned by: as written (`app`, `1000:1000`), resolved at run time. */
export type UserSpec = string;

export type Op = ImageOp | ScratchOp | ContextOp | HttpOp | GitOp | ExecOp | CopyOp | MkdirOp | MkfileOp;

/** `FROM image`: the image's layers, from the store. `manifest` pins the exact image. */
export interface ImageOp {
  type: 'image';
  ref: string;
  manifest: Digest;
}

/** `FROM scratch`: an empty root filesystem. */
export interface ScratchOp {
  type: 'scratch';
}

/**
 * The build context on the host. It is never copied as a whole: COPY reads the files it selects
 * straight from `dir`, and the checksum of exactly those files goes into the COPY's cache key.
 * `dir` is not part of the digest (the same tree elsewhere must hit the cache); `excludes` is.
 */
export interface ContextOp {
  type: 'context';
  name: string;
  dir: string;
  excludes: string[];
}

/**
 * `ADD <url>`: one file fetched by the solver, BuildKit's http source (solver/ops/http.ts). The
 * graph holds where it comes from, never its content: the result is a root filesystem holding the
 * file `filename` (mode 0600, root-owned, mtime from Last-Modified), which a copy op puts in place.
 */
export interface HttpOp {
  type: 'http';
  url: string;
  /** The file's name: the URL path's last segment, `__unnamed__` without one (dockerfile2llb). */
  filename: string;
  /** `ADD --checksum`: the body's `sha256:…`; the cache key then needs no request. */
  checksum?: Digest;
}

/**
 * `ADD <git URL>`: a repository at a commit, BuildKit's git source (solver/ops/git.ts). The graph
 * holds the address and the ref as written; the cache key holds the commit the ref resolves to
 * when the build runs. The result is a root filesystem holding the checkout (its `subdir` only,
 * when given), without `.git` unless `keepGitDir`, which a copy op puts in place.
 */
export interface GitOp {
  type: 'git';
  /** What git fetches from (credentials in it are the user's, as in an http op's URL). */
  remote: string;
  /** A branch, tag, full ref or commit; absent: the remote's HEAD. */
  ref?: string;
  subdir?: string;
  keepGitDir: boolean;
  /** `submodules=false` in the URL: none fetched (default: all, recursively). */
  submodules?: boolean;
  /** `ADD --checksum` / `checksum=`: a hex prefix the commit must have. */
  checksum?: string;
}

/** `RUN`: one process in the input's root filesystem; what it writes becomes a layer. */
export interface ExecOp {
  type: 'exec';
  args: string[];
  env: string[];
  cwd: string;
  user: UserSpec;
  network: 'default' | 'none' | 'host';
  /**
   * `RUN --security=insecure`: all capabilities, no seccomp filter (BuildKit's SecurityMode_INSECURE);
   * needs the `security.insecure` entitlement (solver/entitlements.ts). Absent means sandboxed.
   */
  security?: 'insecure';
  /**
   * `HTTP_PROXY` and friends from build args: in the process's env but never in the cache key, so
   * changing a proxy does not rebuild anything (BuildKit does the same).
   */
  proxyEnv?: string[];
  /** `RUN --mount`s, in the order written. Sources of bind mounts are further inputs of the vertex. */
  mounts?: ExecMountOp[];
  /**
   * The build's `--add-host`, `--shm-size` and `--ulimit`: part of the op, as in BuildKit's
   * exec Meta (ExtraHosts, ShmSize, Ulimit), so a step run with other ones is another step.
   */
  extraHosts?: { host: string; ip: string }[];
  shmSize?: number;
  ulimits?: { name: string; soft: number; hard: number }[];
}

/**
 * One `RUN --mount`. Everything here is in the cache key (and the vertex digest); what is not
 * (a secret's value, a cache directory's contents) stays out of the op on purpose.
 */
export type ExecMountOp =
  | {
      /** Files of input `input` (an index into the vertex's inputs, >= 1) under `source`. */
      type: 'bind';
      target: string;
      input: number;
      source: string;
      /** Writable mounts take writes that are thrown away after the step. */
      readonly: boolean;
    }
  | {
      /** A directory kept between steps and builds under `<root>/cache/mounts`, named by `id`. */
      type: 'cache';
      target: string;
      id: string;
      sharing: 'shared' | 'private' | 'locked';
      readonly: boolean;
      uid: number;
      gid: number;
      mode: number;
      /**
       * `from=`: a new cache starts as a copy of input `input`'s `source` directory, and each
       * seed has its own cache (the input's digest is part of its name).
       */
      seed?: { input: number; source: string };
    }
  | { type: 'tmpfs'; target: string /** Bytes; unlimited when absent. */; size?: number }
  | {
      /**
       * `--ssh id=…` of the build: a socket at `target` that reaches that ssh agent (never the
       * keys). Absent and not `required`: the step runs without it.
       */
      type: 'ssh';
      id: string;
      target: string;
      required: boolean;
      uid: number;
      gid: number;
      mode: number;
    }
  | {
      /** `--secret id=…` of the build, as a file at `target` and/or the env variable `env`. */
      type: 'secret';
      id: string;
      target?: string;
      env?: string;
      required: boolean;
      uid: number;
      gid: number;
      mode: number;
    };

/**
 * `COPY`/`ADD`: files from input 1 (a context or a stage) into input 0. Sources are paths or
 * wildcards relative to the source root; `dest` is absolute, a trailing `/` meaning "into".
 */
export interface CopyOp {
  type: 'copy';
  sources: string[];
  dest: string;
  /** `--chown`, resolved against the destination's /etc/passwd at run time. */
  chown?: UserSpec;
  /** `--chmod`: octal (`755`) or symbolic (`u+x`); applied to every copied entry. */
  chmod?: string;
  /** ADD: unpack local tar archives (plain, gzip, bzip2, xz) instead of copying them. */
  extractArchives: boolean;
  /** Patterns of `--exclude`, relative to each source. */
  excludes: string[];
  /** The user the destination's missing parent directories are created for (Docker: root). */
  owner?: UserSpec;
}

/** `WORKDIR`: make a directory (and parents) if missing, owned by `owner` as Docker does. */
export interface MkdirOp {
  type: 'mkdir';
  path: string;
  owner?: UserSpec;
}

/** A file with fixed contents (a COPY of a heredoc, or ADD of a downloaded URL). */
export interface MkfileOp {
  type: 'mkfile';
  path: string;
  /** The contents as base64, so the op stays plain JSON. */
  data: string;
  mode: number;
  chown?: UserSpec;
}

export interface Vertex {
  digest: Digest;
  op: Op;
  inputs: Vertex[];
  /** The display name, `[build 2/5] RUN make`. Not part of the digest. */
  name: string;
  /** Where in the Dockerfile this step comes from, for errors: `Dockerfile:12`. Not part of the digest. */
  location?: string;
  /** `--no-cache` / `--no-cache-filter` for this step: run it even when the cache has it. */
  ignoreCache?: boolean;
}

/**
 * The part of an op that decides what the step makes. Neither the context's host path nor the
 * proxy settings do, so they are left out of digests and cache keys: the same tree elsewhere hits
 * the cache, and the digests (which cache records keep as layer `step`s, for history) stay stable.
 */
export function opIdentity(op: Op): Op | Record<string, unknown> {
  if (op.type === 'context') return { ...op, dir: undefined };
  if (op.type === 'exec') return { ...op, proxyEnv: undefined };
  return op;
}

/** Makes a vertex; its digest is sha256 of the canonical JSON of its op and its inputs' digests. */
export function vertex(op: Op, inputs: Vertex[], name: string, location?: string): Vertex {
  const digest = digestOf({ op: opIdentity(op), inputs: inputs.map((input) => input.digest) });
  return location === undefined ? { digest, op, inputs, name } : { digest, op, inputs, name, location };
}

/** sha256 of a value's canonical JSON (object keys sorted, `undefined` members dropped). */
export function digestOf(value: unknown): Digest {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/**
 * A stable, readable text form of the graph, for golden tests and debugging. Vertices are numbered
 * in the order a depth-first walk meets them, inputs first, each vertex once (by digest); each is
 * a header `N type <- inputs` and one `  field: value` line per op field (values as canonical
 * JSON, so nothing is ambiguous), then its display name (`shown as`), location and `--no-cache` flag.
 * What the digest leaves out (a context's host path, proxy variables) is not shown, or shown as
 * such, so the dump of a graph is the same on every machine. A mkfile's data is shown as text
 * when it is UTF-8. `ids` receives each vertex's number by digest (history entries name steps).
 */
export function dumpGraph(root: Vertex, ids: Map<Digest, number> = new Map()): string {
  const lines: string[] = [];
  const visit = (v: Vertex): number => {
    const known = ids.get(v.digest);
    if (known !== undefined) return known;
    const inputs = v.inputs.map(visit);
    const id = ids.size;
    ids.set(v.digest, id);
    lines.push(`${id} ${v.op.type}${inputs.length > 0 ? ` <- ${inputs.join(', ')}` : ''}`);
    const { type: _type, ...fields } = opIdentity(v.op) as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (value === undefined) continue;
      if (key === 'data' && typeof value === 'string') {
        const text = Buffer.from(value, 'base64').toString('utf8');
        const exact = Buffer.from(text, 'utf8').toString('base64') === value;
        lines.push(exact ? `  text: ${JSON.stringify(text)}` : `  data: ${value}`);
        continue;
      }
      if (key === 'mode' && typeof value === 'number') {
        lines.push(`  mode: 0o${value.toString(8)}`);
        continue;
      }
      lines.push(`  ${key}: ${canonicalJson(value)}`);
    }
    if (v.op.type === 'exec' && v.op.proxyEnv) {
      lines.push(`  proxyEnv (not in the digest): ${canonicalJson(v.op.proxyEnv)}`);
    }
    lines.push(`  shown as: ${JSON.stringify(v.name)}`);
    if (v.location !== undefined) lines.push(`  at: ${v.location}`);
    if (v.ignoreCache) lines.push('  no-cache: true');
    return id;
  };
  visit(root);
  return `${lines.join('\n')}\n`;
}

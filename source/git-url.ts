import { posix } from 'node:path';
import { CsvError, parseGoBool, splitCsvFields } from '../csv-fields.ts';
import { SourceError } from './errors.ts';

/**
 * Which strings name a git repository, and what BuildKit reads from them. Follows BuildKit's
 * frontend/dockerfile/dfgitutil ParseGitRef over util/gitutil ParseURL and util/sshutil's
 * scp-style URL (what `docker buildx build URL` and `ADD URL` treat as git):
 *
 * - `http(s)://…/repo.git`: an http(s) URL is git only when its path ends in `.git` (else it is a
 *   tarball or Dockerfile URL); `git://…` and `ssh://…` always are.
 * - `user@host:path` (scp-like, implied ssh), `github.com/user/repo` (deprecated, contexts only).
 * - A fragment `#ref:subdir`, or the CSV form `##ref=…,commit=…,subdir=…`; a query
 *   `?ref=&tag=&branch=&subdir=&checksum=&keep-git-dir=&submodules=` (newer BuildKit).
 * - `file://…`: not git in BuildKit (an unknown protocol). tbuild takes it for the build context
 *   and `--build-context` only (the user's own repositories, for tests), never for ADD: a
 *   Dockerfile must not read repositories off the builder's disk.
 */
export interface GitRef {
  /** What git is given: the address without BuildKit's fragment and query. */
  remote: string;
  scheme: 'http' | 'https' | 'ssh' | 'git' | 'file';
  /** A branch, tag, full ref name or commit; absent means the remote's HEAD (default branch). */
  ref?: string;
  /** The commit the ref must resolve to (a prefix of its hash): `commit=` / `checksum=`. */
  checksum?: string;
  /** A directory of the repository to use as the root, relative, cleaned. */
  subdir?: string;
  /** `keep-git-dir=`: keep `.git` (ADD --keep-git-dir says the same). */
  keepGitDir?: boolean;
  /** `submodules=`: fetch submodules (the default). */
  submodules?: boolean;
  /** `github.com/user/repo`: deprecated, a context only (ADD treats it as a local path). */
  indistinguishableFromLocal: boolean;
}

const schemes = new Set(['http', 'https', 'ssh', 'git']);
const schemePrefix = /^([a-zA-Z0-9]+):\/\//;
/** sshutil's gitSSHRegex: `[user@]host:path[#fragment]`. */
const scpLike = /^(?:([a-zA-Z0-9_-]+)@)?([a-zA-Z0-9.-]+):(.*?)(?:#(.*))?$/;

export interface ParseGitOptions {
  /** Take `file://` URLs as git (the build context and --build-context; not ADD). */
  allowFile?: boolean;
}

/**
 * The git repository `text` names, or undefined when it names none (a path, a plain http URL).
 * Throws a SourceError for a git address whose fragment or query is malformed.
 */
export function parseGitRef(text: string, options: ParseGitOptions = {}): GitRef | undefined {
  if (text.startsWith('./') || text.startsWith('../')) return undefined;
  if (text.startsWith('github.com/')) {
    const parsed = parseSchemeUrl(`https://${text}`, 'https', false);
    if (parsed === undefined) return undefined;
    return { ...parsed, indistinguishableFromLocal: true };
  }
  const prefix = schemePrefix.exec(text);
  if (prefix) {
    const scheme = (prefix[1] as string).toLowerCase();
    if (!(schemes.has(scheme) || (scheme === 'file' && options.allowFile))) return undefined;
    const parsed = parseSchemeUrl(text, scheme as GitRef['scheme']);
    return parsed && { ...parsed, indistinguishableFromLocal: false };
  }
  // Go's url.Parse finds a scheme followed by a path (`c:/x`): then it is no scp-like address.
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\//.test(text)) return undefined;
  const scp = scpLike.exec(text);
  if (!scp) return undefined;
  const path = scp[3] as string;
  const remote = `${scp[1] === undefined ? '' : `${scp[1]}@`}${scp[2]}:${path}`;
  // `transport::address` is git's remote-helper syntax (`ext::sh -c …` runs a command), never ssh.
  if (path.startsWith(':')) return undefined;
  return {
    remote,
    scheme: 'ssh',
    ...fragmentFields(scp[4] ?? '', remote),
    indistinguishableFromLocal: false,
  };
}

/** True when `text` names a git repository (see {@link parseGitRef}); a malformed one counts. */
export function isGitAddress(text: string, options: ParseGitOptions = {}): boolean {
  try {
    return parseGitRef(text, options) !== undefined;
  } catch {
    return true;
  }
}

/** `https://user:secret@host/x` → `https://user:xxxxx@host/x` (BuildKit's urlutil.RedactCredentials). */
export function redactCredentials(text: string): string {
  return text.replace(/^([a-zA-Z0-9]+:\/\/[^/@:]*):[^/@]*@/, '$1:xxxxx@');
}

function parseSchemeUrl(
  text: string,
  scheme: GitRef['scheme'],
  needGitSuffix = true,
): Omit<GitRef, 'indistinguishableFromLocal'> | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const hash = text.indexOf('#');
  const beforeHash = hash < 0 ? text : text.slice(0, hash);
  const fragment = hash < 0 ? '' : decode(text.slice(hash + 1));
  const question = beforeHash.indexOf('?');
  const remote = question < 0 ? beforeHash : beforeHash.slice(0, question);
  const path = decode(url.pathname);
  if (needGitSuffix && (scheme === 'http' || scheme === 'https') && !path.endsWith('.git')) return undefined;
  const fields = fragmentFields(fragment, remote);
  if (question >= 0) applyQuery(fields, new URLSearchParams(beforeHash.slice(question + 1)), remote);
  return { remote, scheme, ...fields };
}

type RefFields = Pick<GitRef, 'ref' | 'checksum' | 'subdir' | 'keepGitDir' | 'submodules'>;

/** `ref:subdir`, or after a second `#` the CSV form `ref=…,commit=…,subdir=…` (gitutil splitGitFragment). */
function fragmentFields(fragment: string, remote: string): RefFields {
  const fields: RefFields = {};
  if (fragment.startsWith('#')) {
    for (const field of csvFields(fragment.slice(1), remote)) {
      const eq = field.indexOf('=');
      if (eq < 0) throw invalid(remote, `invalid field '${field}' must be a key=value pair`);
      const key = field.slice(0, eq).toLowerCase();
      const value = field.slice(eq + 1);
      if (key === 'ref') fields.ref = value;
      else if (key === 'commit') fields.checksum = value;
      else if (key === 'subdir') fields.subdir = value;
      else
        throw invalid(remote, `unexpected key '${key}' in '${field}' (supported keys: ref, commit, subdir)`);
    }
    if (fields.checksum !== undefined && fields.ref === undefined) fields.ref = fields.checksum;
  } else if (fragment !== '') {
    const colon = fragment.indexOf(':');
    const ref = colon < 0 ? fragment : fragment.slice(0, colon);
    if (ref !== '') fields.ref = ref;
    if (colon >= 0 && fragment.length > colon + 1) fields.subdir = fragment.slice(colon + 1);
  }
  return withCleanSubdir(fields);
}

/** dfgitutil loadQuery: ref, tag, branch, subdir, checksum/commit, keep-git-dir, submodules. */
function applyQuery(fields: RefFields, query: URLSearchParams, remote: string): void {
  let tag: string | undefined;
  let branch: string | undefined;
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    if (values.length > 1) throw invalid(remote, `query "${key}" has multiple values`);
    const value = values[0] ?? '';
    const flag = key === 'keep-git-dir' || key === 'submodules';
    if (value === '' && !flag) throw invalid(remote, `query "${key}" has no value`);
    const agree = (field: 'ref' | 'subdir', wanted: string) => {
      const had = fields[field];
      if (had !== undefined && had !== wanted)
        throw invalid(remote, `${field} conflicts: "${had}" vs "${wanted}"`);
      fields[field] = wanted;
    };
    if (key === 'ref') agree('ref', value);
    else if (key === 'tag') tag = value;
    else if (key === 'branch') branch = value;
    else if (key === 'subdir') agree('subdir', value);
    else if (key === 'checksum' || key === 'commit') fields.checksum = value;
    else if (flag) {
      const on = value === '' ? true : parseGoBool(value);
      if (on === undefined) throw invalid(remote, `invalid ${key} value: "${value}"`);
      if (key === 'keep-git-dir') fields.keepGitDir = on;
      else fields.submodules = on;
    } else throw invalid(remote, `unexpected query "${key}"`);
  }
  if (tag !== undefined) {
    const full = tag.startsWith('refs/tags/') ? tag : `refs/tags/${tag}`;
    if (fields.ref !== undefined && fields.ref !== full)
      throw invalid(remote, `ref conflicts: "${fields.ref}" vs "${full}"`);
    fields.ref = full;
  }
  if (branch !== undefined) {
    if (tag !== undefined) throw invalid(remote, 'branch conflicts with tag');
    const full = branch.startsWith('refs/heads/') ? branch : `refs/heads/${branch}`;
    if (fields.ref !== undefined && fields.ref !== full)
      throw invalid(remote, `ref conflicts: "${fields.ref}" vs "${full}"`);
    fields.ref = full;
  }
  if (fields.checksum !== undefined && fields.ref === undefined) fields.ref = fields.checksum;
  Object.assign(fields, withCleanSubdir(fields));
}

/** A subdir of `/` or `.` is the whole repository (BuildKit's NewGitIdentifier). */
function withCleanSubdir(fields: RefFields): RefFields {
  if (fields.subdir === undefined) return fields;
  const clean = posix.normalize(`/${fields.subdir}`).replace(/^\/+|\/+$/g, '');
  const { subdir: _subdir, ...rest } = fields;
  return clean === '' ? rest : { ...rest, subdir: clean };
}

/** Comma-separated fields (Go's csv rules: a field in double quotes may hold commas), empty ones dropped. */
function csvFields(text: string, remote: string): string[] {
  try {
    return splitCsvFields(text).filter((field) => field !== '');
  } catch (error) {
    if (error instanceof CsvError) throw invalid(remote, `failed to parse CSV "${text}": ${error.reason}`);
    throw error;
  }
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function invalid(remote: string, reason: string): SourceError {
  return new SourceError(`invalid git URL ${redactCredentials(remote)}: ${reason}`);
}

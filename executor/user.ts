import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { ExecError } from './errors.ts';
import { isMissing, resolveInRoot } from './rootpath.ts';
import type { ProcessIds } from './types.ts';

/** One line of /etc/passwd (`name:password:uid:gid:gecos:home:shell`). */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** One line of /etc/group (`name:password:gid:member,member`). */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** moby/sys/user accepts ids in [0, 2^31-1]. */
const maxId = 2 ** 31 - 1;

/** /etc/passwd and /etc/group larger than this are refused rather than read into memory. */
const maxUserFileSize = 16 * 1024 * 1024;

/**
 * Resolves a Dockerfile USER value against the rootfs, like BuildKit's `oci.GetUser`:
 * `uid:gid` (both numeric, or `root`) takes a fast path that reads no file and adds no
 * supplementary groups; anything else goes through {@link resolveUserFromFiles}.
 * The files are looked up inside `rootfs` without following symlinks out of it.
 */
export async function resolveUser(rootfs: string, user: string): Promise<ProcessIds> {
  const fast = parseNumericUserGroup(user);
  if (fast) return fast;
  const passwd = await readRootFile(rootfs, '/etc/passwd');
  const group = await readRootFile(rootfs, '/etc/group');
  return resolveUserFromFiles(user, passwd, group);
}

/** BuildKit executor/oci/user.go ParseUIDGID: only when BOTH halves are given. */
function parseNumericUserGroup(user: string): ProcessIds | undefined {
  if (user === '') return { uid: 0, gid: 0, additionalGids: [] };
  const colon = user.indexOf(':');
  if (colon < 0) return undefined;
  const uid = parseFastId(user.slice(0, colon));
  const gid = parseFastId(user.slice(colon + 1));
  if (uid === undefined || gid === undefined) return undefined;
  return { uid, gid, additionalGids: [] };
}

function parseFastId(text: string): number | undefined {
  if (text === 'root') return 0;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}

/**
 * The moby/sys/user `GetExecUser` rules, with the file contents passed in (undefined = file
 * missing). The user part matches by uid when numeric, else by name; a numeric uid with no
 * entry is used as is (gid 0). An explicit group matches by gid when numeric, else by name, and
 * then supplementary groups are not looked up; without one, the groups listing the user's name
 * as a member become `additionalGids`.
 */
export function resolveUserFromFiles(
  user: string,
  passwd: string | undefined,
  group: string | undefined,
): ProcessIds {
  const colon = user.indexOf(':');
  const userArg = colon < 0 ? user : user.slice(0, colon);
  const groupArg = colon < 0 ? '' : user.slice(colon + 1);
  const uidArg = parseId(userArg);

  let uid = 0;
  let gid = 0;
  let matchedName: string | undefined;
  const users = passwd === undefined ? [] : parsePasswd(passwd);
  const found =
    userArg === ''
      ? users.find((u) => u.uid === 0)
      : users.find((u) => (uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  if (found) {
    uid = found.uid;
    gid = found.gid;
    matchedName = found.name;
  } else if (uidArg !== undefined) {
    uid = uidArg;
  } else if (userArg !== '') {
    throw new ExecError(`unable to find user ${userArg}: no matching entries in passwd file`, {
      hint: 'add the user to /etc/passwd in an earlier step, or use a numeric uid[:gid]',
    });
  }
  checkRange(uid, userArg);

  const groups = group === undefined ? [] : parseGroup(group);
  if (groupArg !== '') {
    const gidArg = parseId(groupArg);
    const match = groups.find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
    if (match) gid = match.gid;
    else if (gidArg !== undefined) gid = gidArg;
    else
      throw new ExecError(`unable to find group ${groupArg}: no matching entries in group file`, {
        hint: 'add the group to /etc/group in an earlier step, or use a numeric gid',
      });
    checkRange(gid, groupArg);
    return { uid, gid, additionalGids: [] };
  }
  const additionalGids =
    matchedName === undefined
      ? []
      : groups.filter((g) => g.members.includes(matchedName as string)).map((g) => g.gid);
  return { uid, gid, additionalGids };
}

function parseId(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function checkRange(id: number, arg: string): void {
  if (id > maxId) throw new ExecError(`user or group id out of range: ${arg}`);
}

/** Parses /etc/passwd text; blank and `#` lines are skipped, bad numbers read as 0 (as moby does). */
export function parsePasswd(text: string): PasswdEntry[] {
  return splitLines(text).map((fields) => ({
    name: fields[0] ?? '',
    uid: toInt(fields[2]),
    gid: toInt(fields[3]),
    home: fields[5] ?? '',
  }));
}

/** Parses /etc/group text; the member list is comma-separated, empty items dropped. */
export function parseGroup(text: string): GroupEntry[] {
  return splitLines(text).map((fields) => ({
    name: fields[0] ?? '',
    gid: toInt(fields[2]),
    members: (fields[3] ?? '').split(',').filter((m) => m !== ''),
  }));
}

function splitLines(text: string): string[][] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

function toInt(field: string | undefined): number {
  return field !== undefined && /^\d+$/.test(field) ? Number(field) : 0;
}

/** Reads a regular file inside the rootfs; undefined when missing. Never opens fifos or devices. */
async function readRootFile(rootfs: string, path: string): Promise<string | undefined> {
  const hostPath = resolveInRoot(rootfs, path);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NOFOLLOW: resolveInRoot already followed the links; a link swapped in since is refused.
    handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw new ExecError(`cannot read ${path} in the rootfs: ${(err as Error).message}`, { cause: err });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ExecError(`${path} in the rootfs is not a regular file`);
    if (st.size > maxUserFileSize) throw new ExecError(`${path} in the rootfs is too large`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * What a test needs from the machine, in one place: executables found on PATH, root, and the rule
 * that under CI (`CI=true`) a test that would skip for lack of any of them FAILS instead. CI
 * (`.ci/run`) installs everything the tests use, so a skip there means a broken set-up, and a
 * silently skipped suite would look green.
 *
 * Usage: `test(name, { skip: skipReason(needCommands('runc')) }, fn)`, or inside a running test
 * `if (skipTest(t, reason)) return;`. A new check is a function returning a reason string (or
 * false) passed through `skipReason`.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type TestContext, test } from 'node:test';

/** True when run by CI: `CI` set to anything but "", "0" or "false" (GitHub and GitLab set `true`). */
export const underCi = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

/** The absolute path of `name` on PATH (an executable regular file), or undefined. */
export function findExecutable(name: string): string | undefined {
  return findExecutables(name)[0];
}

/** Every executable regular file named `name` on PATH, in PATH order. */
export function findExecutables(name: string): string[] {
  const found: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile() && !found.includes(path)) found.push(path);
    } catch {}
  }
  return found;
}

/**
 * Why the named commands cannot be used, or false when each is on PATH. `name` may carry the
 * Debian package after a colon (`htpasswd:apache2-utils`) for the hint.
 */
export function needCommands(...names: string[]): string | false {
  const missing = names.filter((entry) => findExecutable(entry.split(':')[0] as string) === undefined);
  if (missing.length === 0) return false;
  const commands = missing.map((entry) => entry.split(':')[0]);
  const packages = missing.map((entry) => entry.split(':')[1] ?? entry.split(':')[0]);
  return `needs ${commands.join(', ')} on PATH (apt-get install ${[...new Set(packages)].join(' ')})`;
}

/** Why a test needing root cannot run, or false. */
export function needRoot(what = 'this test'): string | false {
  return process.getuid?.() === 0 ? false : `${what} needs root`;
}

/** The first reason of several (false when none). */
export function firstReason(...reasons: (string | false | undefined)[]): string | false {
  return reasons.find((reason): reason is string => typeof reason === 'string' && reason !== '') ?? false;
}

const reported = new Set<string>();

/**
 * A skip reason as given (false when there is none). Under CI a reason also registers one failing
 * test that names it (once per reason and file), so the run fails with the cause in its report
 * while the tests that need the missing piece are skipped rather than failing one by one.
 */
export function skipReason(reason: string | false | undefined): string | false {
  if (reason === undefined || reason === false || reason === '') return false;
  if (underCi && !reported.has(reason)) {
    reported.add(reason);
    test(`CI set-up: ${reason}`, () => {
      throw new Error(`${reason}: CI=true installs this (.ci/run), so a skip here is a broken set-up`);
    });
  }
  return reason;
}

/**
 * Inside a running test: skips it for `reason` (returns true: the caller returns), or under CI
 * fails it; returns false when there is no reason.
 */
export function skipTest(t: TestContext, reason: string | false | undefined): boolean {
  if (reason === undefined || reason === false || reason === '') return false;
  if (underCi)
    throw new Error(`${reason}: CI=true installs this (.ci/run), so a skip here is a broken set-up`);
  t.skip(reason);
  return true;
}

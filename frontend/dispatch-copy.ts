// COPY and ADD: sources from the context, a stage or an image, heredoc files, and (ADD only)
// URLs, into the destination with --chown/--chmod. BuildKit: dockerfile2llb convert.go
// dispatchCopy (and convert_copy.go).
//
// Permissions: `--chmod` (octal or symbolic) applies the same way to every file the step makes.
// For copied sources the solver applies it to each entry (CopyOp.chmod); a URL is such a source
// (an http source the solver fetches, mode 0600, then copied in); a heredoc file is made here
// with a known mode, so the same rule (solver parseChmod) is applied to its default mode 0644.
import { posix } from 'node:path';
import { type Command, chompHeredoc } from '../parser/index.ts';
import { type Digest, type GitOp, type Op, parseChmod, type Vertex, vertex } from '../solver/index.ts';
import { type GitRef, parseGitRef } from '../source/index.ts';
import { fromSource } from './dispatch-from.ts';
import {
  addStep,
  type ConvertContext,
  expand,
  expandInStage,
  joinWorkdir,
  location,
  recordHistory,
  type StageState,
  stageExpandEnv,
} from './dispatch-state.ts';
import { BuildError } from './errors.ts';

type CopyCommand = Extract<Command, { kind: 'copy' | 'add' }>;

/** A file of known content the step writes before copying its other sources. */
interface InlineFile {
  name: string;
  data: Buffer;
  /** Its mode before --chmod. */
  mode: number;
}

export async function dispatchCopy(
  ctx: ConvertContext,
  state: StageState,
  command: CopyCommand,
): Promise<void> {
  const at = location(ctx, command.range);
  const word = (text: string) => expandInStage(ctx, state, text, at);
  const keyword = command.kind.toUpperCase();
  const from = command.kind === 'copy' ? command.from : undefined;
  const heredocNames = new Set(command.heredocs.map((h) => h.name));
  // Every heredoc of a COPY/ADD is a source; the parser may or may not leave its `<<EOF` word
  // among `sources`, so the heredocs list is what counts.
  const sources = command.sources.filter((s) => !isHeredocWord(s, heredocNames)).map(word);
  const dest = destination(word(command.dest), state.config.WorkingDir || '/');
  const chown = command.chown === undefined ? undefined : word(command.chown);
  const chmod = command.chmod === undefined ? undefined : word(command.chmod);
  let applyChmod: ((mode: number, isDir: boolean) => number) | undefined;
  try {
    applyChmod = chmod === undefined ? undefined : parseChmod(chmod);
  } catch (error) {
    throw new BuildError((error as Error).message, at);
  }
  // A git address first: an http(s) URL ending in .git is a repository, not a file to download
  // (dockerfile2llb isHTTPSource/isGitSource).
  const gits = new Map(sources.flatMap((s) => gitSource(s, at)));
  const urls = sources.filter((s) => isUrl(s) && !gits.has(s));
  if (gits.size > 0 && command.kind === 'copy')
    throw new BuildError("source can't be a git ref for COPY", at);
  if (urls.length > 0 && command.kind === 'copy') throw new BuildError("source can't be a URL for COPY", at);
  const checksum = command.kind === 'add' ? command.checksum : undefined;
  if (checksum !== undefined && urls.length === 0 && gits.size === 0) {
    throw new BuildError('checksum requires HTTP(S) or Git sources', at);
  }
  if (checksum !== undefined && sources.length !== 1) {
    throw new BuildError("checksum can't be specified for multiple sources", at);
  }
  if (checksum !== undefined && urls.length > 0 && !/^sha256:[0-9a-f]{64}$/.test(checksum)) {
    throw new BuildError(`invalid checksum digest format: ${checksum}`, at);
  }

  // Heredoc files and URLs come first, each its own vertex chained before the copy op of the
  // local sources; together they are one step.
  const name = `[${state.displayName}${state.step + 1}/${state.totalSteps}] ${command.source}`;
  const files: InlineFile[] = command.heredocs.map((heredoc) => {
    let content = heredoc.chomp ? chompHeredoc(heredoc.content) : heredoc.content;
    // Unquoted heredoc bodies expand variables like a double-quoted shell word would.
    if (heredoc.expand) content = expand(content, stageExpandEnv(state), ctx.options.escape, at, true);
    return { name: heredoc.name, data: Buffer.from(content), mode: 0o644 };
  });
  let fsBefore = state.fs;
  for (const file of files) {
    const op: Op = {
      type: 'mkfile',
      path: dest.endsWith('/') ? posix.join(dest, file.name) : dest,
      data: file.data.toString('base64'),
      mode: applyChmod ? applyChmod(file.mode, false) : file.mode,
      ...(chown ? { chown } : {}),
    };
    fsBefore = vertex(op, [fsBefore], name, at);
  }
  // A URL is an http source the solver fetches (the graph holds no content), copied in like any
  // source (dockerfile2llb: llb.HTTP, then llb.Copy of its one file).
  for (const url of urls) {
    const filename = urlFileName(url);
    const download = vertex(
      { type: 'http', url, filename, ...(checksum !== undefined ? { checksum: checksum as Digest } : {}) },
      [],
      name,
      at,
    );
    const op: Op = {
      type: 'copy',
      sources: [literalSource(filename)],
      dest,
      extractArchives: false,
      excludes: [],
      ...(chown ? { chown } : {}),
      ...(chmod ? { chmod } : {}),
    };
    fsBefore = vertex(op, [fsBefore, download], name, at);
  }

  // A repository is a git source the solver resolves and checks out (dockerfile2llb: llb.Git,
  // then llb.Copy of its root into the destination).
  for (const [, ref] of gits) {
    const op = gitOp(ref, command.kind === 'add' ? command.keepGitDir : false, checksum, at);
    const copy: Op = {
      type: 'copy',
      sources: ['.'],
      dest,
      extractArchives: false,
      excludes: [],
      ...(chown ? { chown } : {}),
      ...(chmod ? { chmod } : {}),
    };
    fsBefore = vertex(copy, [fsBefore, vertex(op, [], name, at)], name, at);
  }

  const local = sources.filter((s) => !isUrl(s) && !gits.has(s));
  let source: Vertex = ctx.context;
  if (from) {
    if (from.includes('$')) {
      throw new BuildError(
        `${keyword} --from does not support variable expansion, define an alias stage instead`,
        at,
      );
    }
    source = await fromSource(ctx, state, from, at);
  }
  let step: Vertex;
  if (local.length > 0) {
    const op: Op = {
      type: 'copy',
      sources: local,
      dest,
      extractArchives: command.kind === 'add',
      excludes: command.exclude,
      ...(chown ? { chown } : {}),
      ...(chmod ? { chmod } : {}),
    };
    step = addStep(ctx, state, op, [fsBefore, source], command);
  } else {
    state.step++;
    step = fsBefore;
    state.fs = step;
  }
  // BuildKit's commit message: the sources and destination as expanded, with ` <<NAME` per
  // heredoc between them.
  const shown = [...sources, ...command.heredocs.map((h) => `<<${h.name}`), word(command.dest)];
  // Steps made of several vertices (heredoc files then a copy) are one history entry, tied to
  // the last of them.
  recordHistory(ctx, state, `${keyword} ${shown.join(' ')} # buildkit`, step);
}

/**
 * The destination as an absolute path: relative to the working directory, a trailing `/` (or
 * `.`) kept as "into this directory"; an empty one is the working directory itself.
 */
function destination(dest: string, workdir: string): string {
  if (dest === '') return `${workdir.replace(/\/$/, '')}/`;
  if (dest.startsWith('/')) return dest;
  const trailing = dest.endsWith('/') || dest === '.' || dest.endsWith('/.');
  return joinWorkdir(workdir, dest) + (trailing ? '/' : '');
}

function isHeredocWord(word: string, names: Set<string>): boolean {
  const match = /^\d*<<-?(.*)$/.exec(word);
  return match !== null && names.has((match[1] as string).replace(/["']/g, ''));
}

/** `[source, its git address]` when `source` names a repository (not a local path), else nothing. */
function gitSource(source: string, at: string): [string, GitRef][] {
  let ref: GitRef | undefined;
  try {
    ref = parseGitRef(source);
  } catch (error) {
    throw new BuildError((error as Error).message, at, { cause: error });
  }
  return ref === undefined || ref.indistinguishableFromLocal ? [] : [[source, ref]];
}

/**
 * The git op of an ADD source: `--keep-git-dir` and `--checksum` agree with the address's own
 * `keep-git-dir=` and `checksum=` or fail, as dockerfile2llb dispatchCopy does.
 */
function gitOp(ref: GitRef, keepGitDirFlag: boolean, checksumFlag: string | undefined, at: string): GitOp {
  if (keepGitDirFlag && ref.keepGitDir === false) {
    throw new BuildError('inconsistent keep-git-dir configuration', at);
  }
  if (checksumFlag !== undefined && ref.checksum !== undefined && checksumFlag !== ref.checksum) {
    throw new BuildError(`checksum mismatch "${checksumFlag}" != "${ref.checksum}"`, at);
  }
  const checksum = checksumFlag ?? ref.checksum;
  return {
    type: 'git',
    remote: ref.remote,
    keepGitDir: keepGitDirFlag || ref.keepGitDir === true,
    ...(ref.ref !== undefined ? { ref: ref.ref } : {}),
    ...(ref.subdir !== undefined ? { subdir: ref.subdir } : {}),
    ...(ref.submodules !== undefined ? { submodules: ref.submodules } : {}),
    ...(checksum !== undefined ? { checksum } : {}),
  };
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * The name a downloaded file gets, as dockerfile2llb names it: Go's path.Base of the decoded URL
 * path (a trailing `/` dropped: `…/dl/` gives `dl`), `__unnamed__` for a bare `/` or a URL that
 * does not parse. The solver's http source is always given it, so Content-Disposition never counts.
 */
function urlFileName(url: string): string {
  try {
    const base = posix.basename(decodeURIComponent(new URL(url).pathname));
    return base === '' || base === '.' || base === '/' ? '__unnamed__' : base;
  } catch {
    return '__unnamed__';
  }
}

/**
 * A file name as a copy source that matches only itself: with a wildcard character in it, every
 * special character escaped (a `\\` escapes only in a wildcard pattern; solver copy.ts globToRegExp).
 */
function literalSource(name: string): string {
  return /[*?[]/.test(name) ? name.replace(/[*?[\\]/g, '\\$&') : name;
}

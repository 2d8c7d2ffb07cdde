/**
 * An attach on this process's own terminal and signals, as the docker CLI does it for `run`,
 * `start -a` and `attach` (cli/command/container/{attach,run,tty,signals}.go): a `-t`
 * container's terminal gets our window size (and each change of it) and, when our stdin is
 * attached, our terminal in raw mode until the attach ends; without `-t`, signals sent to
 * tbuild go to the container (`--sig-proxy`, on by default), otherwise they end the attach.
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import type { ReadStream } from 'node:tty';
import { TbuildError } from '../errors.ts';
import {
  type AttachEnd,
  type AttachRequest,
  type AttachSession,
  defaultDetachKeys,
  killContainer,
  parseDetachKeys,
} from '../runtime/index.ts';
import type { CommandContext } from './command.ts';

export interface TerminalAttachOptions {
  root: string;
  /** The container (for the signals proxied to it). */
  id: string;
  /** The container's Tty. */
  tty: boolean;
  /** Whether our stdin goes to the container. */
  stdin: boolean;
  sigProxy: boolean;
  /** `--detach-keys`; Docker's Ctrl-P Ctrl-Q when undefined. */
  detachKeys: string | undefined;
}

/** The signals tbuild can catch and proxies (Docker forwards all but SIGCHLD, SIGPIPE, SIGURG). */
const proxied: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Raw mode as Go's term.MakeRaw (cfmakeraw), which the docker CLI uses: libuv's raw mode keeps
 * output post-processing (ONLCR), which would turn the container terminal's `\r\n` into
 * `\r\r\n` and a bare `\n` (a full-screen program's cursor move) into a new line, so `stty
 * -opost` clears it too. setRawMode(false) restores the terminal as libuv first found it.
 */
function makeRaw(input: ReadStream): void {
  input.setRawMode(true);
  spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
}

/** Docker's check before attaching a terminal's stdin (cli/command/streams In.CheckTty). */
export function checkTty(tty: boolean, attachStdin: boolean): void {
  if (tty && attachStdin && process.stdin.isTTY !== true) {
    throw new TbuildError('the input device is not a TTY', { exitCode: 1 });
  }
}

/**
 * Opens the attach with `open` (given the request for our stdio) and runs it to its end.
 * `signalled` is the exit code (128+n) when a signal that was not proxied ended it.
 */
export async function attachOnTerminal<T extends { session: AttachSession }>(
  ctx: CommandContext,
  options: TerminalAttachOptions,
  open: (request: AttachRequest) => Promise<T>,
): Promise<{ opened: T; end: AttachEnd; signalled?: number }> {
  const detachKeys = parseDetachKeys(options.detachKeys ?? defaultDetachKeys);
  const output = process.stdout;
  const input = process.stdin as ReadStream;
  // Signals are caught before the start, as docker's run does: none may end tbuild unseen.
  let session: AttachSession | undefined;
  let signalled: number | undefined;
  const handlers = proxied.map((name) => {
    const handler = () => {
      if (options.sigProxy && !options.tty) {
        void killContainer(options.root, options.id, name).catch(() => undefined);
        return;
      }
      signalled = 128 + constants.signals[name];
      session?.detach();
    };
    process.on(name, handler);
    return { name, handler };
  });
  const onResize = () => session?.resize(output.rows, output.columns);
  if (options.tty && output.isTTY) output.on('resize', onResize);
  // Raw before the start, as docker: the container's first output meets the terminal it expects.
  const raw = options.tty && options.stdin && input.isTTY === true;
  if (raw) makeRaw(input);
  try {
    const opened = await open({
      ...(options.stdin ? { stdin: ctx.stdin } : {}),
      stdout: (chunk) => ctx.stdout.write(chunk),
      stderr: (chunk) => ctx.stderr.write(chunk),
      detachKeys,
      ...(options.tty && output.isTTY ? { size: { rows: output.rows, columns: output.columns } } : {}),
    });
    session = opened.session;
    if (signalled !== undefined) session.detach();
    const end = await session.done;
    return { opened, end, ...(signalled === undefined ? {} : { signalled }) };
  } finally {
    if (raw) input.setRawMode(false);
    for (const { name, handler } of handlers) process.off(name, handler);
    output.off('resize', onResize);
  }
}

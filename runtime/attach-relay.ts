/**
 * A connection to a running container's monitor (conmon's attach socket, `bundle/attach`): the
 * container's output as it is written, and its stdin. conmon sends each piece of output as one
 * SOCK_SEQPACKET packet whose first byte names the stream (2 stdout, 3 stderr) and takes every
 * packet it receives as stdin bytes; a shutdown of our sending side ends the container's stdin
 * when conmon was started without `--leave-stdin-open` (Docker's StdinOnce). Window sizes go to
 * the `ctl` fifo beside the socket as `1 ROWS COLUMNS` lines (conmon's src/ctrl.c).
 *
 * Why python3: Node cannot open a SOCK_SEQPACKET socket, and a byte stream (socat) would lose
 * the packet boundaries that carry the stream byte. The relay is a few lines of python3's
 * standard library between pipes and the socket; it connects through `/proc/self/fd/N/attach`
 * because the socket's full path may exceed the 108 bytes a socket address can hold. It dies
 * with tbuild (PR_SET_PDEATHSIG) and sits in its own process group, so a Ctrl-C on tbuild's
 * terminal reaches tbuild (which proxies it to the container) and not the relay.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { RunError } from './errors.ts';
import { findOnPath } from './monitor.ts';

const relayScript = `
import ctypes, os, signal, socket, sys, threading
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
except Exception:
    pass
bundle, with_stdin = sys.argv[1], sys.argv[2] == "1"
status = os.fdopen(3, "w")
try:
    where = os.open(bundle, os.O_PATH)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.connect("/proc/self/fd/%d/attach" % where)
except OSError as error:
    status.write("%s\\n" % error.strerror)
    status.flush()
    os._exit(2)
status.write("ok\\n")
status.flush()

def pump_stdin():
    try:
        while True:
            data = os.read(0, 4096)
            if not data:
                break
            conn.send(data)
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    status.write("sent\\n")
    status.flush()

if with_stdin:
    threading.Thread(target=pump_stdin, daemon=True).start()
try:
    while True:
        packet = conn.recv(65536)
        if not packet:
            break
        fd = {2: 1, 3: 2}.get(packet[0])
        data = memoryview(packet)[1:]
        while fd is not None and len(data) > 0:
            data = data[os.write(fd, data):]
except OSError:
    os._exit(3)
os._exit(0)
`;

const python3Hint = 'attaching to a container needs python3 (Debian/Ubuntu: apt-get install python3-minimal)';

/** An open attach connection. */
export interface MonitorAttachment {
  /** Bytes for the container's stdin (when opened with `stdin`). */
  input: Writable | null;
  /** Resolves when the output ended: the monitor closed the socket (the container exited). */
  ended: Promise<void>;
  /** Sets the container's terminal size (a `-t` container). */
  resize(rows: number, columns: number): void;
  /**
   * Drops the connection; the container keeps running. Input written before is delivered first
   * (the relay ends our stdin and says when it has sent it all, or a second passes).
   */
  close(): Promise<void>;
}

/**
 * Connects to the monitor of the container whose bundle is `bundle`. `output` receives the
 * container's stdout and stderr as conmon relays them (a terminal's output is all stdout).
 */
export async function connectToMonitor(
  bundle: string,
  options: {
    stdin: boolean;
    stdout: (chunk: Buffer) => void;
    stderr: (chunk: Buffer) => void;
  },
): Promise<MonitorAttachment> {
  const python = systemPython();
  if (python === undefined) throw new RunError('python3 was not found', { hint: python3Hint });
  // -I -S: no user site, no PYTHON* variables, no site module: the standard library only.
  const child = spawn(python, ['-I', '-S', '-c', relayScript, bundle, options.stdin ? '1' : '0'], {
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', options.stdout);
  child.stderr?.on('data', options.stderr);
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (error) => reject(new RunError(`could not run python3: ${error.message}`)));
    // 'close': the output pipes are drained too.
    child.once('close', (code) => resolve(code ?? 1));
  });
  const status = child.stdio[3] as Readable;
  const lines = statusLines(status);
  const first = await Promise.race([lines.next(), exited.then(() => undefined)]);
  if (first === undefined || first.done) {
    throw new RunError('cannot attach to the container: the relay ended before connecting');
  }
  if (first.value !== 'ok') {
    child.kill('SIGKILL');
    throw new RunError(`cannot attach to the container: ${first.value} (${join(bundle, 'attach')})`);
  }
  return {
    input: child.stdin,
    ended: exited.then(() => undefined),
    resize: (rows, columns) => resizeTerminal(bundle, rows, columns),
    close: async () => {
      if (child.stdin) {
        child.stdin.end();
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
        await Promise.race([lines.next(), exited, timeout]);
      }
      child.kill('SIGKILL');
      status.destroy();
    },
  };
}

/** The relay's status lines (`ok` or why it could not connect, then `sent` at the end of input). */
async function* statusLines(status: Readable): AsyncGenerator<string> {
  let text = '';
  for await (const chunk of status.setEncoding('utf8')) {
    text += chunk as string;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      yield text.slice(0, nl);
      text = text.slice(nl + 1);
    }
  }
}

/**
 * The distribution's python3 first: the relay needs only the standard library, and a version
 * manager's shim found first on PATH (pyenv's is a shell script) costs a second or more per attach.
 */
function systemPython(): string | undefined {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : findOnPath('python3');
}

/** conmon's resize message on the `ctl` fifo; nothing when the monitor is gone. */
function resizeTerminal(bundle: string, rows: number, columns: number): void {
  let fd: number;
  try {
    fd = openSync(join(bundle, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return;
  }
  try {
    writeSync(fd, `1 ${rows} ${columns}\n`);
  } catch {
    // A full or closed fifo: this size is lost, the next one will do.
  } finally {
    closeSync(fd);
  }
}

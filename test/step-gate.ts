/**
 * A gate a build step waits on, for tests that must act while a build is inside a step (a prune
 * that has to queue behind it, a second build racing the same step). A `RUN sleep N` window can
 * be outrun on a loaded machine, where starting the second command takes longer than N; the gate
 * cannot. The step asks 127.0.0.1 over the host network (`--allow network.host`), so the request
 * arriving proves the step is running, and it is answered only when the test opens the gate.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StepGate {
  /** A RUN instruction that waits for the gate, then runs `then` (a shell command). */
  run(then: string): string;
  /**
   * Resolves when `count` steps in all have reached the gate; rejects if `build` ends first or
   * after two minutes (a step that never comes would otherwise hang the test file).
   */
  reached(build: Promise<{ code: number; stderr: string }>, count?: number): Promise<void>;
  /** Lets every waiting step (and every later one) through. */
  open(): void;
  close(): Promise<void>;
}

export async function startStepGate(): Promise<StepGate> {
  const waiting: ServerResponse[] = [];
  let opened = false;
  let arrivals = 0;
  const awaited: { count: number; resolve: () => void }[] = [];
  const server = createServer((_req, res) => {
    arrivals++;
    for (const wait of awaited.filter((w) => w.count <= arrivals)) wait.resolve();
    if (opened) res.end('open\n');
    else waiting.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // BusyBox wget waits up to 900 s for an answer (its -T default).
    run: (then) => `RUN --network=host wget -q -O /dev/null http://127.0.0.1:${port}/ && ${then}`,
    reached: (build, count = 1) =>
      Promise.race([
        arrivals >= count
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              awaited.push({ count, resolve });
            }),
        build.then((result) => {
          throw new Error(
            `the build ended (exit ${result.code}) before its step reached the gate:\n${result.stderr}`,
          );
        }),
        new Promise<never>((_, reject) => {
          const after = 120_000;
          setTimeout(
            () => reject(new Error(`${count} steps did not reach the gate in ${after / 1000} s`)),
            after,
          ).unref();
        }),
      ]),
    open: () => {
      opened = true;
      for (const res of waiting.splice(0)) res.end('open\n');
    },
    close: () => {
      for (const res of waiting.splice(0)) res.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

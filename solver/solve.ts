import type { ProgressSink } from '../progress/index.ts';
import type { Digest, Vertex } from './graph.ts';

/**
 * How the solver reaches the world: the ops (solver/ops) implement this for one result type `R`
 * (a root filesystem as a stack of layers). The solver itself knows nothing of files or processes.
 */
export interface OpRunner<R> {
  /**
   * The vertex's cache key, from its op and its inputs' keys. For COPY it also covers the content
   * checksums of exactly the files it reads. Computed before anything runs.
   */
  cacheKey(vertex: Vertex, inputKeys: Digest[], signal: AbortSignal): Promise<Digest>;
  /** A cached result for the key, or undefined. A hit never needs the vertex's inputs. */
  lookup(key: Digest, vertex: Vertex): Promise<R | undefined>;
  /** Runs the op on its inputs' results, records the result under `key` and returns it. */
  run(vertex: Vertex, inputs: R[], key: Digest, job: JobContext): Promise<R>;
}

/** What a running op gets: cancellation and a place for its output. */
export interface JobContext {
  signal: AbortSignal;
  /** `--no-cache` or `--no-cache-filter` applies: the result must be made, not taken from elsewhere. */
  ignoreCache: boolean;
  /** Sends a chunk of the step's output to the progress display. */
  log(stream: 1 | 2, data: string): void;
}

export interface SolveOptions {
  /** `--no-cache`: run every step, ignoring cached results (they are still recorded). */
  noCache: boolean;
  /** How many ops may run at once. Independent stages run side by side up to this number. */
  concurrency: number;
  signal?: AbortSignal;
  progress?: ProgressSink;
}

/**
 * Solves a graph lazily, cache keys first, BuildKit's way (solver/scheduler.go, edge.go):
 *  - a vertex whose key is in the cache is a hit, and its inputs are never built;
 *  - on a miss, inputs are solved in parallel, then the op runs;
 *  - each vertex (by digest) is solved once, however many consumers it has;
 *  - the first failure cancels everything still running and is the error the caller sees.
 *
 * Why not p-graph, the scheduler the project started with: it runs every node of a fixed graph
 * eagerly and discards results, and it has no cancellation. A cache hit must skip its inputs
 * entirely, ops need their inputs' results, and a failing RUN must kill the ones still running;
 * this ~100-line scheduler does all three.
 */
export async function solve<R>(root: Vertex, runner: OpRunner<R>, options: SolveOptions): Promise<R> {
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;

  const keys = new Map<string, Promise<Digest>>();
  const results = new Map<string, Promise<R>>();
  const limit = createLimiter(options.concurrency);
  const emit = options.progress ?? (() => {});

  const keyOf = (vertex: Vertex): Promise<Digest> => {
    let key = keys.get(vertex.digest);
    if (!key) {
      key = Promise.all(vertex.inputs.map(keyOf)).then((inputKeys) =>
        runner.cacheKey(vertex, inputKeys, signal),
      );
      keys.set(vertex.digest, key);
    }
    return key;
  };

  /**
   * A hit's inputs are never solved, yet the user expects every step of a cached build to show
   * CACHED, as BuildKit's progress does: the hit and its not-yet-solved ancestors are announced as
   * cached, once each.
   */
  const announced = new Set<string>();
  const announceCached = (vertex: Vertex): void => {
    if (announced.has(vertex.digest)) return;
    announced.add(vertex.digest);
    for (const input of vertex.inputs) if (!results.has(input.digest)) announceCached(input);
    const now = Date.now();
    emit({
      type: 'vertex',
      digest: vertex.digest,
      name: vertex.name,
      started: now,
      completed: now,
      cached: true,
    });
  };

  const solveVertex = (vertex: Vertex): Promise<R> => {
    let result = results.get(vertex.digest);
    if (!result) {
      result = (async () => {
        const key = await keyOf(vertex);
        const ignoreCache = options.noCache || vertex.ignoreCache === true;
        if (!ignoreCache) {
          const hit = await runner.lookup(key, vertex);
          if (hit !== undefined) {
            announceCached(vertex);
            return hit;
          }
        }
        const inputs = await Promise.all(vertex.inputs.map(solveVertex));
        return limit(signal, async () => {
          emit({ type: 'vertex', digest: vertex.digest, name: vertex.name, started: Date.now() });
          const job: JobContext = {
            signal,
            ignoreCache,
            log: (stream, data) =>
              emit({ type: 'log', digest: vertex.digest, stream, data, time: Date.now() }),
          };
          try {
            const output = await runner.run(vertex, inputs, key, job);
            emit({ type: 'vertex', digest: vertex.digest, name: vertex.name, completed: Date.now() });
            return output;
          } catch (error) {
            const reason = signal.aborted && error !== signal.reason ? 'canceled' : errorMessage(error);
            emit({
              type: 'vertex',
              digest: vertex.digest,
              name: vertex.name,
              completed: Date.now(),
              error: reason,
            });
            throw error;
          }
        });
      })();
      // The first failure anywhere cancels the rest of the build.
      result.catch((error: unknown) => {
        if (!signal.aborted) controller.abort(error);
      });
      results.set(vertex.digest, result);
    }
    return result;
  };

  try {
    return await solveVertex(root);
  } catch (error) {
    // Report the failure that started the cancellation, not the cancellations it caused.
    throw signal.aborted && signal.reason !== undefined ? signal.reason : error;
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    // Let whatever is still running finish unwinding (killed by the abort) before returning.
    await Promise.allSettled(results.values());
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A counting semaphore; waiting callers start in arrival order, and an abort drops them. */
function createLimiter(concurrency: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(signal: AbortSignal, task: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      signal.throwIfAborted();
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

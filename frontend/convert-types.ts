// What the frontend takes (ConvertOptions) and what it hands the solver and the exporter
// (BuildDefinition): the contract of `convert`, as plain data.
//
// frontend → image is a type-only edge here: the frontend's output includes the OCI image config
// (ImageConfig, ContainerConfig, History) that image/oci.ts defines; it calls no image code. The
// one value the frontend takes from image is the pure reference grammar (parseReference, BuildKit's
// distribution/reference) in checks/from.ts, for the InvalidDefaultArgInFrom check.
import type { ContainerConfig, History, ImageConfig } from '../image/index.ts';
import type { Digest, Vertex } from '../solver/index.ts';
import type { Checks } from './checks/index.ts';

/** A base image as the store (or a registry) knows it. */
export interface ResolvedImage {
  /** The normalised reference, `docker.io/library/busybox:latest`. */
  ref: string;
  manifest: Digest;
  config: ImageConfig;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ConvertOptions {
  /** The Dockerfile's name in messages and locations (`Dockerfile`). */
  file: string;
  escape: '\\' | '`';
  target?: string;
  buildArgs: Record<string, string>;
  /** `--label`: added to the final image's labels. */
  labels: Record<string, string>;
  platform: Platform;
  context: { dir: string; excludes: string[] };
  /**
   * `--build-context NAME=VALUE`, by the name's key (frontend/named-contexts.ts namedContextKey:
   * `alpine`, `build`, `user/app:1`): a stage or an image of that name is replaced by it.
   */
  namedContexts?: Record<string, NamedContext>;
  /** `--no-cache-filter`: stages whose steps always run. */
  noCacheStages: string[];
  /** The image's creation time, ISO 8601; also each history entry's. */
  created: string;
  resolveImage(ref: string, location: string): Promise<ResolvedImage>;
  /** `--add-host`, `--shm-size`, `--ulimit`: every RUN's sandbox (ExecOp fields of the same names). */
  runSandbox?: {
    extraHosts?: { host: string; ip: string }[];
    shmSize?: number;
    ulimits?: { name: string; soft: number; hard: number }[];
  };
  /** The build checks to run while converting (frontend/checks); their warnings stay in it. */
  checks?: Checks;
  /**
   * Convert every stage, not only those the target needs (BuildKit's lint subrequest with no
   * target, so that `--call=check` checks them all).
   */
  allStages?: boolean;
}

/**
 * A history entry of the image being built. `step` ties an entry to the vertex that may add a
 * layer: the exporter marks it `empty_layer` when that step ended up adding none (BuildKit drops
 * empty layers the same way). Entries without `step` are metadata (`empty_layer` as given).
 */
export interface PendingHistory {
  entry: History;
  step?: Digest;
}

/**
 * A named context as the frontend reads it: a directory (the user's, or a git checkout or an
 * archive fetched into one; `excludes` from its own .dockerignore), or an image
 * (`docker-image://REF`, resolved like a base image; `scratch` is the empty filesystem).
 */
export type NamedContext =
  | { type: 'local'; dir: string; excludes: string[] }
  | { type: 'image'; ref: string };

/** What the frontend hands the solver and the exporter: the graph and the config beside it. */
export interface BuildDefinition {
  root: Vertex;
  /** The final image config; `rootfs.diff_ids` is filled in by the exporter. */
  config: ImageConfig;
  history: PendingHistory[];
  /** The stage built (its name, or its index as a string). */
  stage: string;
}

/** The image types the dispatch functions use, from here so that the image edge stays in one place. */
export type { ContainerConfig, History };

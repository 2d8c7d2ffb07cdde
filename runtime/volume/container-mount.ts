/**
 * A container's mount as its record keeps it: what the executor mounts (ExecMount: a bind of a
 * host path or of a volume's `_data`, or a tmpfs), plus what Docker's inspect and `rm -v` need
 * to know about where it came from. Plain data, written into `container.json`.
 */
import type { ExecMount } from '../../executor/index.ts';

export interface ContainerMount extends ExecMount {
  /** Set when the mount is a volume's: `source` is then that volume's `_data`. */
  volume?: {
    name: string;
    /**
     * Made for this container (an image VOLUME, `-v /path`, `--mount type=volume` without a
     * source): `rm -v` and `--rm` remove it (moby daemon/mounts.go removeMountPoints).
     */
    anonymous: boolean;
    /** `nocopy` / `volume-nocopy`: the image's content at the path is not copied in. */
    noCopy: boolean;
  };
  /** Docker's MountPoint.Mode as inspect shows it: `z` for a `-v` volume, `ro`, or empty. */
  mode?: string;
  /** The `-v` text it came from: Docker's HostConfig.Binds lists these. */
  bind?: string;
}

/** The names of the volumes a container's mounts use. */
export function mountedVolumes(mounts: readonly ContainerMount[]): string[] {
  return mounts.flatMap((m) => (m.volume === undefined ? [] : [m.volume.name]));
}

/**
 * Docker's management command groups as aliases of tbuild's commands: `tbuild image ls` is
 * `tbuild images`, `tbuild system df` is `tbuild du`. A subcommand whose target is not a tbuild
 * command (yet) is an unknown command, so commands added later (ps, logs, exec…) join their group
 * by existing. Names follow docker/cli cli/command/{image,container,builder,system}/cmd.go.
 */
export interface CommandGroup {
  name: string;
  summary: string;
  /** Subcommand → the tbuild command it runs. */
  commands: Record<string, string>;
}

export const commandGroups: CommandGroup[] = [
  {
    name: 'builder',
    summary: 'Manage builds',
    // `builder du` is buildx's.
    commands: { build: 'build', du: 'du', prune: 'prune' },
  },
  {
    name: 'container',
    summary: 'Manage containers',
    commands: {
      attach: 'attach',
      commit: 'commit',
      cp: 'cp',
      create: 'create',
      diff: 'diff',
      exec: 'exec',
      export: 'export',
      inspect: 'inspect',
      kill: 'kill',
      logs: 'logs',
      ls: 'ps',
      list: 'ps',
      ps: 'ps',
      pause: 'pause',
      port: 'port',
      prune: 'container-prune',
      rename: 'rename',
      restart: 'restart',
      rm: 'rm',
      remove: 'rm',
      run: 'run',
      start: 'start',
      stats: 'stats',
      stop: 'stop',
      top: 'top',
      unpause: 'unpause',
      wait: 'wait',
    },
  },
  {
    name: 'image',
    summary: 'Manage images',
    commands: {
      build: 'build',
      history: 'history',
      import: 'import',
      inspect: 'inspect',
      load: 'load',
      ls: 'images',
      list: 'images',
      pull: 'pull',
      push: 'push',
      rm: 'rmi',
      remove: 'rmi',
      save: 'save',
      tag: 'tag',
    },
  },
  {
    name: 'network',
    summary: 'Manage networks',
    commands: {
      connect: 'network-connect',
      create: 'network-create',
      disconnect: 'network-disconnect',
      inspect: 'network-inspect',
      ls: 'network-ls',
      list: 'network-ls',
      prune: 'network-prune',
      rm: 'network-rm',
      remove: 'network-rm',
    },
  },
  {
    name: 'system',
    summary: 'Manage tbuild',
    // tbuild's prune removes build cache (docker system prune also removes stopped containers,
    // unused networks and dangling images, which tbuild does not keep or has no prune for).
    commands: { df: 'du', prune: 'prune' },
  },
  {
    name: 'volume',
    summary: 'Manage volumes',
    commands: {
      create: 'volume-create',
      inspect: 'volume-inspect',
      ls: 'volume-ls',
      list: 'volume-ls',
      prune: 'volume-prune',
      rm: 'volume-rm',
      remove: 'volume-rm',
    },
  },
];

/** The command `group SUB` runs, or undefined. */
export function findGroupCommand(group: CommandGroup, sub: string): string | undefined {
  return Object.hasOwn(group.commands, sub) ? group.commands[sub] : undefined;
}

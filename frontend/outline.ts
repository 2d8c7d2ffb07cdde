// What `--call=outline` and `--call=targets` report, as BuildKit's subrequests make them
// (dockerfile2llb/outline.go and ListTargets): pure, from the instructions, the build args and the
// comments above FROM and ARG lines. The outline follows the stages the target needs (its base
// stages, COPY --from and RUN --mount from=) and lists the build args they use, with their values
// and descriptions, and the secrets and SSH agents their RUN mounts ask for. Unlike BuildKit it
// does not look base images up: an ARG default that refers to a base image's ENV reads it as unset.
import {
  type Command,
  expandWordWithMatches,
  type Instructions,
  type Node,
  type ParsedDockerfile,
  type Stage,
} from '../parser/index.ts';
import { descriptionComments } from './checks/index.ts';

export interface OutlineArg {
  name: string;
  value?: string;
  description?: string;
  line: number;
}

export interface OutlineSecret {
  name: string;
  required: boolean;
  line: number;
}

export interface Outline {
  /** The target stage's name, and its description comment. */
  name?: string;
  description?: string;
  args: OutlineArg[];
  secrets: OutlineSecret[];
  ssh: OutlineSecret[];
}

export interface OutlineTarget {
  name?: string;
  description?: string;
  /** The last stage: what a build without --target builds. */
  default: boolean;
  /** FROM's image or stage, as written. */
  base: string;
  platform?: string;
  line: number;
}

export interface OutlineOptions {
  target?: string;
  buildArgs: Readonly<Record<string, string>>;
  platformArgs: ReadonlyMap<string, string>;
}

interface ArgInfo extends OutlineArg {
  /** Global ARGs its default used (they count as used with it). */
  deps: Set<string>;
}

/** Every stage, for `--call=targets` (BuildKit ListTargets). */
export function listTargets(instructions: Instructions, ast: ParsedDockerfile): OutlineTarget[] {
  const froms = ast.nodes.filter((node) => node.keyword === 'FROM');
  return instructions.stages.map((stage, i) => {
    const description = stage.name === undefined ? undefined : describe(froms[i], stage.name);
    return {
      ...(stage.name === undefined ? {} : { name: stage.name }),
      ...(description === undefined ? {} : { description }),
      default: i === instructions.stages.length - 1,
      base: stage.base,
      ...(stage.platform === undefined ? {} : { platform: stage.platform }),
      line: stage.range.start.line,
    };
  });
}

/** The build args, secrets and SSH agents the target uses, for `--call=outline`. */
export function outlineTarget(
  instructions: Instructions,
  ast: ParsedDockerfile,
  options: OutlineOptions,
): Outline {
  const { stages } = instructions;
  const nodeAt = new Map<number, Node>(ast.nodes.map((node) => [node.range.start.line, node]));
  const expand = (word: string, env: ReadonlyMap<string, string>) => {
    try {
      return expandWordWithMatches(word, env, { escapeChar: ast.escape });
    } catch {
      return undefined;
    }
  };

  // Global ARGs, with --build-arg values (BuildKit buildMetaArgs).
  const globalEnv = new Map(options.platformArgs);
  const globals = new Map<string, ArgInfo>();
  for (const command of instructions.metaArgs) {
    for (const { key, value } of command.args) {
      const info: ArgInfo = { name: key, line: command.range.start.line, deps: new Set() };
      const description = describe(nodeAt.get(command.range.start.line), key);
      if (description !== undefined) info.description = description;
      let resolved: string | undefined;
      if (key in options.buildArgs) resolved = options.buildArgs[key];
      else if (value !== undefined) {
        const result = expand(value, globalEnv);
        resolved = result?.word;
        for (const name of result?.matched ?? []) info.deps.add(name);
      }
      if (resolved !== undefined) {
        info.value = resolved;
        globalEnv.set(key, resolved);
      }
      globals.set(key, info);
    }
  }

  const wanted = options.target?.toLowerCase();
  const target =
    wanted === undefined ? stages[stages.length - 1] : stages.filter((s) => s.name === wanted).pop();
  if (target === undefined) return { args: [], secrets: [], ssh: [] };

  const byName = (name: string, before: number, byIndex: boolean): Stage | undefined => {
    if (byIndex && /^\d+$/.test(name)) return stages[Number(name)];
    return stages.filter((s) => s.index < before && s.name === name.toLowerCase()).pop();
  };

  interface StageOutline {
    used: Set<string>;
    infos: Map<string, ArgInfo>;
    secrets: Map<string, OutlineSecret>;
    ssh: Map<string, OutlineSecret>;
    env: Map<string, string>;
    deps: Stage[];
    base?: Stage;
  }
  const done = new Map<number, StageOutline>();

  const visit = (stage: Stage): StageOutline => {
    const known = done.get(stage.index);
    if (known) return known;
    const out: StageOutline = {
      used: new Set(),
      infos: new Map(globals),
      secrets: new Map(),
      ssh: new Map(),
      env: new Map(),
      deps: [],
    };
    done.set(stage.index, out);
    const base = expand(stage.base, globalEnv);
    for (const name of base?.matched ?? []) out.used.add(name);
    if (stage.platform !== undefined)
      for (const name of expand(stage.platform, globalEnv)?.matched ?? []) out.used.add(name);
    const baseStage = base === undefined ? undefined : byName(base.word, stage.index, false);
    if (baseStage) {
      out.base = baseStage;
      out.env = new Map(visit(baseStage).env);
    }
    for (const command of stage.commands) dispatch(stage, command, out);
    return out;
  };

  const dispatch = (stage: Stage, command: Command, out: StageOutline) => {
    const line = command.range.start.line;
    switch (command.kind) {
      case 'arg':
        for (const { key, value } of command.args) {
          const hasValue = key in options.buildArgs;
          let resolved: string | undefined;
          let inherited = false;
          if (!hasValue && value === undefined && globalEnv.has(key)) {
            resolved = globalEnv.get(key);
            inherited = true; // the global ARG's own entry (and description) stands
          } else if (hasValue) resolved = options.buildArgs[key];
          else if (value !== undefined) resolved = expand(value, out.env)?.word;
          if (!inherited) {
            const info: ArgInfo = { name: key, line, deps: new Set() };
            if (resolved !== undefined) info.value = resolved;
            const description = describe(nodeAt.get(line), key);
            if (description !== undefined) info.description = description;
            out.infos.set(key, info);
          }
          if (resolved !== undefined) out.env.set(key, resolved);
          out.used.add(key);
        }
        return;
      case 'env':
        for (const [key, value] of command.pairs) {
          const k = expand(key, out.env)?.word ?? key;
          out.env.set(k, expand(value, out.env)?.word ?? value);
        }
        return;
      case 'copy':
        if (command.from !== undefined) {
          const from = byName(command.from, stage.index, true);
          if (from) out.deps.push(from);
        }
        return;
      case 'run':
        for (const mount of command.mounts) {
          if (mount.from) {
            const from = byName(mount.from, stage.index, true);
            if (from) out.deps.push(from);
          }
          if (mount.type === 'secret') {
            const target = mount.target === undefined ? undefined : expand(mount.target, out.env)?.word;
            const id =
              mount.id === undefined
                ? (target?.split('/').pop() ?? '')
                : (expand(mount.id, out.env)?.word ?? '');
            if (id !== '') out.secrets.set(id, { name: id, required: mount.required ?? false, line });
          }
          if (mount.type === 'ssh') {
            const id = mount.id === undefined ? 'default' : (expand(mount.id, out.env)?.word ?? 'default');
            out.ssh.set(id, { name: id, required: mount.required ?? false, line });
          }
        }
        return;
      default:
        return;
    }
  };

  visit(target);
  // Collect from the target, then its base, then what it copies or mounts from; a name once.
  const args: OutlineArg[] = [];
  const secrets: OutlineSecret[] = [];
  const ssh: OutlineSecret[] = [];
  const seen = { args: new Set<string>(), secrets: new Set<string>(), ssh: new Set<string>() };
  const walked = new Set<number>();
  const collect = (stage: Stage) => {
    if (walked.has(stage.index)) return;
    walked.add(stage.index);
    const out = done.get(stage.index) ?? visit(stage);
    const used = new Set<string>();
    const mark = (names: Iterable<string>) => {
      for (const name of names) {
        if (used.has(name)) continue;
        used.add(name);
        mark(out.infos.get(name)?.deps ?? []);
      }
    };
    mark(out.used);
    for (const name of used) {
      const info = out.infos.get(name);
      if (info === undefined || seen.args.has(name)) continue;
      seen.args.add(name);
      const { deps: _deps, ...arg } = info;
      args.push(arg);
    }
    for (const [id, secret] of out.secrets)
      if (!seen.secrets.has(id) && seen.secrets.add(id)) secrets.push(secret);
    for (const [id, agent] of out.ssh) if (!seen.ssh.has(id) && seen.ssh.add(id)) ssh.push(agent);
    if (out.base) collect(out.base);
    for (const dep of out.deps) collect(dep);
  };
  collect(target);
  const byLine = (a: { line: number }, b: { line: number }) => a.line - b.line;
  const description =
    target.name === undefined ? undefined : describe(nodeAt.get(target.range.start.line), target.name);
  return {
    ...(target.name === undefined ? {} : { name: target.name }),
    ...(description === undefined ? {} : { description }),
    args: args.sort(byLine),
    secrets: secrets.sort(byLine),
    ssh: ssh.sort(byLine),
  };
}

/** BuildKit's getComment: the first comment line above the instruction that starts with `name `. */
function describe(node: Node | undefined, name: string): string | undefined {
  if (node === undefined) return undefined;
  const prefix = `${name} `;
  const line = descriptionComments(node).find((comment) => comment.startsWith(prefix));
  return line === undefined ? undefined : line.slice(prefix.length);
}

/**
 * The executor (Go's text/template exec.go): runs a parsed tree on plain JS data, with Go's scoping
 * of variables, field and method lookup, range over arrays/maps/numbers, and Go's execution errors
 * (`executing "" at <.Foo>: …`) at the action's line and column.
 */
import { lineOf, TemplateError } from './template-error.ts';
import { callBuiltin, headerFunctions } from './template-funcs.ts';
import type { Command, ControlNode, Node, Operand, Pipeline } from './template-nodes.ts';
import { isObject, noValue, printValue, truthy } from './template-values.ts';

/** What a missing field or key does: Go's default prints `<no value>`; Docker's inspect errors. */
export interface TemplateOptions {
  /** `error`: Go's missingkey=error for maps (docker inspect). Default: `<no value>`. */
  missingKey?: 'zero' | 'error';
  /**
   * The Go type of `.` when it is a struct (`*formatter.imageContext`): an unknown field of it is
   * Go's "can't evaluate field X in type T" instead of a map lookup.
   */
  structType?: string;
  /**
   * Docker's table header run (docker-cli templates.HeaderFunctions): json, join, split, lower,
   * upper, title, pad and truncate hand their first argument back unchanged, so a header cell is
   * the field's header whatever the row's cell does to its value.
   */
  header?: boolean;
}

/** Runs one template on one datum; `run` appends the output to `out`. */
export class Executor {
  readonly #src: string;
  readonly #options: TemplateOptions;
  readonly #root: unknown;
  #vars: Map<string, unknown>[] = [];

  constructor(src: string, options: TemplateOptions, root: unknown) {
    this.#src = src;
    this.#options = options;
    this.#root = root;
    this.#vars.push(new Map([['$', root]]));
  }

  #error(pos: number, what: string, message: string): TemplateError {
    const before = this.#src.slice(0, pos);
    const line = lineOf(this.#src, pos);
    const col = pos - (before.lastIndexOf('\n') + 1);
    return new TemplateError('exec', `:${line}:${col}: executing "" at <${what}>: ${message}`);
  }

  run(nodes: Node[], dot: unknown, out: string[]): void {
    for (const node of nodes) {
      if (node.k === 'text') out.push(node.text);
      else if (node.k === 'action') {
        const v = this.#pipeline(node.pipe, dot);
        if (node.pipe.decl.length === 0) out.push(printValue(v));
      } else if (node.k === 'if') {
        const v = this.#scoped(() => this.#pipeline(node.pipe, dot));
        this.run(truthy(v) ? node.body : node.otherwise, dot, out);
      } else if (node.k === 'with') {
        this.#vars.push(new Map());
        try {
          const v = this.#pipeline(node.pipe, dot);
          if (truthy(v)) this.run(node.body, v, out);
          else this.run(node.otherwise, dot, out);
        } finally {
          this.#vars.pop();
        }
      } else {
        this.#range(node, dot, out);
      }
    }
  }

  #scoped<T>(fn: () => T): T {
    this.#vars.push(new Map());
    try {
      return fn();
    } finally {
      this.#vars.pop();
    }
  }

  #range(node: ControlNode, dot: unknown, out: string[]): void {
    const pipe = { ...node.pipe, decl: [] };
    const v = this.#pipeline(pipe, dot);
    const entries: [unknown, unknown][] = Array.isArray(v)
      ? v.map((e, i) => [i, e])
      : isObject(v)
        ? Object.keys(v)
            .sort()
            .map((k) => [k, v[k]])
        : typeof v === 'number'
          ? Array.from({ length: v }, (_, i) => [i, i])
          : [];
    if (
      v !== undefined &&
      v !== null &&
      v !== noValue &&
      !Array.isArray(v) &&
      !isObject(v) &&
      typeof v !== 'number'
    ) {
      throw this.#error(node.pipe.pos, 'range', `range can't iterate over ${printValue(v)}`);
    }
    if (entries.length === 0) {
      this.run(node.otherwise, dot, out);
      return;
    }
    for (const [key, elem] of entries) {
      const scope = new Map<string, unknown>();
      const decl = node.pipe.decl;
      if (decl.length === 1) scope.set(decl[0] as string, elem);
      if (decl.length === 2) {
        scope.set(decl[0] as string, key);
        scope.set(decl[1] as string, elem);
      }
      this.#vars.push(scope);
      try {
        this.run(node.body, elem, out);
      } finally {
        this.#vars.pop();
      }
    }
  }

  #pipeline(pipe: Pipeline, dot: unknown): unknown {
    let value: unknown = noValue;
    let piped = false;
    for (const cmd of pipe.commands) {
      value = this.#command(cmd, dot, piped ? value : noValue, piped);
      piped = true;
    }
    if (pipe.decl.length > 0) {
      const name = pipe.decl[0] as string;
      if (pipe.assign) {
        const scope = [...this.#vars].reverse().find((s) => s.has(name));
        if (!scope) throw this.#error(pipe.pos, name, `undefined variable: ${name}`);
        scope.set(name, value);
      } else (this.#vars.at(-1) as Map<string, unknown>).set(name, value);
    }
    return value;
  }

  #command(cmd: Command, dot: unknown, input: unknown, piped: boolean): unknown {
    const [head, ...rest] = cmd.operands as [Operand, ...Operand[]];
    const args = () => {
      const list = rest.map((o) => this.#operand(o, dot, []));
      if (piped) list.push(input);
      return list;
    };
    if (head.k === 'func') {
      try {
        const values = args();
        if (this.#options.header && headerFunctions.has(head.name)) return values[0];
        return callBuiltin(head.name, values);
      } catch (error) {
        if (error instanceof TemplateError) throw error;
        throw this.#error(head.pos, head.name, `error calling ${head.name}: ${(error as Error).message}`);
      }
    }
    if (rest.length > 0 || piped) {
      // A method (`.Label "k"`): the field is a function taking the arguments.
      if (head.k === 'field' || head.k === 'var') {
        const method = this.#operand(head, dot, args());
        return method;
      }
      throw this.#error(
        head.pos,
        printValue(this.#operand(head, dot, [])),
        "can't give argument to non-function",
      );
    }
    return this.#operand(head, dot, []);
  }

  #operand(op: Operand, dot: unknown, args: unknown[]): unknown {
    switch (op.k) {
      case 'literal':
        return op.value;
      case 'func':
        return callBuiltin(op.name, []);
      case 'field':
        return this.#fields(dot, op.names, op.pos, args, true);
      case 'var': {
        const scope = [...this.#vars].reverse().find((s) => s.has(op.name));
        if (!scope) throw this.#error(op.pos, op.name, `undefined variable: ${op.name}`);
        return this.#fields(scope.get(op.name), op.names, op.pos, args, op.name === '$');
      }
      case 'pipe':
        return this.#fields(this.#pipeline(op.pipe, dot), op.names, op.pos, args, false);
    }
  }

  #fields(value: unknown, names: string[], at: number, args: unknown[], fromRoot: boolean): unknown {
    let v = value;
    // Go places a chain of fields (`.Config.Cmd`) at its second element.
    const pos = names.length > 1 ? at + 1 + (names[0] as string).length : at;
    const path = names.map((n) => `.${n}`).join('');
    names.forEach((name, i) => {
      const last = i === names.length - 1;
      if (v === noValue || v === undefined || v === null) {
        if (this.#options.missingKey === 'error') {
          throw this.#error(pos, path, `nil pointer evaluating interface {}.${name}`);
        }
        v = undefined;
        return;
      }
      if (!isObject(v)) {
        throw this.#error(pos, path, `can't evaluate field ${name} in type ${goType(v)}`);
      }
      if (!Object.hasOwn(v, name)) {
        if (i === 0 && fromRoot && v === this.#root && this.#options.structType !== undefined) {
          throw this.#error(pos, path, `can't evaluate field ${name} in type ${this.#options.structType}`);
        }
        if (this.#options.missingKey === 'error') {
          throw this.#error(pos, path, `map has no entry for key "${name}"`);
        }
        v = noValue;
        return;
      }
      const field = v[name];
      if (typeof field === 'function') {
        const callArgs = last ? args : [];
        v = (field as (...a: unknown[]) => unknown)(...callArgs);
        return;
      }
      if (last && args.length > 0) {
        throw this.#error(pos, path, `${name} has arguments but cannot be invoked as function`);
      }
      v = field;
    });
    if (names.length === 0 && args.length > 0) {
      throw this.#error(pos, '.', "can't give argument to non-function .");
    }
    return v;
  }
}

function goType(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'interface {}';
}

import { StepError } from './errors.ts';
import type { Vertex } from './graph.ts';

/**
 * BuildKit's entitlements (util/entitlements/entitlements.go): privileges a build must be granted
 * with `--allow` before any of its steps may use them. `device` is not supported by tbuild.
 */
export type Entitlement = 'network.host' | 'security.insecure';

export const entitlements: readonly Entitlement[] = ['network.host', 'security.insecure'];

/** True for a name `--allow` accepts. */
export function isEntitlement(name: string): name is Entitlement {
  return (entitlements as readonly string[]).includes(name);
}

/**
 * Refuses a graph with a step that needs an entitlement not granted, before anything runs (cached
 * steps included), as BuildKit's ValidateEntitlements does when it loads the definition
 * (solver/llbsolver/vertex.go): `RUN --network=host` needs `network.host`, `RUN --security=insecure`
 * needs `security.insecure`. The message is BuildKit's ("network.host is not allowed"), located at
 * the step. A `RUN --network=host` under `--network none` is not refused: none wins there.
 */
export function checkEntitlements(
  root: Vertex,
  granted: ReadonlySet<Entitlement>,
  defaultNetwork: 'host' | 'none',
): void {
  const seen = new Set<string>();
  const visit = (v: Vertex) => {
    if (seen.has(v.digest)) return;
    seen.add(v.digest);
    for (const input of v.inputs) visit(input);
    const op = v.op;
    if (op.type !== 'exec') return;
    const needed: Entitlement[] = [];
    if (op.network === 'host' && defaultNetwork !== 'none') needed.push('network.host');
    if (op.security === 'insecure') needed.push('security.insecure');
    for (const entitlement of needed) {
      if (granted.has(entitlement)) continue;
      const hint = `grant it with: tbuild build --allow ${entitlement}`;
      throw new StepError(v.name, v.location, `${entitlement} is not allowed`, [], undefined, hint);
    }
  };
  visit(root);
}

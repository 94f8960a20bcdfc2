import type { Pipeline } from './pipeline.js';
import type { Diagnostic, SourceMap } from './diagnostics.js';

/** Reports each dependency cycle once, at the `needs` item that closes it. `needsOf` gives a stage's raw `needs`. */
export function findCycles(names: string[], needsOf: (n: string) => unknown[], src: SourceMap): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const known = new Set(names);
  const color = new Map<string, 0 | 1 | 2>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (n: string) => {
    color.set(n, 1);
    stack.push(n);
    needsOf(n).forEach((m, i) => {
      if (typeof m !== 'string' || !known.has(m)) return;
      const c = color.get(m) ?? 0;
      if (c === 1) {
        const cycle = [...stack.slice(stack.indexOf(m)), m];
        const id = [...cycle].slice(0, -1).sort().join(',');
        if (!reported.has(id)) {
          reported.add(id);
          diags.push(src.diag(['stages', n, 'needs', i], `dependency cycle: ${cycle.join(' -> ')}`));
        }
      } else if (c === 0) visit(m);
    });
    stack.pop();
    color.set(n, 2);
  };
  for (const n of names) if (!color.get(n)) visit(n);
  return diags;
}

/** Stage names, dependencies first, file order among ready stages (the graph has no cycle). */
export function topoOrder(names: string[], needs: (n: string) => string[]): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < names.length) {
    const next = names.find((n) => !done.has(n) && needs(n).every((m) => done.has(m)));
    if (!next) break;
    done.add(next);
    order.push(next);
  }
  return order;
}

/** Stage names that (transitively) need `name`. */
export function dependents(p: Pipeline, name: string): string[] {
  const out: string[] = [];
  for (const n of p.order) if (n !== name && p.stages.get(n)!.needs.some((m) => m === name || out.includes(m))) out.push(n);
  return out;
}

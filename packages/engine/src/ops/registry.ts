/**
 * The ops this package adds (fused ops tfjs does not have): each has a name, a reference written in plain tf
 * ops, and per backend at most one kernel. A kernel returns null where it does not apply (another dtype, a
 * flag off, a shape it does not cover); the op then runs its reference, so a caller always gets a result and
 * never writes a fallback of its own. Kernels are registered by the backend's register file (src/<backend>/
 * register.ts) when initEngine initialises that backend; '*' serves every backend without a kernel of its own.
 */
import { tf } from '../tf.js';

export type OpKernel<A extends unknown[], R> = (...args: A) => R | null;

export interface Op<A extends unknown[], R> {
  readonly name: string;
  /** Runs the active backend's kernel, or the reference where it returns null (or none is registered). */
  run(...args: A): R;
  /** The reference alone (plain tf ops), for checks and before/after runs. */
  reference(...args: A): R;
  register(backend: string, kernel: OpKernel<A, R>): void;
}

const kernels = new Map<string, Map<string, OpKernel<never[], unknown>>>();

export function defineOp<A extends unknown[], R>(name: string, reference: (...args: A) => R): Op<A, R> {
  if (kernels.has(name)) throw new Error(`op ${name} is defined twice`);
  const byBackend = new Map<string, OpKernel<A, R>>();
  kernels.set(name, byBackend as unknown as Map<string, OpKernel<never[], unknown>>);
  return {
    name,
    reference,
    run: (...args: A): R => {
      const k = byBackend.get(tf.getBackend()) ?? byBackend.get('*');
      return (k ? k(...args) : null) ?? reference(...args);
    },
    register: (backend, kernel) => {
      byBackend.set(backend, kernel);
    },
  };
}

/** Every op and the backends with a kernel for it (for engine-info). */
export function registeredOps(): { name: string; backends: string[] }[] {
  return [...kernels].map(([name, m]) => ({ name, backends: [...m.keys()].sort() }));
}

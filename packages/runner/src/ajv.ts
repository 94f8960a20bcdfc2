import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';

// ajv is CommonJS: its module object is the class itself; typed as a namespace under NodeNext.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as typeof Ajv2020Module.default;

export type { ErrorObject, ValidateFunction };

/** A validator compiler for draft 2020-12 schemas, collecting every error. */
export function makeAjv() {
  return new Ajv2020({ allErrors: true, verbose: true, strict: false });
}

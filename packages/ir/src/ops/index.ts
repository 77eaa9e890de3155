import { BevzipError, ERROR_CODES } from '../errors';
import { conv2d } from './conv2d';
import type { OpDef } from './op';

export * from './op';
export { conv2d } from './conv2d';

/** The built-in op set: one op per file in this folder. */
const BUILTIN_OPS: OpDef[] = [conv2d];

const registry = new Map<string, OpDef>(BUILTIN_OPS.map((op) => [op.name, op]));

/** Looks up an op by name; an unknown name is a coded error listing what exists. */
export function getOp(name: string): OpDef {
  const op = registry.get(name);
  if (!op) {
    throw new BevzipError(ERROR_CODES.UNKNOWN_OP, `unknown op '${name}'; known ops: ${[...registry.keys()].sort().join(', ')}`);
  }
  return op;
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

export function listOps(): string[] {
  return [...registry.keys()].sort();
}

/** Adds an op from outside the core (a plugin's adapter op, say). Names must be unique. */
export function registerOp(op: OpDef): void {
  if (registry.has(op.name) && registry.get(op.name) !== op) {
    throw new BevzipError(ERROR_CODES.UNKNOWN_OP, `an op named '${op.name}' is already registered`);
  }
  registry.set(op.name, op);
}

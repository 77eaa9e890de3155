import { BevzipError, ERROR_CODES } from '../errors';
import { conv2d } from './conv2d';
import { denseOp } from './dense';
import { matmulOp } from './matmul';
import { batchnormOp } from './batchnorm';
import { layernormOp } from './layernorm';
import { reluOp } from './relu';
import { sigmoidOp } from './sigmoid';
import { tanhOp } from './tanh';
import { geluOp } from './gelu';
import { softmaxOp } from './softmax';
import { addOp } from './add';
import { subOp } from './sub';
import { mulOp } from './mul';
import { divOp } from './div';
import { scaleOp } from './scale';
import { gradReverseOp } from './grad-reverse';
import { concatOp } from './concat';
import { splitOp } from './split';
import { reshapeOp } from './reshape';
import { transposeOp } from './transpose';
import { sliceOp } from './slice';
import { flattenOp } from './flatten';
import { reduceMeanOp } from './reduce-mean';
import { reduceSumOp } from './reduce-sum';
import { bevPool } from './bev-pool';
import { pillarScatter } from './pillar-scatter';
import { pillarMax } from './pillar-max';
import { gridSample } from './grid-sample';
import { resizeBilinear } from './resize-bilinear';
import { resizeNearest } from './resize-nearest';
import { maxPool2d } from './max-pool2d';
import { avgPool2d } from './avg-pool2d';
import { convTranspose2d } from './conv-transpose2d';
import { attention } from './attention';
import { OP_METADATA_FIELDS, type OpDef } from './op';

export * from './op';
export { conv2d } from './conv2d';
export * from './dense';
export * from './matmul';
export * from './batchnorm';
export * from './layernorm';
export * from './relu';
export * from './sigmoid';
export * from './tanh';
export * from './gelu';
export * from './softmax';
export * from './add';
export * from './sub';
export * from './mul';
export * from './div';
export * from './scale';
export * from './grad-reverse';
export * from './concat';
export * from './split';
export * from './reshape';
export * from './transpose';
export * from './slice';
export * from './flatten';
export * from './reduce-mean';
export * from './reduce-sum';
export { defineUnaryOp, type UnaryOpSpec } from './unary-op';
export { defineBinaryOp } from './binary-op';
export { defineReduceOp, emitReduce, reduceAttrs, type ReduceAttrs } from './reduce';
export { resolveAxis, resolveAxes } from './axis';
export { bevPool } from './bev-pool';
export { pillarScatter } from './pillar-scatter';
export { pillarMax } from './pillar-max';
export { gridSample } from './grid-sample';
export { resizeBilinear } from './resize-bilinear';
export { resizeNearest } from './resize-nearest';
export { maxPool2d } from './max-pool2d';
export { avgPool2d } from './avg-pool2d';
export { convTranspose2d, convTranspose2dAttrs, transposePads, type ConvTranspose2dAttrs } from './conv-transpose2d';
export { attention } from './attention';
export { poolAttrs, poolPads, type PoolAttrs } from './pool-common';
export { resizeMatrix, type ResizeAttrs, type CoordinateTransform } from './resize-common';

/** The built-in op set: one op per file in this folder. */
const BUILTIN_OPS: OpDef[] = [conv2d,
  denseOp, matmulOp, batchnormOp, layernormOp, reluOp, sigmoidOp, tanhOp, geluOp, softmaxOp, addOp, subOp, mulOp, divOp, scaleOp, gradReverseOp, concatOp, splitOp, reshapeOp, transposeOp, sliceOp, flattenOp, reduceMeanOp, reduceSumOp,
  bevPool, pillarScatter, pillarMax, gridSample, resizeBilinear, resizeNearest, maxPool2d, avgPool2d, convTranspose2d, attention];

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

const SIGNS = new Set(['nonNegative', 'preserves', 'any']);
const CHANNEL_KINDS = new Set(['produce', 'through', 'unify', 'concat', 'opaque']);

/**
 * What is wrong with an op's metadata (channel rule, sign, MACs, differentiability, weight slot), as
 * one message per field; empty when every field is declared with a value of the right kind.
 */
export function opMetadataProblems(op: OpDef): string[] {
  const problems: string[] = [];
  const d = op as unknown as Record<string, unknown>;
  for (const field of OP_METADATA_FIELDS) if (!(field in d) || d[field] === undefined) problems.push(`'${field}' is not declared`);
  if (d.channels !== undefined && typeof d.channels !== 'function' && !CHANNEL_KINDS.has((d.channels as { kind?: string })?.kind ?? '')) {
    problems.push(`'channels' must be a channel rule { kind: ${[...CHANNEL_KINDS].join(' | ')} } or a function of the attributes returning one`);
  }
  if (d.sign !== undefined && !SIGNS.has(d.sign as string)) problems.push(`'sign' must be one of ${[...SIGNS].join(', ')}, got ${JSON.stringify(d.sign)}`);
  if (d.macs !== undefined && typeof d.macs !== 'function') problems.push(`'macs' must be a function (inputs, outputs, attrs) => number`);
  if (d.differentiable !== undefined && typeof d.differentiable !== 'boolean') problems.push(`'differentiable' must be true or false`);
  const w = d.weight as { input?: unknown; outAxis?: unknown } | null | undefined;
  if (w !== undefined && w !== null && !(Number.isInteger(w.input) && Number.isInteger(w.outAxis))) problems.push(`'weight' must be null or { input: <slot index>, outAxis: <axis> }`);
  return problems;
}

/**
 * Adds an op from outside the core (a plugin's adapter op, say). Names must be unique, and the op
 * must declare its metadata like a built-in one (see {@link OpDef}).
 */
export function registerOp(op: OpDef): void {
  const problems = opMetadataProblems(op);
  if (problems.length > 0) {
    throw new BevzipError(ERROR_CODES.CONFIG, `registerOp('${op.name}'): ${problems.join('; ')}`);
  }
  if (registry.has(op.name) && registry.get(op.name) !== op) {
    throw new BevzipError(ERROR_CODES.UNKNOWN_OP, `an op named '${op.name}' is already registered`);
  }
  registry.set(op.name, op);
}

import { BevzipError, ERROR_CODES, nodeLabel } from './errors';
import type { Attrs, NodeDef, TensorInfo } from './graph';
import { getOp, type OpDef } from './ops';

/** Parses a node's attributes through its op's schema (filling defaults); errors name node and field. */
export function parseAttrs(op: OpDef, node: Pick<NodeDef, 'name' | 'op' | 'scope' | 'attrs'>): any {
  const parsed = op.attrs.safeParse(node.attrs ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `attrs.${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new BevzipError(ERROR_CODES.BAD_ATTRS, `${nodeLabel(node)}: ${detail}`);
  }
  return parsed.data;
}

/** Checks input arity against the op's declared slots. */
function checkArity(op: OpDef, node: NodeDef): void {
  const variadic = op.inputs.some((s) => s.startsWith('...'));
  const required = op.inputs.filter((s) => !s.endsWith('?') && !s.startsWith('...')).length;
  const max = variadic ? Infinity : op.inputs.length;
  const given = node.inputs.length;
  if (given < required || given > max) {
    throw new BevzipError(
      ERROR_CODES.GRAPH_INVALID,
      `${nodeLabel(node)}: expected inputs (${op.inputs.join(', ')}), got ${given}`,
    );
  }
  node.inputs.forEach((name, i) => {
    const slot = op.inputs[Math.min(i, op.inputs.length - 1)];
    if (name === '' && !slot.endsWith('?')) {
      throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `${nodeLabel(node)}: required input '${slot}' is empty`);
    }
  });
}

/**
 * Infers a node's output shapes from its inputs' shapes. A mismatch is a coded error naming the node,
 * its scope and the input shapes, raised at build time rather than deep inside tfjs at run time.
 */
export function inferNode(node: NodeDef, lookup: (name: string) => TensorInfo | undefined): TensorInfo[] {
  const op = getOp(node.op);
  checkArity(op, node);
  const attrs = parseAttrs(op, node);
  const inputs = node.inputs.map((name) => {
    if (name === '') return undefined;
    const info = lookup(name);
    if (!info) throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `${nodeLabel(node)}: input '${name}' is not defined before this node`);
    return info;
  });
  let outs: TensorInfo[];
  try {
    outs = op.infer(inputs, attrs);
  } catch (e) {
    if (e instanceof BevzipError) throw e;
    const shapes = inputs.map((t, i) => `${node.inputs[i] || '-'}: ${t ? `[${t.shape}] ${t.dtype}` : 'absent'}`).join(', ');
    throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `${nodeLabel(node)}: ${(e as Error).message} (inputs ${shapes})`, { cause: e });
  }
  if (outs.length !== node.outputs.length) {
    throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `${nodeLabel(node)}: op produces ${outs.length} outputs, node names ${node.outputs.length}`);
  }
  return outs;
}

export type { Attrs };

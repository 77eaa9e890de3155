import { BevzipError, ERROR_CODES } from './errors';
import type { Attrs, DType, Graph, Initializer, NodeDef, ParamDef, Shape, Tags, TensorInfo, ValueInfo } from './graph';
import { inferNode } from './infer';
import type { OpAttrs } from './ops/op';
import { validateGraph } from './validate';

export interface ParamOptions {
  init?: Initializer;
  trainable?: boolean;
  role?: ParamDef['role'];
  dtype?: DType;
}

/** The attributes a builder call for op `N` takes: its {@link OpAttrs} entry, or any attributes for an op not listed there. */
export type AttrsFor<N extends string> = N extends keyof OpAttrs ? OpAttrs[N] : Attrs;

/** Attributes then options; the attributes may be left out when every one has a default. */
type OpArgs<N extends string, O> = Record<never, never> extends AttrsFor<N> ? [attrs?: AttrsFor<N>, options?: O] : [attrs: AttrsFor<N>, options?: O];

/**
 * Writes graphs op by op, inferring shapes as it goes so that a mistake is reported at the line that
 * made it. Scopes nest (`camera` → `camera.backbone` → `camera.backbone.conv1`) and carry tags that
 * every node and param created inside inherits.
 *
 * @example
 * const b = new GraphBuilder('toy');
 * const x = b.input('image', [-1, 8, 8, 3]);
 * const y = b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () =>
 *   b.op('conv2d', [x, b.param('conv1.weight', [3, 3, 3, 4], { init: { kind: 'heNormal' } })], { strides: 2 }),
 * );
 * b.output(y);
 * const graph = b.build();
 */
export class GraphBuilder {
  private readonly inputs: ValueInfo[] = [];
  private readonly params: ParamDef[] = [];
  private readonly nodes: NodeDef[] = [];
  private readonly values = new Map<string, TensorInfo>();
  private readonly outputs: string[] = [];
  private scopeStack: { scope: string; tags: Tags }[] = [{ scope: '', tags: {} }];
  private readonly counters = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly meta: Record<string, unknown> = {},
  ) {}

  get scope(): string {
    return this.scopeStack[this.scopeStack.length - 1].scope;
  }

  get tags(): Tags {
    return this.scopeStack[this.scopeStack.length - 1].tags;
  }

  /** Runs `fn` inside a child scope (a relative dotted path) whose tags extend the current ones. */
  scoped<T>(scope: string, tags: Tags, fn: () => T): T {
    const full = this.scope ? `${this.scope}.${scope}` : scope;
    this.scopeStack.push({ scope: full, tags: { ...this.tags, ...tags } });
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  input(name: string, shape: Shape, dtype: DType = 'float32'): string {
    this.claim(name);
    this.inputs.push({ name, shape: [...shape], dtype });
    this.values.set(name, { shape: [...shape], dtype });
    return name;
  }

  /** Declares a param in the current scope; its full name is `scope.name`. */
  param(name: string, shape: Shape, options: ParamOptions = {}): string {
    const full = this.qualify(name);
    this.claim(full);
    if (shape.some((d) => !(Number.isInteger(d) && d > 0))) {
      throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `param '${full}': shape [${shape}] must be positive integers`);
    }
    const role = options.role ?? 'weight';
    this.params.push({
      name: full,
      shape: [...shape],
      dtype: options.dtype ?? 'float32',
      init: options.init ?? { kind: role === 'weight' ? 'heNormal' : 'zeros' },
      trainable: options.trainable ?? role !== 'state',
      role,
      scope: this.scope,
      tags: { ...this.tags },
    });
    this.values.set(full, { shape: [...shape], dtype: options.dtype ?? 'float32' });
    return full;
  }

  /**
   * Adds a node and returns its output names. `name` defaults to the op name, made unique in scope.
   * Attributes of a built-in op (or one added to {@link OpAttrs}) are type-checked against its schema.
   */
  opMulti<N extends string>(op: N, inputs: string[], ...[attrs = {} as AttrsFor<N>, options = {}]: OpArgs<N, { name?: string; outputs?: number }>): string[] {
    const name = this.uniqueName(options.name ?? op);
    const count = options.outputs ?? 1;
    const outputs = count === 1 ? [name] : Array.from({ length: count }, (_, i) => `${name}:${i}`);
    const node: NodeDef = { name, op, inputs: [...inputs], outputs, attrs: { ...(attrs as Attrs) }, scope: this.scope, tags: { ...this.tags } };
    const infos = inferNode(node, (v) => this.values.get(v));
    outputs.forEach((o, i) => {
      this.claim(o);
      this.values.set(o, infos[i]);
    });
    this.nodes.push(node);
    return outputs;
  }

  /** Adds a single-output node and returns its output name. */
  op<N extends string>(op: N, inputs: string[], ...[attrs = {} as AttrsFor<N>, options = {}]: OpArgs<N, { name?: string }>): string {
    return this.opMulti<string>(op, inputs, attrs as Attrs, options)[0];
  }

  info(value: string): TensorInfo {
    const info = this.values.get(value);
    if (!info) throw new BevzipError(ERROR_CODES.UNKNOWN_VALUE, `no value named '${value}' in graph '${this.name}'`);
    return info;
  }

  output(...names: string[]): void {
    for (const n of names) {
      this.info(n);
      this.outputs.push(n);
    }
  }

  build(): Graph {
    const values: Record<string, TensorInfo> = {};
    for (const node of this.nodes) for (const o of node.outputs) values[o] = this.values.get(o)!;
    const graph: Graph = {
      name: this.name,
      inputs: this.inputs,
      params: this.params,
      nodes: this.nodes,
      values,
      outputs: this.outputs,
      meta: this.meta,
    };
    validateGraph(graph);
    return structuredClone(graph);
  }

  private qualify(name: string): string {
    return this.scope ? `${this.scope}.${name}` : name;
  }

  private uniqueName(hint: string): string {
    const base = this.qualify(hint);
    let n = this.counters.get(base) ?? 0;
    let candidate = n === 0 ? base : `${base}_${n}`;
    while (this.values.has(candidate)) candidate = `${base}_${++n}`;
    this.counters.set(base, n + 1);
    return candidate;
  }

  private claim(name: string): void {
    if (this.values.has(name)) {
      throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `duplicate value name '${name}' in graph '${this.name}'`);
    }
  }
}

/**
 * The graph IR contract: plain, JSON-serialisable data. Weights live apart from the graph in a
 * {@link ParamStore} (see `params.ts`), so one graph description can be shared by many weight sets.
 */

export type DType = 'float32' | 'int32' | 'bool';

/** A dimension of -1 is unknown until run time (the batch dimension, a point count). */
export type Shape = number[];

export const MODALITIES = ['camera', 'lidar', 'fusion', 'shared'] as const;
export type Modality = (typeof MODALITIES)[number];

export const STAGES = ['backbone', 'neck', 'view', 'encoder', 'decoder', 'head', 'adapter'] as const;
export type Stage = (typeof STAGES)[number];

/** Tags let plugins select tensors by role ("camera backbone") rather than by layer name. */
export interface Tags {
  modality?: Modality;
  stage?: Stage;
  /** Present only while training (adapters, discriminators); removed by `stripTrainOnly`. */
  trainOnly?: boolean;
}

export interface TensorInfo {
  shape: Shape;
  dtype: DType;
}

export interface ValueInfo extends TensorInfo {
  name: string;
}

export type AttrValue = number | string | boolean | number[] | string[] | null;
export type Attrs = Record<string, AttrValue>;

export interface NodeDef {
  name: string;
  op: string;
  /** Value names: graph inputs, params, or outputs of earlier nodes. '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
  /** Dotted path such as `camera.backbone.conv1`. */
  scope: string;
  tags: Tags;
}

export type Initializer =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'normal'; std: number; mean?: number }
  | { kind: 'uniform'; min: number; max: number }
  /** He/Kaiming normal with fan-in = product of all dims but the last. */
  | { kind: 'heNormal' }
  | { kind: 'glorotUniform' };

export interface ParamDef extends ValueInfo {
  init: Initializer;
  /** false for frozen params and for state such as batch-norm running statistics. */
  trainable: boolean;
  /** 'state' params are updated by the forward pass in training mode, not by the optimizer. */
  role: 'weight' | 'bias' | 'norm' | 'state' | 'embedding';
  scope: string;
  tags: Tags;
}

export interface Graph {
  name: string;
  inputs: ValueInfo[];
  params: ParamDef[];
  /** Nodes in topological order. */
  nodes: NodeDef[];
  /** Inferred shapes of every node output, keyed by value name. */
  values: Record<string, TensorInfo>;
  /** Names of the graph outputs. */
  outputs: string[];
  /** Free-form description of how the graph was built (builder name, config), kept through passes. */
  meta?: Record<string, unknown>;
}

/** Selects nodes or params by tags and/or a scope prefix; all given fields must match. */
export interface TagSelector {
  modality?: Modality | Modality[];
  stage?: Stage | Stage[];
  trainOnly?: boolean;
  /** Matches a scope equal to this or starting with `prefix.`. */
  scope?: string;
}

export function matchesSelector(item: { scope: string; tags: Tags }, sel: TagSelector): boolean {
  const inList = <T>(v: T | undefined, want: T | T[] | undefined) =>
    want === undefined || (v !== undefined && (Array.isArray(want) ? want.includes(v) : want === v));
  if (!inList(item.tags.modality, sel.modality)) return false;
  if (!inList(item.tags.stage, sel.stage)) return false;
  if (sel.trainOnly !== undefined && Boolean(item.tags.trainOnly) !== sel.trainOnly) return false;
  if (sel.scope !== undefined && item.scope !== sel.scope && !item.scope.startsWith(sel.scope + '.')) return false;
  return true;
}

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * How each op treats the channel (last) axis, for structured pruning:
 * - `produce`: makes a new channel space from a weight's last axis (conv2d with groups 1, dense);
 *   the weight's input-channel axis consumes its input's channels.
 * - `through`: output channels are input 0's channels, one to one (activations, batch norm, resize,
 *   pooling, BEV pooling and scatter); per-channel params (batch norm's) follow.
 * - `unify`: element-wise binary ops whose inputs must share channel indexing (add, sub, mul, div).
 * - `concat`: concatenation along the channel axis.
 * Any other op is opaque: channels reaching it are all kept.
 */
export type ChannelRule =
  | { kind: 'produce'; weightInput: number; inAxis: number; biasInput?: number }
  | { kind: 'through'; perChannelInputs?: number[] }
  | { kind: 'unify' }
  | { kind: 'concat' };

export const CHANNEL_RULES: Record<string, ChannelRule> = {
  conv2d: { kind: 'produce', weightInput: 1, inAxis: 2, biasInput: 2 },
  dense: { kind: 'produce', weightInput: 1, inAxis: 0, biasInput: 2 },
  batchnorm: { kind: 'through', perChannelInputs: [1, 2, 3, 4] },
  relu: { kind: 'through' },
  sigmoid: { kind: 'through' },
  tanh: { kind: 'through' },
  gelu: { kind: 'through' },
  scale: { kind: 'through' },
  max_pool2d: { kind: 'through' },
  avg_pool2d: { kind: 'through' },
  resize_nearest: { kind: 'through' },
  resize_bilinear: { kind: 'through' },
  bev_pool: { kind: 'through' },
  pillar_scatter: { kind: 'through' },
  pillar_max: { kind: 'through' },
  add: { kind: 'unify' },
  sub: { kind: 'unify' },
  mul: { kind: 'unify' },
  div: { kind: 'unify' },
  concat: { kind: 'concat' },
};

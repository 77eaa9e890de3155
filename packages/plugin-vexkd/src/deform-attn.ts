import { BevzipError, ERROR_CODES, type GraphBuilder } from '@bevzip/ir';

/** How the sampling points of a query are placed. */
export type SamplingMode = 'learned' | 'window';

/** Shape of one deformable attention layer. */
export interface DeformAttnSpec {
  /** Attention heads M; the embedding width must divide by it. */
  heads: number;
  /** Sampling points K per head (a square number in `window` mode: a √K×√K window). */
  points: number;
  /**
   * `learned`: per-query offsets from a linear layer on the query, as deformable attention
   * (initialised on rings around the reference point). `window`: the offsets are fixed on a square
   * window around the reference point and only the attention weights are learned.
   */
  sampling: SamplingMode;
  /** Spacing in map cells of the initial (learned) or fixed (window) sampling pattern. */
  radius: number;
}

/** A param whose value is not an initializer's (reference points, offset patterns): set it after init. */
export interface ConstantParam {
  name: string;
  values: Float32Array;
}

/**
 * Reference point of each query of a qh×qw grid on an mh×mw map, in the map's pixel units
 * (row, col) as `grid_sample` reads them: query cell centres mapped onto the map.
 */
export function referencePoints(queryGrid: readonly [number, number], mapGrid: readonly [number, number]): Float32Array {
  const [qh, qw] = queryGrid;
  const [mh, mw] = mapGrid;
  const out = new Float32Array(qh * qw * 2);
  for (let i = 0; i < qh; i++) {
    for (let j = 0; j < qw; j++) {
      out[(i * qw + j) * 2] = ((i + 0.5) * mh) / qh - 0.5;
      out[(i * qw + j) * 2 + 1] = ((j + 0.5) * mw) / qw - 0.5;
    }
  }
  return out;
}

/**
 * The offset pattern [M, K, 2] (row, col) in map cells. `learned`: head m looks along direction
 * 2πm/M, point k at (k + 1)·radius (the deformable-attention init); `window`: a √K×√K square of
 * spacing `radius` centred on the reference point, the same for every head.
 */
export function offsetPattern(spec: DeformAttnSpec): Float32Array {
  const { heads: m, points: k, radius } = spec;
  const out = new Float32Array(m * k * 2);
  if (spec.sampling === 'window') {
    const side = Math.round(Math.sqrt(k));
    if (side * side !== k) throw new BevzipError(ERROR_CODES.CONFIG, `deformable attention: 'window' sampling needs a square number of points, got ${k}`);
    for (let h = 0; h < m; h++) {
      for (let p = 0; p < k; p++) {
        out[(h * k + p) * 2] = (Math.floor(p / side) - (side - 1) / 2) * radius;
        out[(h * k + p) * 2 + 1] = ((p % side) - (side - 1) / 2) * radius;
      }
    }
    return out;
  }
  for (let h = 0; h < m; h++) {
    const angle = (2 * Math.PI * h) / m;
    for (let p = 0; p < k; p++) {
      out[(h * k + p) * 2] = Math.sin(angle) * (p + 1) * radius;
      out[(h * k + p) * 2 + 1] = Math.cos(angle) * (p + 1) * radius;
    }
  }
  return out;
}

/**
 * Adds one multi-head deformable attention layer to a graph, under the builder's current scope:
 *
 *   out_u = Wo · concat_m Σ_k A_umk · bilinear(Wv·F, r_u + Δp_umk)_m + bo
 *
 * with Δp = query·W_off + pattern (W_off starts at zero; frozen at zero in `window` mode) and
 * A = softmax_k(query·W_a + b_a) per head. `query` is [B, N, C] with N = qh·qw; `map` is
 * [B, mh, mw, Cm] (the query's own map for self-attention). Sampling uses the IR's `grid_sample`
 * (bilinear, zeros outside), one batch entry per (sample, head), so the layer exports to ONNX.
 * Returns [B, N, C]; the reference points and the pattern are pushed to `constants`.
 *
 * @example
 * const ca = deformableAttention(b, 'ca_lidar', queries, lidarBev, [64, 64], { heads: 2, points: 4, sampling: 'learned', radius: 1 }, constants);
 */
export function deformableAttention(
  b: GraphBuilder,
  name: string,
  query: string,
  map: string,
  queryGrid: readonly [number, number],
  spec: DeformAttnSpec,
  constants: ConstantParam[],
): string {
  const [, n, c] = b.info(query).shape;
  const [, mh, mw, cm] = b.info(map).shape;
  const [qh, qw] = queryGrid;
  const { heads: m, points: k } = spec;
  if (n !== qh * qw) throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `deformable attention '${name}': the query has ${n} tokens, the query grid ${qh}×${qw} has ${qh * qw}`);
  if (c % m !== 0) throw new BevzipError(ERROR_CODES.CONFIG, `deformable attention '${name}': width ${c} does not divide into ${m} heads`);
  const ch = c / m;
  return b.scoped(name, {}, () => {
    const p = (pn: string, shape: number[], init: 'glorot' | 'zeros', trainable = true) =>
      b.param(pn, shape, { init: init === 'glorot' ? { kind: 'glorotUniform' } : { kind: 'zeros' }, role: shape.length === 1 ? 'bias' : 'weight', trainable });
    const fixed = (pn: string, shape: number[], values: Float32Array) => {
      const full = b.param(pn, shape, { init: { kind: 'zeros' }, role: 'state', trainable: false });
      constants.push({ name: full, values });
      return full;
    };
    const learned = spec.sampling === 'learned';
    // Offsets: a linear layer on the query whose bias is the pattern; in window mode it stays at zero weight.
    const offW = p('offset.weight', [c, m * k * 2], 'zeros', learned);
    const offB = learned ? b.param('offset.bias', [m * k * 2], { init: { kind: 'zeros' }, role: 'bias' }) : fixed('offset.bias', [m * k * 2], offsetPattern(spec));
    if (learned) constants.push({ name: offB, values: offsetPattern(spec) });
    const offsets = b.op('reshape', [b.op('dense', [query, offW, offB], {}, { name: 'offset' })], { shape: [0, 0, m, k, 2] }, { name: 'offset_5d' });
    const ref = fixed('reference', [n, 1, 1, 2], referencePoints(queryGrid, [mh, mw]));
    const points = b.op('add', [offsets, ref], {}, { name: 'points' });
    const pointsFlat = b.op('reshape', [b.op('transpose', [points], { perm: [0, 2, 1, 3, 4] }, { name: 'points_t' })], { shape: [-1, n * k, 2] }, { name: 'points_flat' });
    // Attention weights: softmax over each head's K points.
    const logits = b.op('dense', [query, p('attn.weight', [c, m * k], 'zeros'), p('attn.bias', [m * k], 'zeros')], {}, { name: 'attn' });
    const weights = b.op('softmax', [b.op('reshape', [logits], { shape: [0, 0, m, k] }, { name: 'attn_4d' })], { axis: -1 }, { name: 'attn_softmax' });
    const weights5 = b.op('reshape', [b.op('transpose', [weights], { perm: [0, 2, 1, 3] }, { name: 'attn_t' })], { shape: [-1, m, n, k, 1] }, { name: 'attn_5d' });
    // Values per head: [B, mh, mw, C] → [B·M, mh, mw, C/M].
    const value = b.op('dense', [map, p('value.weight', [cm, c], 'glorot'), p('value.bias', [c], 'zeros')], {}, { name: 'value' });
    const perHead = b.op('transpose', [b.op('reshape', [value], { shape: [0, mh, mw, m, ch] }, { name: 'value_5d' })], { perm: [0, 3, 1, 2, 4] }, { name: 'value_t' });
    const valueFlat = b.op('reshape', [perHead], { shape: [-1, mh, mw, ch] }, { name: 'value_flat' });
    const sampled = b.op('reshape', [b.op('grid_sample', [valueFlat, pointsFlat], {}, { name: 'sample' })], { shape: [-1, m, n, k, ch] }, { name: 'sample_5d' });
    const mixed = b.op('reduce_sum', [b.op('mul', [sampled, weights5], {}, { name: 'weighted' })], { axes: [3] }, { name: 'mix' });
    const joined = b.op('reshape', [b.op('transpose', [mixed], { perm: [0, 2, 1, 3] }, { name: 'mix_t' })], { shape: [0, 0, c] }, { name: 'heads' });
    return b.op('dense', [joined, p('out.weight', [c, c], 'glorot'), p('out.bias', [c], 'zeros')], {}, { name: 'out' });
  });
}

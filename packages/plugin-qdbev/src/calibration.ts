import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, type TensorTransform } from '@bevzip/ir';
import { enabledSubset, type QuantPlan } from './plan';
import { fakeQuant, fakeQuantPerChannel, quantScale } from './quantizer';

/** How a per-tensor activation range is estimated from calibration batches. */
export type RangeMode = { kind: 'max' } | { kind: 'ema'; momentum: number } | { kind: 'percentile'; percentile: number };

/** |x| at the given percentile (0–100), linear between order statistics. */
export function absPercentile(data: ArrayLike<number>, percentile: number): number {
  const a = Float64Array.from(data, Math.abs).sort();
  if (a.length === 0) return 0;
  const pos = (percentile / 100) * (a.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, a.length - 1);
  return a[lo] + (a[hi] - a[lo]) * (pos - lo);
}

/**
 * Running per-tensor ranges over calibration batches: the maximum |x| seen (`max`), an exponential
 * moving average of each batch's max |x| (`ema`), or the mean of each batch's |x| percentile
 * (`percentile`, which clips outliers).
 */
export class RangeTracker {
  private readonly ranges = new Map<string, { value: number; batches: number }>();

  constructor(private readonly mode: RangeMode) {}

  /** Folds one batch of a value into its range (host read of the tensor). */
  update(name: string, x: tf.Tensor): void {
    const data = x.dataSync();
    let stat: number;
    if (this.mode.kind === 'percentile') stat = absPercentile(data, this.mode.percentile);
    else {
      stat = 0;
      for (let i = 0; i < data.length; i++) stat = Math.max(stat, Math.abs(data[i]));
    }
    const prev = this.ranges.get(name);
    if (!prev) return void this.ranges.set(name, { value: stat, batches: 1 });
    const n = prev.batches + 1;
    const value =
      this.mode.kind === 'max' ? Math.max(prev.value, stat)
      : this.mode.kind === 'ema' ? this.mode.momentum * prev.value + (1 - this.mode.momentum) * stat
      : prev.value + (stat - prev.value) / n;
    this.ranges.set(name, { value, batches: n });
  }

  /** The ranges so far, by value name. */
  result(): Record<string, number> {
    return Object.fromEntries([...this.ranges].map(([k, v]) => [k, v.value]));
  }
}

/** A calibrated quantization: the plan and |r_max| of every calibrated activation. */
export interface QuantState {
  plan: QuantPlan;
  ranges: Record<string, number>;
}

/** Per-tensor step of a calibrated activation. */
export function activationScale(state: QuantState, value: string): number {
  const a = state.plan.activations[value];
  const r = state.ranges[value];
  if (!a || r === undefined) throw new BevzipError(ERROR_CODES.UNKNOWN_VALUE, `quantization: activation '${value}' is not calibrated (calibrate before quantizing its part)`);
  return quantScale(r, a.bits, a.signed);
}

/**
 * Interpreter transforms that fake-quantize the enabled parts: weights per output channel,
 * calibrated activations per tensor (activations not yet calibrated are left in float).
 */
export function quantTransforms(state: QuantState, enabled: readonly string[]): { weights: Map<string, TensorTransform>; activations: Map<string, TensorTransform> } {
  const { layers, activations } = enabledSubset(state.plan, enabled);
  const weights = new Map<string, TensorTransform>(layers.map((l) => [l.weight, (w: tf.Tensor) => fakeQuantPerChannel(w, l.wBits, l.weightAxis)]));
  const acts = new Map<string, TensorTransform>();
  for (const v of activations) {
    if (state.ranges[v] === undefined) continue;
    const a = state.plan.activations[v];
    const scale = activationScale(state, v);
    acts.set(v, (x: tf.Tensor) => fakeQuant(x, scale, a.bits, a.signed));
  }
  return { weights, activations: acts };
}

import * as tf from '@tensorflow/tfjs';
import type { ConvGeometry } from './conv-geometry';
import type { KernelScope } from './kernel-scope';

/** Whether {@link subpixelBackpropInput} applies: equal strides above 1, no dilation. */
export function canUseSubpixel(g: ConvGeometry): boolean {
  return g.strideHeight === g.strideWidth && g.strideHeight > 1 && g.dilationHeight === 1 && g.dilationWidth === 1;
}

/**
 * Input gradient of a strided conv2d without multiplying the stride's inserted zeros.
 *
 * Padded input row r = u·s + a receives dy[u − t]·W[a + s·t] for every t, so each phase
 * (a, b) is a small stride-1 convolution of dy with every s-th filter tap. All s² phases run
 * as one convolution whose output channels are (a, b, Cin); a transpose interleaves them
 * into rows u·s + a, and the forward padding is cropped off. Multiply-adds: ⌈f/s⌉² · s² per
 * output instead of f² · s² for the zero-spread form.
 */
export function subpixelBackpropInput(
  s: KernelScope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const st = g.strideHeight;
  const [fh, fw, ci, co] = filter.shape;
  const th = Math.ceil(fh / st);
  const tw = Math.ceil(fw / st);
  const phaseChannels = st * st * ci;
  // The filter is small; rearranging it in JS avoids a slow rank-6 wasm transpose.
  const w = s.backend.readSync(filter.dataId) as Float32Array;
  const sub = new Float32Array(th * tw * co * phaseChannels);
  for (let k = 0; k < th; k++) {
    for (let l = 0; l < tw; l++) {
      for (let a = 0; a < st; a++) {
        const fy = a + st * (th - 1 - k);
        if (fy >= fh) continue;
        for (let b = 0; b < st; b++) {
          const fx = b + st * (tw - 1 - l);
          if (fx >= fw) continue;
          for (let c = 0; c < co; c++) {
            const dst = ((k * tw + l) * co + c) * phaseChannels + (a * st + b) * ci;
            const src = (fy * fw + fx) * ci * co + c;
            for (let i = 0; i < ci; i++) sub[dst + i] = w[src + i * co];
          }
        }
      }
    }
  }
  const subShape = [th, tw, co, phaseChannels];
  const subFilter = s.track({ dataId: s.backend.write(sub, subShape, 'float32'), shape: subShape, dtype: 'float32' });

  const [, oh, ow] = dy.shape;
  const uh = Math.ceil((g.inHeight + g.padTop) / st);
  const uw = Math.ceil((g.inWidth + g.padLeft) / st);
  const bottom = uh - oh;
  const right = uw - ow;
  const dyCropped = s.padOrCrop(dy, [[0, 0], [0, Math.min(bottom, 0)], [0, Math.min(right, 0)], [0, 0]]);
  const phases = s.run(
    'Conv2D',
    { x: dyCropped, filter: subFilter },
    {
      strides: 1,
      dilations: 1,
      pad: [[0, 0], [th - 1, Math.max(bottom, 0)], [tw - 1, Math.max(right, 0)], [0, 0]],
      dataFormat: 'NHWC',
    },
  );
  // Interleave phases into rows u·s + a and columns v·s + b. A rank-4 transpose, because the
  // wasm DepthToSpace and rank-6 transposes are scalar loops about 20× slower.
  const n = dy.shape[0];
  const split = s.reshape(phases, [n * uh, uw, st, st * ci]);
  const rowsFirst = s.transpose(split, [0, 2, 1, 3]);
  const interleaved = s.reshape(rowsFirst, [n, uh * st, uw * st, ci]);
  return s.padOrCrop(interleaved, [
    [0, 0],
    [-g.padTop, g.padTop + g.inHeight - uh * st],
    [-g.padLeft, g.padLeft + g.inWidth - uw * st],
    [0, 0],
  ]);
}

import * as tf from '@tensorflow/tfjs';
import { benchConvKernels } from './kernel-bench';

describe('benchConvKernels', () => {
  it('times every shape, reports errors against cpu below 1e-4, and restores the backend', async () => {
    await tf.setBackend('cpu');
    const r = await benchConvKernels({ repeats: 1 });
    expect(tf.getBackend()).toBe('cpu');
    expect(r.shapes).toHaveLength(4);
    for (const s of r.shapes) {
      expect(s.forwardMs).toBeGreaterThan(0);
      expect(s.filterOverForward).toBeCloseTo(s.backpropFilterMs / s.forwardMs, 10);
    }
    const ratios = r.shapes.map((s) => s.filterOverForward);
    const geomean = Math.exp(ratios.reduce((a, v) => a + Math.log(v), 0) / ratios.length);
    expect(r.convBackpropFilterOverForward).toBeCloseTo(geomean, 10);
    expect(r.maxRelErrConvBackpropFilter).toBeLessThan(1e-4);
    expect(r.maxRelErrConvBackpropInput).toBeLessThan(1e-4);
    // Nonzero: the error is measured on real data rather than skipped.
    expect(r.maxRelErrConvBackpropFilter).toBeGreaterThan(0);
  });
});

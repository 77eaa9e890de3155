// Every suite runs on the backend users get by default (wasm with bevzip's training kernels), or on
// the one named by BEVZIP_BACKEND, so tests exercise the real kernels.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@bevzip/ir';

/**
 * tfjs's cpu backend prints an "install tfjs-node" banner on its first write; many suites compare
 * against cpu, so the banner is consumed here once instead of cluttering every suite's output.
 */
function consumeCpuBanner(): void {
  const backend = tf.findBackend('cpu') as tf.KernelBackend | null;
  if (!backend) return;
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    backend.disposeData(backend.write(new Float32Array(1), [1], 'float32'));
  } finally {
    console.warn = warn;
  }
}

beforeAll(async () => {
  await initBackend({ quiet: true });
  consumeCpuBanner();
});

// Every suite runs on the backend users get by default (wasm with bevzip's training kernels), or on
// the one named by BEVZIP_BACKEND, so tests exercise the real kernels.
import { initBackend } from '@bevzip/ir';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

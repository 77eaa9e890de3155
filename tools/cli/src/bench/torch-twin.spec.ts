import { execFileSync } from 'node:child_process';
import { TorchTwinServer } from './torch-twin';

const hasTorch = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('TorchTwinServer', () => {
  it('rejects with the interpreter named when python cannot start', async () => {
    await expect(TorchTwinServer.start(1, { python: '/nonexistent/python3' })).rejects.toThrow(/PyTorch twin \(1 thread\(s\)\) could not start/);
  });

  it('reports the script error when the twin exits before it is ready', async () => {
    // A batch file that is not there (or no torch at all) ends the script before its ready line.
    await expect(TorchTwinServer.start(1, { python: '/usr/bin/python3', batchFile: '/nonexistent/batch' })).rejects.toThrow(/exited with code|No such file/);
  });

  (hasTorch ? it : it.skip)('takes one timed step per call and stops on close', async () => {
    const twin = await TorchTwinServer.start(1, { warmup: 1 });
    try {
      const a = await twin.step();
      const b = await twin.step();
      expect(a).toBeGreaterThan(0);
      expect(b).toBeGreaterThan(0);
    } finally {
      twin.close();
    }
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const PYTHON = '/usr/bin/python3';

/** Whether Debian's python3-onnx is importable; when not, the reason to print. */
export function pythonOnnxStatus(): { available: boolean; reason?: string } {
  if (!fs.existsSync(PYTHON)) return { available: false, reason: `${PYTHON} not found` };
  const probe = spawnSync(PYTHON, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return { available: false, reason: 'python3-onnx is not installed (apt-get install python3-onnx)' };
  return { available: true };
}

/** Runs `onnx.checker.check_model(model, full_check=True)`; returns '' when valid, else the checker's message. */
export function onnxCheckerErrors(model: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-onnx-'));
  const file = path.join(dir, 'model.onnx');
  try {
    fs.writeFileSync(file, model);
    const script = 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)';
    const r = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' });
    return r.status === 0 ? '' : (r.stderr || r.stdout || `exit ${r.status}`).trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

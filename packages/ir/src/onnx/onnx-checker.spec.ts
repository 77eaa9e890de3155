import { onnx } from 'onnx-proto';
import { GraphBuilder } from '../builder';
import { ParamStore } from '../params';
import { onnxCheckerErrors, pythonOnnxStatus } from '../testing';
import { exportOnnx } from './export';

const status = pythonOnnxStatus();
if (!status.available) {
  // Printed so a skipped check is visible in the log rather than silently green.
  console.warn(`onnx.checker tests skipped: ${status.reason}`);
}
const withChecker = status.available ? it : it.skip;

function convNet() {
  const b = new GraphBuilder('checker_net');
  const x = b.input('image', [-1, 16, 12, 3]);
  const y = b.scoped('backbone', { modality: 'camera', stage: 'backbone' }, () => {
    const h = b.op('conv2d', [x, b.param('c1.weight', [3, 3, 3, 8]), b.param('c1.bias', [8], { role: 'bias' })], { strides: 2 });
    return b.op('conv2d', [h, b.param('c2.weight', [3, 3, 4, 8])], { groups: 2, dilations: 2 });
  });
  b.output(y);
  const graph = b.build();
  return { graph, params: ParamStore.init(graph, 1) };
}

describe('ONNX export validity', () => {
  withChecker('passes onnx.checker with full_check at IR 8 / opset 17', () => {
    const { graph, params } = convNet();
    expect(onnxCheckerErrors(exportOnnx(graph, params))).toBe('');
    params.dispose();
  });

  withChecker('reports a broken model (the checker is really consulted)', () => {
    const { graph, params } = convNet();
    const model = onnx.ModelProto.decode(exportOnnx(graph, params));
    model.graph!.initializer!.shift(); // a Conv now reads a weight nothing defines
    expect(onnxCheckerErrors(onnx.ModelProto.encode(model).finish())).toMatch(/c1\.weight|not output of any previous nodes|Nodes in a graph must be topologically sorted/);
    params.dispose();
  });
});

export * from './numeric';
export * from './single-op';
export * from './python-onnx';

export * from './numeric';
export * from './single-op';
export * from './python-onnx';
export * from '../runtime/testing';
export * from './pool-reference';

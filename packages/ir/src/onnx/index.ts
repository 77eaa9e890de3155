export * from './emitter';
export * from './export';
export * from './ort';

export * from './numeric';
export * from './single-op';

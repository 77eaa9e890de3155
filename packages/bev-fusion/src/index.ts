export * from './model';
export * from './stream';
export * from './task';
export * from './training';

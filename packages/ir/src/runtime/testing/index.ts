export * from './example-plugins';
export * from './tiny-pipeline';

export * from './reinfer';
export * from './strip-train-only';
export * from './fold-batchnorm';
export * from './channel-rules';
export * from './remove-channels';
export * from './pool-before-bias';

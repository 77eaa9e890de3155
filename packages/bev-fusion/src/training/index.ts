/** Training and evaluation of BEVFusion models on synthetic data, and the shipped teacher checkpoints. */
export * from './branch-init';
export * from './evaluate-checkpoint';
export * from './model-checkpoint';
export * from './synthetic-split';
export * from './train-options';
export * from './teacher-recipes';
export * from './train-model';
export * from './validate-model';
export * from './validation-split';

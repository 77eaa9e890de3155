export { writeCheckpoint, readCheckpoint, latestCheckpoint, checkpointPath, CHECKPOINT_FILES } from './checkpoint';
export type { CheckpointData } from './checkpoint';
export { CHECKPOINT_FORMAT, CHECKPOINT_SCHEMA_VERSION, sha256Hex } from './manifest';
export type { Manifest, ManifestEntry } from './manifest';
export { stringifyState, parseState } from './codecs';

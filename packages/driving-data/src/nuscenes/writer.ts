import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Frame } from '../data/types';
import { NuScenesFormatError } from './errors';
import { encodePng } from './images';
import { encodeMapLabels } from './map-file';
import { encodePointCloud } from './point-cloud';
import { countLidarPointsInBoxes } from './points-in-box';
import { TABLE_NAMES } from './schema';
import { checkFrame } from './writer-checks';
import { MAP_PRIOR_FILENAME, NuScenesTableBuilder } from './writer-records';
import type { BlobWrite } from './writer-records';

/** Options of {@link writeNuScenes}. */
export interface WriteNuScenesOptions {
  /** Replace an existing `root` (swapped in only once the new dataset is complete). Default false. */
  overwrite?: boolean;
  /**
   * Recompute each box's `num_lidar_pts` from the frame's LiDAR points (faces count as inside)
   * instead of trusting `Box3D.numLidarPts`. Default false.
   */
  recountLidarPoints?: boolean;
}

/** What {@link writeNuScenes} wrote. */
export interface WriteNuScenesSummary {
  root: string;
  version: string;
  scenes: number;
  samples: number;
  annotations: number;
  instances: number;
}

/** A 1×1 black grayscale PNG standing in for the semantic-prior raster real nuScenes ships. */
function mapPriorPng(): Buffer {
  return encodePng({ width: 1, height: 1, data: new Uint8Array(3) });
}

function withLidarCounts(frame: Frame): Frame {
  const counts = countLidarPointsInBoxes(frame);
  return { ...frame, boxes: frame.boxes.map((box, i) => ({ ...box, numLidarPts: counts[i] })) };
}

function blobBytes(blob: BlobWrite): Buffer {
  if (blob.kind === 'lidar') return encodePointCloud(blob.frame.lidar.points);
  if (blob.kind === 'map') return encodeMapLabels(blob.frame.map as NonNullable<Frame['map']>);
  const cam = blob.frame.cameras[blob.cameraIndex as number];
  return encodePng({ width: cam.width, height: cam.height, data: cam.image });
}

function writeFile(root: string, relative: string, bytes: Buffer | string): void {
  const file = join(root, relative);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

/**
 * Writes frames as a nuScenes-format dataset under `root`: the 13 tables in `<root>/<version>/`,
 * LiDAR sweeps as `samples/LIDAR_TOP/*.pcd.bin` (float32 ×5 LE), camera images as PNG, map labels
 * and scene conditions in bevzip's side files (see the folder's README). Tokens are hashes of
 * stable keys, so the same frames always give the same bytes. Frames of one scene must come in
 * time order; `Box3D.instanceId` links annotations of an object across frames.
 *
 * The dataset is assembled in a sibling temporary folder and renamed into place, so a failure
 * (bad input, full disk) leaves `root` untouched.
 *
 * @example writeNuScenes(generator.frames(), '/data/synth', 'v1.0-synth')
 */
export function writeNuScenes(
  frames: Iterable<Frame>,
  root: string,
  version = 'v1.0-synth',
  options: WriteNuScenesOptions = {},
): WriteNuScenesSummary {
  const target = resolve(root);
  if (existsSync(target) && options.overwrite !== true) {
    throw new NuScenesFormatError({
      file: target,
      expected: 'a dataset root that does not exist yet (or overwrite: true)',
      found: 'an existing path',
    });
  }
  if (!/^[A-Za-z0-9._-]+$/.test(version)) {
    throw new NuScenesFormatError({
      file: target,
      field: 'version',
      expected: 'a folder name such as v1.0-synth',
      found: version,
    });
  }
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${stamp}`);
  try {
    mkdirSync(tmp, { recursive: true });
    const builder = new NuScenesTableBuilder(version);
    let index = 0;
    for (const frame of frames) {
      checkFrame(frame, index);
      const toWrite = options.recountLidarPoints === true ? withLidarCounts(frame) : frame;
      for (const blob of builder.addFrame(toWrite, index)) writeFile(tmp, blob.filename, blobBytes(blob));
      index++;
    }
    if (index === 0) {
      throw new NuScenesFormatError({ file: target, expected: 'at least one frame to write', found: 'none' });
    }
    const tables = builder.finish();
    for (const name of TABLE_NAMES)
      writeFile(tmp, join(version, `${name}.json`), JSON.stringify(tables[name], null, 1));
    writeFile(tmp, join(version, 'bevzip_frame.json'), JSON.stringify(builder.bevzipFrames, null, 1));
    writeFile(tmp, MAP_PRIOR_FILENAME, mapPriorPng());
    let old: string | undefined;
    if (existsSync(target)) {
      old = join(dirname(target), `.${basename(target)}.old-${stamp}`);
      renameSync(target, old);
    }
    renameSync(tmp, target);
    if (old !== undefined) rmSync(old, { recursive: true, force: true });
    return {
      root: target,
      version,
      scenes: tables.scene.length,
      samples: tables.sample.length,
      annotations: tables.sample_annotation.length,
      instances: tables.instance.length,
    };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

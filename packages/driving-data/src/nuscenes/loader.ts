import { join } from 'node:path';
import { CAMERA_CHANNELS } from '../data/types';
import type { Box3D, CameraChannel, CameraData, Frame, LidarData, MapLabels, Pose } from '../data/types';
import { composePoses, invertPose } from '../geometry/pose';
import type { Vec3 } from '../geometry/pose';
import { NuScenesDatabase } from './database';
import { describeRecord, NuScenesFormatError } from './errors';
import { readImage } from './images';
import { readMapLabels } from './map-file';
import { readPointCloud } from './point-cloud';
import { annotationToBox } from './loader-boxes';
import type { SampleDataRecord } from './schema';
import { boxVelocity } from './velocity';

/** Options of {@link loadNuScenes}. */
export interface LoadNuScenesOptions {
  /** Decode camera images (default true); when false, `CameraData.image` is empty. */
  loadImages?: boolean;
  /** Read LiDAR points (default true); when false, `LidarData.points` is empty. */
  loadPoints?: boolean;
  /** Cameras to return, in this order (default: every key-frame camera, in `CAMERA_CHANNELS` order). */
  cameras?: readonly CameraChannel[];
  /**
   * Annotations of nuScenes categories outside the detection benchmark (animal, debris, …):
   * `'drop'` them as the devkit's evaluation does (default) or treat them as an `'error'`.
   */
  nonDetectionCategories?: 'drop' | 'error';
  /** `box_velocity`'s `max_time_diff` in seconds (default 1.5). */
  maxTimeDiff?: number;
}

/** Which samples to visit; names or tokens that do not exist are an error. */
export interface SampleFilter {
  scenes?: readonly string[];
  sampleTokens?: readonly string[];
}

/** A cheap description of one sample, from the tables only. */
export interface SampleInfo {
  token: string;
  sceneName: string;
  /** Microseconds. */
  timestamp: number;
  /** Position of the sample within its scene, from 0. */
  indexInScene: number;
}

/**
 * A nuScenes-format dataset (real `v1.0-mini`/`v1.0-trainval` or bevzip's `v1.0-synth`) with its
 * tables validated and indexed. Frames are built lazily, one sample at a time.
 */
export class NuScenesDataset {
  private readonly options: Required<Omit<LoadNuScenesOptions, 'cameras'>> & {
    cameras?: readonly CameraChannel[];
  };

  constructor(
    readonly db: NuScenesDatabase,
    options: LoadNuScenesOptions = {},
  ) {
    this.options = {
      loadImages: options.loadImages ?? true,
      loadPoints: options.loadPoints ?? true,
      nonDetectionCategories: options.nonDetectionCategories ?? 'drop',
      maxTimeDiff: options.maxTimeDiff ?? 1.5,
      cameras: options.cameras,
    };
  }

  /** Samples in scene-table order, each scene followed along its `next` chain. */
  listSamples(filter: SampleFilter = {}): SampleInfo[] {
    const scenes = new Set(filter.scenes ?? []);
    const tokens = new Set(filter.sampleTokens ?? []);
    const known = new Set(this.db.tables.scene.map((s) => s.name));
    for (const name of scenes) {
      if (!known.has(name)) {
        throw new NuScenesFormatError({
          file: this.db.file('scene'),
          field: 'name',
          expected: 'a scene named in the filter',
          found: `no scene "${name}"`,
        });
      }
    }
    for (const token of tokens) this.db.get('sample', token);
    const out: SampleInfo[] = [];
    for (const scene of this.db.tables.scene) {
      if (scenes.size > 0 && !scenes.has(scene.name)) continue;
      let token = scene.first_sample_token;
      for (let i = 0; token !== ''; i++) {
        const sample = this.db.get('sample', token);
        if (i > scene.nbr_samples) {
          throw new NuScenesFormatError({
            file: this.db.file('sample'),
            record: token,
            field: 'next',
            expected: `a chain of ${scene.nbr_samples} samples for scene ${scene.name}`,
            found: 'a longer or cyclic chain',
          });
        }
        if (tokens.size === 0 || tokens.has(token)) {
          out.push({ token, sceneName: scene.name, timestamp: sample.timestamp, indexInScene: i });
        }
        token = sample.next;
      }
    }
    return out;
  }

  /** Lazily builds the frames of the selected samples. */
  *frames(filter: SampleFilter = {}): Generator<Frame> {
    for (const info of this.listSamples(filter)) yield this.frame(info.token);
  }

  /** Builds one frame: points and calibrations, images, global-frame boxes, map labels. */
  frame(sampleToken: string): Frame {
    const sample = this.db.get('sample', sampleToken);
    const scene = this.db.get('scene', sample.scene_token);
    const data = this.db.sampleData(sampleToken);
    const lidarToken = data.LIDAR_TOP;
    if (lidarToken === undefined) {
      throw new NuScenesFormatError({
        file: this.db.file('sample_data'),
        record: `sample ${sampleToken}`,
        field: 'LIDAR_TOP',
        expected: 'a key-frame LIDAR_TOP sample_data for the sample',
      });
    }
    const lidarSd = this.db.get('sample_data', lidarToken);
    const egoPose = this.poseOf('ego_pose', lidarSd.ego_pose_token);
    const lidar: LidarData = {
      calib: this.poseOf('calibrated_sensor', lidarSd.calibrated_sensor_token),
      points: this.options.loadPoints
        ? readPointCloud(join(this.db.root, lidarSd.filename))
        : new Float32Array(0),
      timestamp: lidarSd.timestamp,
    };
    const channels = this.options.cameras ?? CAMERA_CHANNELS.filter((c) => data[c] !== undefined);
    const cameras = channels.map((channel) => this.camera(sampleToken, channel, data[channel], egoPose));
    const boxes: Box3D[] = [];
    for (const annToken of this.db.annotations(sampleToken)) {
      const box = annotationToBox(this.db, annToken, this.options.nonDetectionCategories);
      if (box === undefined) continue;
      const v = this.boxVelocity(annToken);
      boxes.push({ ...box, velocity: [v[0], v[1]] });
    }
    const frame: Frame = {
      sceneName: scene.name,
      sampleToken,
      timestamp: sample.timestamp,
      egoPose,
      lidar,
      cameras,
      boxes,
    };
    const side = this.db.bevzipFrames.get(sampleToken);
    if (side !== undefined) {
      const map: MapLabels | undefined =
        side.map_filename === '' ? undefined : readMapLabels(join(this.db.root, side.map_filename));
      if (map !== undefined) frame.map = map;
      if (Object.keys(side.conditions).length > 0) frame.conditions = { ...side.conditions };
    }
    return frame;
  }

  /** Devkit `box_velocity` of an annotation, global frame, m/s (NaN where it cannot be estimated). */
  boxVelocity(annotationToken: string): Vec3 {
    return boxVelocity(
      {
        annotation: (token) => this.db.get('sample_annotation', token),
        sampleTimestamp: (token) => this.db.get('sample', token).timestamp,
      },
      annotationToken,
      this.options.maxTimeDiff,
    );
  }

  private poseOf(table: 'ego_pose' | 'calibrated_sensor', token: string): Pose {
    const rec = this.db.get(table, token);
    return { translation: [...rec.translation], rotation: [...rec.rotation] };
  }

  /**
   * Camera → ego at the LiDAR timestamp: calib = ego_lidar⁻¹ ∘ ego_cam ∘ cs_cam, the model-frame
   * extrinsic (equals cs_cam when the camera and LiDAR share an ego pose).
   */
  private camera(
    sampleToken: string,
    channel: CameraChannel,
    token: string | undefined,
    egoLidar: Pose,
  ): CameraData {
    if (token === undefined) {
      throw new NuScenesFormatError({
        file: this.db.file('sample_data'),
        record: `sample ${sampleToken}`,
        field: channel,
        expected: `a key-frame ${channel} sample_data for the sample`,
      });
    }
    const sd: SampleDataRecord = this.db.get('sample_data', token);
    const cs = this.db.get('calibrated_sensor', sd.calibrated_sensor_token);
    if (cs.camera_intrinsic.length !== 3) {
      const index = this.db.tables.calibrated_sensor.indexOf(cs);
      throw new NuScenesFormatError({
        file: this.db.file('calibrated_sensor'),
        record: describeRecord(index, cs.token),
        field: 'camera_intrinsic',
        expected: `a 3×3 matrix for camera ${channel}`,
        found: '[]',
      });
    }
    const egoCam = this.poseOf('ego_pose', sd.ego_pose_token);
    const calib = composePoses(
      invertPose(egoLidar),
      composePoses(egoCam, this.poseOf('calibrated_sensor', cs.token)),
    );
    const k = cs.camera_intrinsic.flat() as CameraData['intrinsic'];
    const image = this.options.loadImages
      ? readImage(join(this.db.root, sd.filename), { width: sd.width, height: sd.height }).data
      : new Uint8Array(0);
    return {
      channel,
      calib,
      intrinsic: k,
      width: sd.width,
      height: sd.height,
      image,
      timestamp: sd.timestamp,
    };
  }
}

/**
 * Opens a nuScenes-format dataset at `<root>/<version>/` (e.g. `v1.0-mini`, `v1.0-trainval`,
 * `v1.0-synth`). All 13 tables are parsed and cross-checked now; frames are read lazily.
 *
 * @example
 * const ds = loadNuScenes('/data/nuscenes', 'v1.0-mini', { loadImages: false });
 * for (const frame of ds.frames({ scenes: ['scene-0061'] })) console.log(frame.boxes.length);
 */
export function loadNuScenes(
  root: string,
  version: string,
  options: LoadNuScenesOptions = {},
): NuScenesDataset {
  return new NuScenesDataset(new NuScenesDatabase(root, version), options);
}

import type { Frame, Pose } from '../data/types';
import { NUSCENES_ATTRIBUTES, NUSCENES_CATEGORIES, VISIBILITY_LEVELS } from './categories';
import { NuScenesFormatError } from './errors';
import type {
  BevzipFrameRecord,
  CalibratedSensorRecord,
  EgoPoseRecord,
  InstanceRecord,
  SampleAnnotationRecord,
  SampleDataRecord,
  SampleRecord,
  SceneRecord,
  SensorRecord,
  TableRecords,
} from './schema';
import { makeToken } from './tokens';
import { boxToAnnotationGeometry } from './transforms';

/** A binary file to write, relative to the dataset root. */
export interface BlobWrite {
  filename: string;
  kind: 'lidar' | 'camera' | 'map';
  frame: Frame;
  cameraIndex?: number;
}

/** Map prior file the `map` record points at (the devkit only checks it exists). */
export const MAP_PRIOR_FILENAME = 'maps/bevzip-semantic-prior.png';
const LIDAR = 'LIDAR_TOP';

interface SceneState {
  record: SceneRecord;
  samples: SampleRecord[];
  sampleData: Map<string, SampleDataRecord[]>;
  annotations: Map<string, SampleAnnotationRecord[]>;
  firstTimestamp: number;
}

/**
 * Accumulates the nuScenes tables frame by frame (tokens are hashes of stable keys) and links the
 * prev/next chains, instance spans and scene spans in {@link finish}. Binary payloads are not
 * held: {@link addFrame} returns the files the caller must write for that frame.
 */
export class NuScenesTableBuilder {
  private readonly scenes = new Map<string, SceneState>();
  private readonly sensors = new Map<string, SensorRecord>();
  private readonly calibrated = new Map<string, CalibratedSensorRecord>();
  private readonly egoPoses: EgoPoseRecord[] = [];
  private readonly instances = new Map<string, InstanceRecord & { category_name: string }>();
  private readonly filenames = new Set<string>();
  private readonly sampleTokens = new Set<string>();
  /** Records in frame order, so `sample.anns` and `sample.data` keep the input order. */
  private readonly annotationList: SampleAnnotationRecord[] = [];
  private readonly sampleDataList: SampleDataRecord[] = [];
  readonly bevzipFrames: BevzipFrameRecord[] = [];

  constructor(private readonly version: string) {}

  /** Adds one frame's records; returns the blobs to write. */
  addFrame(frame: Frame, index: number): BlobWrite[] {
    if (this.sampleTokens.has(frame.sampleToken)) {
      throw new NuScenesFormatError({
        file: '<frames given to writeNuScenes>',
        record: `frame #${index}`,
        field: 'sampleToken',
        expected: 'a token unique across frames',
        found: frame.sampleToken,
      });
    }
    this.sampleTokens.add(frame.sampleToken);
    const scene = this.scene(frame, index);
    scene.samples.push({
      token: frame.sampleToken,
      timestamp: frame.timestamp,
      scene_token: scene.record.token,
      prev: '',
      next: '',
    });
    const logfile = `bevzip-${frame.sceneName}`;
    const blobs: BlobWrite[] = [];
    const lidarFile = `samples/${LIDAR}/${logfile}__${LIDAR}__${frame.lidar.timestamp}.pcd.bin`;
    this.addSampleData(
      scene,
      frame,
      LIDAR,
      'lidar',
      frame.lidar.calib,
      [],
      lidarFile,
      'pcd',
      0,
      0,
      frame.lidar.timestamp,
      index,
    );
    blobs.push({ filename: lidarFile, kind: 'lidar', frame });
    frame.cameras.forEach((cam, k) => {
      const file = `samples/${cam.channel}/${logfile}__${cam.channel}__${cam.timestamp}.png`;
      const k3 = cam.intrinsic;
      const intrinsic: CalibratedSensorRecord['camera_intrinsic'] = [
        [k3[0], k3[1], k3[2]],
        [k3[3], k3[4], k3[5]],
        [k3[6], k3[7], k3[8]],
      ];
      this.addSampleData(
        scene,
        frame,
        cam.channel,
        'camera',
        cam.calib,
        intrinsic,
        file,
        'png',
        cam.width,
        cam.height,
        cam.timestamp,
        index,
      );
      blobs.push({ filename: file, kind: 'camera', frame, cameraIndex: k });
    });
    for (const box of frame.boxes) {
      const instanceToken = makeToken(this.version, 'instance', frame.sceneName, box.instanceId);
      const inst = this.instances.get(instanceToken);
      if (inst === undefined) {
        this.instances.set(instanceToken, {
          token: instanceToken,
          category_token: makeToken('category', box.categoryName),
          category_name: box.categoryName,
          nbr_annotations: 0,
          first_annotation_token: '',
          last_annotation_token: '',
        });
      } else if (inst.category_name !== box.categoryName) {
        throw new NuScenesFormatError({
          file: '<frames given to writeNuScenes>',
          record: `frame #${index} (sample ${frame.sampleToken}) instance ${box.instanceId}`,
          field: 'categoryName',
          expected: `the instance's category ${inst.category_name}`,
          found: box.categoryName,
        });
      }
      const geometry = boxToAnnotationGeometry(box);
      const ann: SampleAnnotationRecord = {
        token: makeToken(this.version, 'sample_annotation', frame.sampleToken, box.instanceId),
        sample_token: frame.sampleToken,
        instance_token: instanceToken,
        attribute_tokens: box.attributeName === '' ? [] : [makeToken('attribute', box.attributeName)],
        visibility_token: String(box.visibility),
        ...geometry,
        num_lidar_pts: box.numLidarPts,
        num_radar_pts: 0,
        prev: '',
        next: '',
      };
      const chain = scene.annotations.get(instanceToken) ?? [];
      chain.push(ann);
      scene.annotations.set(instanceToken, chain);
      this.annotationList.push(ann);
    }
    let mapFilename = '';
    if (frame.map !== undefined) {
      mapFilename = `maps/bevzip/${frame.sampleToken}.bin`;
      blobs.push({ filename: mapFilename, kind: 'map', frame });
    }
    this.bevzipFrames.push({
      token: frame.sampleToken,
      map_filename: mapFilename,
      conditions: { ...(frame.conditions ?? {}) },
    });
    return blobs;
  }

  private scene(frame: Frame, index: number): SceneState {
    let scene = this.scenes.get(frame.sceneName);
    if (scene === undefined) {
      const token = makeToken(this.version, 'scene', frame.sceneName);
      scene = {
        record: {
          token,
          name: frame.sceneName,
          description: '',
          log_token: makeToken(this.version, 'log', frame.sceneName),
          nbr_samples: 0,
          first_sample_token: '',
          last_sample_token: '',
        },
        samples: [],
        sampleData: new Map(),
        annotations: new Map(),
        firstTimestamp: frame.timestamp,
      };
      this.scenes.set(frame.sceneName, scene);
    }
    const last = scene.samples[scene.samples.length - 1];
    if (last !== undefined && frame.timestamp <= last.timestamp) {
      throw new NuScenesFormatError({
        file: '<frames given to writeNuScenes>',
        record: `frame #${index} (sample ${frame.sampleToken})`,
        field: 'timestamp',
        expected: `a timestamp after ${last.timestamp} (frames of scene ${frame.sceneName} in time order)`,
        found: String(frame.timestamp),
      });
    }
    return scene;
  }

  private addSampleData(
    scene: SceneState,
    frame: Frame,
    channel: string,
    modality: 'camera' | 'lidar',
    calib: Pose,
    intrinsic: CalibratedSensorRecord['camera_intrinsic'],
    filename: string,
    fileformat: string,
    width: number,
    height: number,
    timestamp: number,
    index: number,
  ): void {
    if (this.filenames.has(filename)) {
      throw new NuScenesFormatError({
        file: '<frames given to writeNuScenes>',
        record: `frame #${index} (sample ${frame.sampleToken})`,
        field: `${channel} timestamp`,
        expected: 'a timestamp unique per channel within the scene',
        found: filename,
      });
    }
    this.filenames.add(filename);
    const sensorToken = makeToken('sensor', channel);
    this.sensors.set(sensorToken, { token: sensorToken, channel, modality });
    const key = JSON.stringify([channel, calib.translation, calib.rotation, intrinsic]);
    const csToken = makeToken(this.version, 'calibrated_sensor', key);
    this.calibrated.set(csToken, {
      token: csToken,
      sensor_token: sensorToken,
      translation: [...calib.translation],
      rotation: [...calib.rotation],
      camera_intrinsic: intrinsic,
    });
    const egoToken = makeToken(this.version, 'ego_pose', frame.sampleToken, channel);
    this.egoPoses.push({
      token: egoToken,
      translation: [...frame.egoPose.translation],
      rotation: [...frame.egoPose.rotation],
      timestamp,
    });
    const chain = scene.sampleData.get(channel) ?? [];
    const record: SampleDataRecord = {
      token: makeToken(this.version, 'sample_data', frame.sampleToken, channel),
      sample_token: frame.sampleToken,
      ego_pose_token: egoToken,
      calibrated_sensor_token: csToken,
      filename,
      fileformat,
      width,
      height,
      timestamp,
      is_key_frame: true,
      prev: '',
      next: '',
    };
    chain.push(record);
    scene.sampleData.set(channel, chain);
    this.sampleDataList.push(record);
  }

  /** Links all chains and returns the complete tables. */
  finish(): TableRecords {
    const t: TableRecords = {
      category: NUSCENES_CATEGORIES.map((name) => ({
        token: makeToken('category', name),
        name,
        description: '',
      })),
      attribute: NUSCENES_ATTRIBUTES.map((name) => ({
        token: makeToken('attribute', name),
        name,
        description: '',
      })),
      visibility: VISIBILITY_LEVELS.map((level, i) => ({
        token: String(i + 1),
        level,
        description: `visible fraction ${level.slice(1)}%`,
      })),
      instance: [],
      sensor: [...this.sensors.values()],
      calibrated_sensor: [...this.calibrated.values()],
      ego_pose: this.egoPoses,
      log: [],
      scene: [],
      sample: [],
      sample_data: [],
      sample_annotation: [],
      map: [],
    };
    for (const scene of this.scenes.values()) {
      link(scene.samples);
      const s = scene.record;
      s.nbr_samples = scene.samples.length;
      s.first_sample_token = scene.samples[0].token;
      s.last_sample_token = scene.samples[scene.samples.length - 1].token;
      t.scene.push(s);
      t.sample.push(...scene.samples);
      t.log.push({
        token: s.log_token,
        logfile: `bevzip-${s.name}`,
        vehicle: 'bevzip-synthetic',
        date_captured: new Date(scene.firstTimestamp / 1000).toISOString().slice(0, 10),
        location: 'bevzip-synthetic',
      });
      for (const chain of scene.sampleData.values()) link(chain);
      for (const [instanceToken, chain] of scene.annotations) {
        link(chain);
        const inst = this.instances.get(instanceToken) as InstanceRecord & { category_name?: string };
        inst.nbr_annotations = chain.length;
        inst.first_annotation_token = chain[0].token;
        inst.last_annotation_token = chain[chain.length - 1].token;
        delete inst.category_name;
        t.instance.push(inst);
      }
    }
    t.sample_data = this.sampleDataList;
    t.sample_annotation = this.annotationList;
    t.map.push({
      token: makeToken(this.version, 'map'),
      log_tokens: t.log.map((l) => l.token),
      category: 'semantic_prior',
      filename: MAP_PRIOR_FILENAME,
    });
    return t;
  }
}

function link<T extends { token: string; prev: string; next: string }>(chain: T[]): T[] {
  chain.forEach((rec, i) => {
    rec.prev = i > 0 ? chain[i - 1].token : '';
    rec.next = i + 1 < chain.length ? chain[i + 1].token : '';
  });
  return chain;
}

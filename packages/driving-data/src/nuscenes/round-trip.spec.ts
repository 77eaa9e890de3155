import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { loadNuScenes } from './loader';
import { quatFromYaw } from '../geometry/pose';
import { tinyScene, EGO_YAW, INTRINSIC, tinyTimestamp } from './testing/tiny-scene';
import { writeNuScenes } from './writer';

const VERSION = 'v1.0-synth';

function readTableJson<T>(root: string, name: string): T[] {
  return JSON.parse(readFileSync(join(root, VERSION, `${name}.json`), 'utf8')) as T[];
}

describe('nuScenes writer and loader round trip', () => {
  let dir: string;
  let root: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bevzip-nusc-rt-'));
    root = join(dir, 'ds');
    writeNuScenes(tinyScene(), root, VERSION);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the three samples of the scene in time order', () => {
    const ds = loadNuScenes(root, VERSION);
    expect(ds.listSamples()).toEqual(
      [0, 1, 2].map((k) => ({
        token: `tiny-sample-${k}`,
        sceneName: 'scene-0001',
        timestamp: tinyTimestamp(k),
        indexInScene: k,
      })),
    );
    expect(ds.listSamples({ sampleTokens: ['tiny-sample-1'] }).map((s) => s.token)).toEqual([
      'tiny-sample-1',
    ]);
    expect(() => ds.listSamples({ scenes: ['scene-9999'] })).toThrow(/scene\.json.*no scene "scene-9999"/);
  });

  it('reads back points, images, poses, map labels and conditions exactly', () => {
    const written = tinyScene();
    const loaded = [...loadNuScenes(root, VERSION).frames()];
    expect(loaded).toHaveLength(3);
    loaded.forEach((frame, k) => {
      const src = written[k];
      expect(frame.sampleToken).toBe(src.sampleToken);
      expect(frame.timestamp).toBe(src.timestamp);
      expect(frame.egoPose).toEqual(src.egoPose);
      expect(frame.lidar.calib).toEqual(src.lidar.calib);
      expect(Array.from(frame.lidar.points)).toEqual(Array.from(src.lidar.points));
      expect(frame.cameras.map((c) => c.channel)).toEqual(['CAM_FRONT', 'CAM_BACK']);
      frame.cameras.forEach((cam, i) => {
        const s = src.cameras[i];
        expect(Array.from(cam.image)).toEqual(Array.from(s.image));
        expect(cam.intrinsic).toEqual(INTRINSIC);
        expect([cam.width, cam.height, cam.timestamp]).toEqual([s.width, s.height, s.timestamp]);
        cam.calib.translation.forEach((v, j) => expect(v).toBeCloseTo(s.calib.translation[j], 9));
        cam.calib.rotation.forEach((v, j) => expect(v).toBeCloseTo(s.calib.rotation[j], 9));
      });
      expect(frame.conditions).toEqual(src.conditions);
    });
    expect(loaded[0].map).toEqual(written[0].map);
    expect(loaded[1].map).toBeUndefined();
  });

  it('reads back boxes in the global frame with devkit velocities', () => {
    const written = tinyScene();
    const loaded = [...loadNuScenes(root, VERSION, { loadImages: false, loadPoints: false }).frames()];
    // car: +1 m per 0.5 s → 2 m/s at all three samples; pedestrian (0.5, 0.25) per 0.5 s; barrier alone → NaN.
    const expectedVelocity = [
      [
        [2, 0],
        [1, 0.5],
      ],
      [
        [2, 0],
        [1, 0.5],
      ],
      [
        [2, 0],
        [NaN, NaN],
      ],
    ];
    loaded.forEach((frame, k) => {
      expect(frame.boxes).toHaveLength(2);
      frame.boxes.forEach((box, i) => {
        const src = written[k].boxes[i];
        box.center.forEach((v, j) => expect(v).toBeCloseTo(src.center[j], 9));
        box.size.forEach((v, j) => expect(v).toBeCloseTo(src.size[j], 12));
        expect(box.yaw).toBeCloseTo(src.yaw, 9);
        const [vx, vy] = expectedVelocity[k][i];
        if (Number.isNaN(vx)) expect(box.velocity.every(Number.isNaN)).toBe(true);
        else {
          expect(box.velocity[0]).toBeCloseTo(vx, 9);
          expect(box.velocity[1]).toBeCloseTo(vy, 9);
        }
        expect([
          box.detectionName,
          box.categoryName,
          box.attributeName,
          box.numLidarPts,
          box.visibility,
        ]).toEqual([src.detectionName, src.categoryName, src.attributeName, src.numLidarPts, src.visibility]);
      });
    });
    expect(loaded[0].boxes[0].instanceId).toBe(loaded[2].boxes[0].instanceId);
    expect(loaded[0].boxes[0].instanceId).not.toBe(loaded[0].boxes[1].instanceId);
  });

  it('links prev/next chains, instances, scene and map records', () => {
    type Linked = { token: string; prev: string; next: string };
    const samples = readTableJson<Linked>(root, 'sample');
    expect(samples.map((s) => [s.prev, s.next])).toEqual([
      ['', samples[1].token],
      [samples[0].token, samples[2].token],
      [samples[1].token, ''],
    ]);
    const anns = readTableJson<Linked & { instance_token: string; size: number[]; rotation: number[] }>(
      root,
      'sample_annotation',
    );
    const instances = readTableJson<{
      token: string;
      nbr_annotations: number;
      first_annotation_token: string;
      last_annotation_token: string;
    }>(root, 'instance');
    expect(instances.map((i) => i.nbr_annotations).sort()).toEqual([1, 2, 3]);
    for (const inst of instances) {
      const chain = anns.filter((a) => a.instance_token === inst.token);
      expect(chain[0].prev).toBe('');
      expect(chain[0].token).toBe(inst.first_annotation_token);
      expect(chain[chain.length - 1].token).toBe(inst.last_annotation_token);
      expect(chain[chain.length - 1].next).toBe('');
    }
    // car box written as size [w, l, h] and a yaw quaternion
    expect(anns[0].size).toEqual([1.9, 4.5, 1.6]);
    anns[0].rotation.forEach((v, j) => expect(v).toBeCloseTo(quatFromYaw(0.3)[j], 12));
    const sd = readTableJson<Linked & { filename: string; is_key_frame: boolean }>(root, 'sample_data');
    expect(sd).toHaveLength(9);
    expect(sd.filter((r) => r.prev === '')).toHaveLength(3);
    expect(sd[0].filename).toBe(
      `samples/LIDAR_TOP/bevzip-scene-0001__LIDAR_TOP__${tinyTimestamp(0)}.pcd.bin`,
    );
    const scene = readTableJson<{
      nbr_samples: number;
      first_sample_token: string;
      last_sample_token: string;
      log_token: string;
    }>(root, 'scene');
    expect(scene).toEqual([
      expect.objectContaining({
        nbr_samples: 3,
        first_sample_token: 'tiny-sample-0',
        last_sample_token: 'tiny-sample-2',
      }),
    ]);
    const map = readTableJson<{ log_tokens: string[] }>(root, 'map');
    expect(map).toEqual([expect.objectContaining({ log_tokens: [scene[0].log_token] })]);
    expect(
      readTableJson<{ token: string; level: string }>(root, 'visibility').map((v) => [v.token, v.level]),
    ).toEqual([
      ['1', 'v0-40'],
      ['2', 'v40-60'],
      ['3', 'v60-80'],
      ['4', 'v80-100'],
    ]);
  });

  it('writes the same bytes for the same frames', () => {
    const again = join(dir, 'again');
    writeNuScenes(tinyScene(), again, VERSION);
    for (const name of readdirSync(join(root, VERSION))) {
      expect(readFileSync(join(again, VERSION, name), 'utf8')).toBe(
        readFileSync(join(root, VERSION, name), 'utf8'),
      );
    }
  });

  it('refers camera calibrations to the ego pose at the LiDAR timestamp', () => {
    const shifted = join(dir, 'shifted');
    writeNuScenes(tinyScene(), shifted, VERSION);
    const file = join(shifted, VERSION, 'ego_pose.json');
    const poses = JSON.parse(readFileSync(file, 'utf8')) as Array<{ token: string; translation: number[] }>;
    const sd = JSON.parse(readFileSync(join(shifted, VERSION, 'sample_data.json'), 'utf8')) as Array<{
      ego_pose_token: string;
      filename: string;
    }>;
    const camPose = sd.find((r) => r.filename.includes('CAM_FRONT'))?.ego_pose_token;
    poses.find((p) => p.token === camPose)!.translation[0] += 1;
    writeFileSync(file, JSON.stringify(poses));
    const cam = loadNuScenes(shifted, VERSION, { loadImages: false, loadPoints: false }).frame(
      'tiny-sample-0',
    ).cameras[0];
    // ego moved 1 m along global x at the camera time: in the LiDAR-time ego frame that is Rᵀ·(1, 0, 0)
    const expected = [1.5 + Math.cos(EGO_YAW), -Math.sin(EGO_YAW), 1.5];
    cam.calib.translation.forEach((v, j) => expect(v).toBeCloseTo(expected[j], 9));
  });

  it('can recount num_lidar_pts from the LiDAR points', () => {
    const frames = tinyScene();
    // One ego-frame point at (0.9, 0, 0) (sensor (0, 0, −1.84)); a car box around it, the rest empty.
    frames[0].lidar.points = new Float32Array([0, 0, -1.84, 5, 0]);
    frames[0].boxes[0].center = [100 + 0.9 * Math.cos(EGO_YAW), 200 + 0.9 * Math.sin(EGO_YAW), 0];
    const recount = join(dir, 'recount');
    writeNuScenes(frames, recount, VERSION, { recountLidarPoints: true });
    const boxes = loadNuScenes(recount, VERSION, { loadImages: false }).frame('tiny-sample-0').boxes;
    expect(boxes.map((b) => b.numLidarPts)).toEqual([1, 0]);
  });

  it('decodes JPEG camera images as real nuScenes ships them', () => {
    const jpegRoot = join(dir, 'jpeg');
    writeNuScenes(tinyScene(), jpegRoot, VERSION);
    const sdFile = join(jpegRoot, VERSION, 'sample_data.json');
    const sd = JSON.parse(readFileSync(sdFile, 'utf8')) as Array<{ filename: string; fileformat: string }>;
    const rec = sd.find((r) => r.filename.includes('CAM_BACK'))!;
    const rgba = Buffer.alloc(4 * 3 * 4);
    for (let p = 0; p < 12; p++) rgba.set([200, 100, 50, 255], p * 4);
    rec.filename = rec.filename.replace('.png', '.jpg');
    rec.fileformat = 'jpg';
    writeFileSync(join(jpegRoot, rec.filename), encodeJpeg({ width: 4, height: 3, data: rgba }, 100).data);
    writeFileSync(sdFile, JSON.stringify(sd));
    const image = loadNuScenes(jpegRoot, VERSION).frame('tiny-sample-0').cameras[1].image;
    expect(image).toHaveLength(36);
    for (let p = 0; p < 12; p++) {
      expect(Math.abs(image[p * 3] - 200)).toBeLessThanOrEqual(3);
      expect(Math.abs(image[p * 3 + 1] - 100)).toBeLessThanOrEqual(3);
      expect(Math.abs(image[p * 3 + 2] - 50)).toBeLessThanOrEqual(3);
    }
  });
});

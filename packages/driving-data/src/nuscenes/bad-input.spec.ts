import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NuScenesFormatError } from './errors';
import { encodePng } from './images';
import { loadNuScenes } from './loader';
import { tinyScene } from './testing/tiny-scene';
import { writeNuScenes } from './writer';

const VERSION = 'v1.0-synth';
type Rec = Record<string, unknown> & { token: string };

describe('nuScenes bad input is a named error', () => {
  let dir: string;
  let pristine: string;
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bevzip-nusc-bad-'));
    pristine = join(dir, 'pristine');
    writeNuScenes(tinyScene(), pristine, VERSION);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh copy of the valid dataset with `table` edited in place. */
  function variant(edit?: { table: string; change: (records: Rec[]) => void }): string {
    const root = join(dir, `case-${n++}`);
    cpSync(pristine, root, { recursive: true });
    if (edit !== undefined) {
      const file = join(root, VERSION, `${edit.table}.json`);
      const records = JSON.parse(readFileSync(file, 'utf8')) as Rec[];
      edit.change(records);
      writeFileSync(file, JSON.stringify(records));
    }
    return root;
  }

  function frameError(root: string, options = {}): NuScenesFormatError {
    try {
      Array.from(loadNuScenes(root, VERSION, options).frames());
    } catch (err) {
      expect(err).toBeInstanceOf(NuScenesFormatError);
      return err as NuScenesFormatError;
    }
    throw new Error('expected a NuScenesFormatError');
  }

  it('rejects a missing table', () => {
    const root = variant();
    rmSync(join(root, VERSION, 'sample_data.json'));
    const err = frameError(root);
    expect(err.file).toBe(join(root, VERSION, 'sample_data.json'));
    expect(err.message).toMatch(/sample_data\.json: expected the table file to exist/);
  });

  it('names table, record, field and token of a dangling foreign key', () => {
    const root = variant({ table: 'sample_annotation', change: (r) => (r[1].instance_token = 'feedbeef') });
    const err = frameError(root);
    expect(err.file).toMatch(/sample_annotation\.json$/);
    expect(err.record).toMatch(/^#1 \(token [0-9a-f]{32}\)$/);
    expect(err.field).toBe('instance_token');
    expect(err.message).toMatch(/expected a token of table "instance", found dangling token "feedbeef"/);
  });

  it('names the field and expected type of a record that fails the schema', () => {
    const root = variant({
      table: 'ego_pose',
      change: (r) => ((r[2].translation as unknown[])[1] = 'north'),
    });
    const err = frameError(root);
    expect(err.file).toMatch(/ego_pose\.json$/);
    expect(err.record).toMatch(/^#2 /);
    expect(err.field).toBe('translation.1');
    expect(err.expected).toBe('number');
    expect(err.found).toBe('"north"');
  });

  it('rejects a truncated LiDAR .pcd.bin', () => {
    const root = variant();
    const lidarDir = join(root, 'samples', 'LIDAR_TOP');
    const file = join(lidarDir, readdirSync(lidarDir).sort()[0]);
    truncateSync(file, 4 * 5 * 4 - 3);
    const err = frameError(root);
    expect(err.file).toBe(file);
    expect(err.message).toMatch(/multiple of 20 bytes.*found 77 bytes/);
  });

  it('rejects a LiDAR .pcd.bin with NaN coordinates, naming the point', () => {
    const root = variant();
    const lidarDir = join(root, 'samples', 'LIDAR_TOP');
    const file = join(lidarDir, readdirSync(lidarDir).sort()[0]);
    const bytes = readFileSync(file);
    bytes.writeFloatLE(NaN, (3 * 5 + 1) * 4);
    writeFileSync(file, bytes);
    const err = frameError(root);
    expect(err.file).toBe(file);
    expect(err.message).toMatch(/1 NaN or infinite value\(s\), the first in point 3 \(column 1: NaN\)/);
  });

  it('rejects an image whose size differs from its sample_data record', () => {
    const root = variant();
    const camDir = join(root, 'samples', 'CAM_FRONT');
    const file = join(camDir, readdirSync(camDir).sort()[1]);
    writeFileSync(file, encodePng({ width: 2, height: 2, data: new Uint8Array(12) }));
    const err = frameError(root);
    expect(err.file).toBe(file);
    expect(err.message).toMatch(/expected an image of 4×3 pixels .*found 2×2/);
  });

  it('rejects an unknown category', () => {
    const root = variant({
      table: 'category',
      change: (r) => (r.find((c) => c.name === 'vehicle.car')!.name = 'vehicle.hovercraft'),
    });
    const err = frameError(root);
    expect(err.file).toMatch(/category\.json$/);
    expect(err.field).toBe('name');
    expect(err.message).toMatch(/unknown category "vehicle\.hovercraft"/);
  });

  it('drops categories outside the detection benchmark unless asked to fail', () => {
    const root = variant({
      table: 'category',
      change: (r) => (r.find((c) => c.name === 'human.pedestrian.adult')!.name = 'human.pedestrian.stroller'),
    });
    const frames = [...loadNuScenes(root, VERSION, { loadImages: false }).frames()];
    expect(frames.map((f) => f.boxes.map((b) => b.detectionName))).toEqual([
      ['car'],
      ['car'],
      ['car', 'barrier'],
    ]);
    expect(frameError(root, { nonDetectionCategories: 'error' }).message).toMatch(
      /human\.pedestrian\.stroller/,
    );
  });

  it('rejects a version folder whose logs have no map record', () => {
    const root = variant({ table: 'map', change: (r) => ((r[0].log_tokens as string[])[0] = 'cafe') });
    expect(frameError(root).message).toMatch(
      /map\.json, record #0 .*field "log_tokens\.0".*dangling token "cafe"/,
    );
  });

  it('leaves nothing behind when writing fails part-way', () => {
    const frames = tinyScene();
    frames[2].boxes[0].categoryName = 'vehicle.hovercraft';
    const root = join(dir, 'failed-write');
    expect(() => writeNuScenes(frames, root, VERSION)).toThrow(/frame #2 .*box #0 .*categoryName/);
    expect(existsSync(root)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('failed-write'))).toEqual([]);
  });

  it('refuses to replace an existing dataset unless asked, then swaps it whole', () => {
    const root = variant();
    expect(() => writeNuScenes(tinyScene().slice(0, 2), root, VERSION)).toThrow(/does not exist yet/);
    writeNuScenes(tinyScene().slice(0, 2), root, VERSION, { overwrite: true });
    expect(loadNuScenes(root, VERSION).listSamples()).toHaveLength(2);
  });

  it('rejects frames of a scene out of time order', () => {
    const frames = tinyScene().reverse();
    expect(() => writeNuScenes(frames, join(dir, 'unordered'), VERSION)).toThrow(
      /frame #1 .*timestamp.*time order/,
    );
  });
});

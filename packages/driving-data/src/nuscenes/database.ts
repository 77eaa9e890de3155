import { existsSync } from 'node:fs';
import { bevzipFrameSchema, TABLE_NAMES, TABLE_SCHEMAS } from './schema';
import type {
  BevzipFrameRecord,
  SampleAnnotationRecord,
  SampleDataRecord,
  SampleRecord,
  TableName,
  TableRecords,
} from './schema';
import { describeRecord, NuScenesFormatError } from './errors';
import { readTable, tablePath } from './read-table';

type AnyRecord = { token: string };

/** Which foreign-key fields of which table point where; `''` is allowed only where listed. */
const FOREIGN_KEYS: ReadonlyArray<[TableName, string, TableName, 'required' | 'optional']> = [
  ['instance', 'category_token', 'category', 'required'],
  ['instance', 'first_annotation_token', 'sample_annotation', 'required'],
  ['instance', 'last_annotation_token', 'sample_annotation', 'required'],
  ['calibrated_sensor', 'sensor_token', 'sensor', 'required'],
  ['scene', 'log_token', 'log', 'required'],
  ['scene', 'first_sample_token', 'sample', 'required'],
  ['scene', 'last_sample_token', 'sample', 'required'],
  ['sample', 'scene_token', 'scene', 'required'],
  ['sample', 'prev', 'sample', 'optional'],
  ['sample', 'next', 'sample', 'optional'],
  ['sample_data', 'sample_token', 'sample', 'required'],
  ['sample_data', 'ego_pose_token', 'ego_pose', 'required'],
  ['sample_data', 'calibrated_sensor_token', 'calibrated_sensor', 'required'],
  ['sample_data', 'prev', 'sample_data', 'optional'],
  ['sample_data', 'next', 'sample_data', 'optional'],
  ['sample_annotation', 'sample_token', 'sample', 'required'],
  ['sample_annotation', 'instance_token', 'instance', 'required'],
  ['sample_annotation', 'visibility_token', 'visibility', 'optional'],
  ['sample_annotation', 'prev', 'sample_annotation', 'optional'],
  ['sample_annotation', 'next', 'sample_annotation', 'optional'],
];

/**
 * All tables of one nuScenes version, validated, indexed by token and with the devkit's reverse
 * indexes (`sample.data` by channel for key frames, `sample.anns`, `log → map`) rebuilt. Every
 * foreign key is checked once at construction, so later lookups cannot dangle.
 */
export class NuScenesDatabase {
  readonly tables: TableRecords;
  /** bevzip side records by sample token; empty for real nuScenes. */
  readonly bevzipFrames = new Map<string, BevzipFrameRecord>();
  private readonly byToken = new Map<TableName, Map<string, AnyRecord>>();
  private readonly sampleDataByChannel = new Map<string, Record<string, string>>();
  private readonly sampleAnns = new Map<string, string[]>();
  private readonly channels = new Map<string, { channel: string; modality: string }>();

  constructor(
    readonly root: string,
    readonly version: string,
  ) {
    const tables: Partial<Record<TableName, AnyRecord[]>> = {};
    for (const name of TABLE_NAMES) {
      tables[name] = readTable(tablePath(root, version, name), TABLE_SCHEMAS[name]);
      this.indexTable(name, tables[name]);
    }
    this.tables = tables as TableRecords;
    this.checkForeignKeys();
    this.buildReverseIndexes();
    const sideFile = tablePath(root, version, 'bevzip_frame');
    if (existsSync(sideFile)) {
      readTable(sideFile, bevzipFrameSchema).forEach((rec, i) => {
        this.resolve('sample', rec.token, { file: sideFile, index: i, token: rec.token, field: 'token' });
        this.bevzipFrames.set(rec.token, rec);
      });
    }
  }

  /** The record of `table` with `token`; a {@link NuScenesFormatError} if there is none. */
  get<T extends TableName>(table: T, token: string): TableRecords[T][number] {
    return this.resolve(table, token, { file: this.file(table), field: 'token' });
  }

  /** Whether `table` holds `token`. */
  has(table: TableName, token: string): boolean {
    return this.byToken.get(table)?.has(token) ?? false;
  }

  /** Key-frame sample_data tokens of a sample, by channel (devkit `sample['data']`). */
  sampleData(sampleToken: string): Readonly<Record<string, string>> {
    return this.sampleDataByChannel.get(sampleToken) ?? {};
  }

  /** Annotation tokens of a sample in table order (devkit `sample['anns']`). */
  annotations(sampleToken: string): readonly string[] {
    return this.sampleAnns.get(sampleToken) ?? [];
  }

  /** Channel and modality of a sample_data record. */
  sensorOf(sampleDataToken: string): { channel: string; modality: string } {
    const found = this.channels.get(sampleDataToken);
    if (found === undefined) this.get('sample_data', sampleDataToken);
    return found as { channel: string; modality: string };
  }

  /** Category name of an annotation, through its instance. */
  categoryOf(ann: SampleAnnotationRecord): string {
    return this.get('category', this.get('instance', ann.instance_token).category_token).name;
  }

  /** Path of a table's file, for error messages. */
  file(table: string): string {
    return tablePath(this.root, this.version, table);
  }

  private resolve<T extends TableName>(
    table: T,
    token: string,
    from: { file: string; index?: number; token?: string; field: string },
  ): TableRecords[T][number] {
    const rec = this.byToken.get(table)?.get(token);
    if (rec === undefined) {
      throw new NuScenesFormatError({
        file: from.file,
        record: from.index === undefined ? undefined : describeRecord(from.index, from.token),
        field: from.field,
        expected: `a token of table "${table}"`,
        found: `dangling token "${token}"`,
      });
    }
    return rec as TableRecords[T][number];
  }

  private indexTable(name: TableName, records: AnyRecord[]): void {
    const map = new Map<string, AnyRecord>();
    records.forEach((rec, i) => {
      if (map.has(rec.token)) {
        throw new NuScenesFormatError({
          file: this.file(name),
          record: describeRecord(i, rec.token),
          field: 'token',
          expected: 'a token unique within the table',
          found: 'a duplicate',
        });
      }
      map.set(rec.token, rec);
    });
    this.byToken.set(name, map);
  }

  private checkForeignKeys(): void {
    for (const [table, field, target, kind] of FOREIGN_KEYS) {
      const records = this.tables[table] as unknown as Array<Record<string, string>>;
      records.forEach((rec, index) => {
        const value = rec[field];
        if (kind === 'optional' && value === '') return;
        this.resolve(target, value, { file: this.file(table), index, token: rec.token, field });
      });
    }
    this.tables.sample_annotation.forEach((rec, index) =>
      rec.attribute_tokens.forEach((tok, k) =>
        this.resolve('attribute', tok, {
          file: this.file('sample_annotation'),
          index,
          token: rec.token,
          field: `attribute_tokens.${k}`,
        }),
      ),
    );
    this.tables.map.forEach((rec, index) =>
      rec.log_tokens.forEach((tok, k) =>
        this.resolve('log', tok, {
          file: this.file('map'),
          index,
          token: rec.token,
          field: `log_tokens.${k}`,
        }),
      ),
    );
  }

  private buildReverseIndexes(): void {
    for (const sd of this.tables.sample_data as SampleDataRecord[]) {
      const cs = this.get('calibrated_sensor', sd.calibrated_sensor_token);
      const sensor = this.get('sensor', cs.sensor_token);
      this.channels.set(sd.token, { channel: sensor.channel, modality: sensor.modality });
      if (!sd.is_key_frame) continue;
      let data = this.sampleDataByChannel.get(sd.sample_token);
      if (data === undefined) this.sampleDataByChannel.set(sd.sample_token, (data = {}));
      data[sensor.channel] = sd.token;
    }
    for (const ann of this.tables.sample_annotation) {
      let anns = this.sampleAnns.get(ann.sample_token);
      if (anns === undefined) this.sampleAnns.set(ann.sample_token, (anns = []));
      anns.push(ann.token);
    }
    const mapped = new Set(this.tables.map.flatMap((m) => m.log_tokens));
    if (this.tables.map.length === 0) {
      throw new NuScenesFormatError({
        file: this.file('map'),
        expected: 'at least one map record with log_tokens',
      });
    }
    this.tables.log.forEach((log, index) => {
      if (!mapped.has(log.token)) {
        throw new NuScenesFormatError({
          file: this.file('log'),
          record: describeRecord(index, log.token),
          field: 'token',
          expected: "a log listed in some map record's log_tokens",
          found: 'a log without a map',
        });
      }
    });
  }

  /** Samples in table order. */
  get samples(): readonly SampleRecord[] {
    return this.tables.sample;
  }
}

import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { MapLabels } from '../data/types';
import { NuScenesFormatError } from './errors';

/** First 8 bytes of a bevzip map-label file. */
export const MAP_FILE_MAGIC = 'BEVZMAP1';

const headerSchema = z.object({
  classes: z.array(z.string().min(1)),
  xmin: z.number(),
  ymin: z.number(),
  cell: z.number().positive(),
  size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
});

/**
 * Serialises map labels: magic `BEVZMAP1`, uint32 LE header length, UTF-8 JSON header
 * `{classes, xmin, ymin, cell, size}`, then one uint8 0/1 mask per class (row i ↔ x, column j ↔ y).
 */
export function encodeMapLabels(map: MapLabels): Buffer {
  const [nx, ny] = map.size;
  if (map.masks.length !== map.classes.length) {
    throw new RangeError(`encodeMapLabels: ${map.classes.length} classes but ${map.masks.length} masks`);
  }
  map.masks.forEach((m, k) => {
    if (m.length !== nx * ny) {
      throw new RangeError(
        `encodeMapLabels: mask "${map.classes[k]}" has ${m.length} cells, expected ${nx}×${ny}`,
      );
    }
  });
  const header = Buffer.from(
    JSON.stringify({ classes: map.classes, xmin: map.xmin, ymin: map.ymin, cell: map.cell, size: map.size }),
    'utf8',
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  return Buffer.concat([
    Buffer.from(MAP_FILE_MAGIC, 'ascii'),
    len,
    header,
    ...map.masks.map((m) => Buffer.from(m)),
  ]);
}

/** Parses a map-label file written by {@link encodeMapLabels}; any inconsistency is an error. */
export function decodeMapLabels(bytes: Uint8Array, file: string): MapLabels {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAP_FILE_MAGIC) {
    throw new NuScenesFormatError({ file, expected: `a map-label file starting with "${MAP_FILE_MAGIC}"` });
  }
  const headerLength = buf.readUInt32LE(8);
  let header: z.infer<typeof headerSchema>;
  try {
    header = headerSchema.parse(JSON.parse(buf.toString('utf8', 12, 12 + headerLength)));
  } catch (err) {
    throw new NuScenesFormatError({
      file,
      field: 'header',
      expected: 'a JSON header {classes, xmin, ymin, cell, size}',
      found: (err as Error).message,
    });
  }
  const cells = header.size[0] * header.size[1];
  const body = 12 + headerLength;
  if (buf.length !== body + cells * header.classes.length) {
    throw new NuScenesFormatError({
      file,
      field: 'masks',
      expected: `${header.classes.length} masks of ${header.size[0]}×${header.size[1]} bytes (${body + cells * header.classes.length} bytes in all)`,
      found: `${buf.length} bytes`,
    });
  }
  const masks = header.classes.map(
    (_, k) => new Uint8Array(buf.subarray(body + k * cells, body + (k + 1) * cells)),
  );
  masks.forEach((m, k) => {
    if (m.some((v) => v > 1)) {
      throw new NuScenesFormatError({
        file,
        field: `masks.${header.classes[k]}`,
        expected: 'cells that are 0 or 1',
      });
    }
  });
  return { ...header, masks };
}

/** Reads a map-label file; see {@link decodeMapLabels}. */
export function readMapLabels(file: string): MapLabels {
  if (!existsSync(file)) {
    throw new NuScenesFormatError({ file, expected: 'the map-label file to exist', found: 'no such file' });
  }
  return decodeMapLabels(readFileSync(file), file);
}

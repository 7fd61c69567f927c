import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

// Zip format constants (PKWARE APPNOTE 4.3): signatures and the fixed header sizes we step over.
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_ENTRY_BYTES = 46;
const END_RECORD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const STORED = 0;
const DEFLATED = 8;

/** One file inside a zip archive. */
export interface ZipEntry {
  name: string;
  data: Buffer;
}

/**
 * Reads every file of a zip (stored or deflated entries, no zip64, no encryption: what yazl and
 * the Lambda packager write). Sizes come from the central directory, which is authoritative even
 * when a local header defers them to a data descriptor.
 */
export function readZip(zip: Buffer): ZipEntry[] {
  const end = findEndRecord(zip);
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(offset) !== CENTRAL_DIRECTORY_ENTRY) throw new Error(`zip: bad central directory at ${offset}`);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + CENTRAL_ENTRY_BYTES, offset + CENTRAL_ENTRY_BYTES + nameLength);
    offset += CENTRAL_ENTRY_BYTES + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;

    if (zip.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER) throw new Error(`zip: bad local header for ${name}`);
    const dataStart =
      localOffset + LOCAL_HEADER_BYTES + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    if (method === STORED) entries.push({ name, data: Buffer.from(raw) });
    else if (method === DEFLATED) entries.push({ name, data: inflateRawSync(raw) });
    else throw new Error(`zip: ${name} uses unsupported compression method ${method}`);
  }
  return entries;
}

/** Writes a zip's files under `dir`, refusing entries that would land outside it. */
export async function extractZip(zip: Buffer, dir: string): Promise<void> {
  const root = resolve(dir);
  for (const entry of readZip(zip)) {
    const path = resolve(join(root, entry.name));
    if (!path.startsWith(root + sep)) throw new Error(`zip: entry ${entry.name} escapes the target directory`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, entry.data);
  }
}

function findEndRecord(zip: Buffer): number {
  const lowest = Math.max(0, zip.length - END_RECORD_BYTES - MAX_COMMENT_BYTES);
  for (let offset = zip.length - END_RECORD_BYTES; offset >= lowest; offset -= 1) {
    if (zip.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) return offset;
  }
  throw new Error('zip: no end of central directory record (not a zip file?)');
}

import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import yazl from 'yazl';

/**
 * The mtime of every entry. Built from local date parts on purpose: zip stores DOS local time,
 * which yazl derives with getFullYear()/getHours(), so this gives the same bytes in every time zone.
 */
const FIXED_MTIME = new Date(2000, 0, 1, 0, 0, 0);
/** Regular file, rw-r--r--: Lambda only needs to read the code. */
const FILE_MODE = 0o100644;

/** Every regular file under `dir`, as zip paths (forward slashes), sorted byte-wise. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Zips `sourceDir` into `zipPath` reproducibly: sorted entries, fixed mtime, fixed mode, no
 * extended-timestamp field, maximum deflate level, so the same sources give the same bytes (and
 * the same CodeSha256, which lets `up` skip an unchanged upload).
 */
export async function buildLambdaZip(sourceDir: string, zipPath: string): Promise<void> {
  const files = await listFiles(sourceDir);
  if (files.length === 0) throw new Error(`buildLambdaZip: no files in ${sourceDir}`);
  const zip = new yazl.ZipFile();
  for (const file of files) {
    const data = await readFile(join(sourceDir, file));
    zip.addBuffer(data, file, { mtime: FIXED_MTIME, mode: FILE_MODE, forceDosTimestamp: true, compressionLevel: 9 });
  }
  await mkdir(dirname(zipPath), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(zipPath);
    out.once('error', reject);
    out.once('close', () => resolve());
    zip.outputStream.once('error', reject).pipe(out);
    zip.end();
  });
}

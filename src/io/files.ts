// Node file I/O: safetensors files and crash-safe (atomic) writes.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { parseSafetensors, parseSafetensorsF32, serializeSafetensors } from './safetensors.js';
import type { F32Tensor, SafetensorsContents, WritableTensor } from './safetensors.js';

export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  return parseSafetensors(await readBytes(path), path);
}

/** Reads a weights file as float32 tensors (F16/BF16/F64 are widened/rounded). */
export async function readSafetensorsF32(path: string): Promise<Map<string, F32Tensor>> {
  return parseSafetensorsF32(await readBytes(path), path);
}

export async function writeSafetensorsFile(
  path: string,
  tensors: ReadonlyMap<string, WritableTensor> | Readonly<Record<string, WritableTensor>>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

async function readBytes(path: string): Promise<Uint8Array> {
  const buf = await readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function tmpSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function writeAndSync(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// A rename is durable only once the directory entry itself is flushed.
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; best effort.
  } finally {
    await fh?.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Writes a file so that readers see either the old content or the new one,
 * never a prefix: temp file in the same directory, fsync, rename.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${tmpSuffix()}`);
  try {
    await writeAndSync(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
}

/** Marker in names of folders that are being written or being deleted. */
export const TMP_DIR_MARK = '.tmp-';
export const TRASH_DIR_MARK = '.trash-';

function checkRelative(name: string, dir: string): string {
  const n = normalize(name);
  if (!name || isAbsolute(name) || n === '..' || n.startsWith(`..${sep}`) || n.startsWith('../')) {
    throw new Error(`writeDirAtomic(${dir}): file name "${name}" must be a relative path inside the folder`);
  }
  return n;
}

/**
 * Writes a whole folder atomically: every file goes into `<dir>.tmp-<pid>-<rand>`
 * (fsynced), which is then renamed to `dir`. An existing `dir` is first renamed
 * to `<dir>.trash-<pid>-<rand>` and deleted after the new one is in place, so
 * a crash leaves either the old folder, or the new one, or (between the two
 * renames) the old one under its trash name: never a half-written folder.
 * File names may contain sub-folders ("onnx/model.onnx").
 */
export async function writeDirAtomic(dir: string, files: Readonly<Record<string, Uint8Array | string>>): Promise<void> {
  const target = normalize(dir).replace(/[\\/]+$/, '');
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const suffix = tmpSuffix();
  const tmp = `${target}${TMP_DIR_MARK}${suffix}`;
  const trash = `${target}${TRASH_DIR_MARK}${suffix}`;
  try {
    await mkdir(tmp);
    const subdirs = new Set<string>([tmp]);
    for (const [name, data] of Object.entries(files)) {
      const rel = checkRelative(name, dir);
      const path = join(tmp, rel);
      const sub = dirname(path);
      if (!subdirs.has(sub)) {
        await mkdir(sub, { recursive: true });
        subdirs.add(sub);
      }
      await writeAndSync(path, data);
    }
    for (const sub of subdirs) await syncDir(sub);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const hadOld = await exists(target);
  if (hadOld) await rename(target, trash);
  try {
    await rename(tmp, target);
  } catch (e) {
    if (hadOld) await rename(trash, target);
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await syncDir(parent);
  if (hadOld) await rm(trash, { recursive: true, force: true });
}

/**
 * Deletes a folder so that a crash never leaves it half deleted under its own name: it is first renamed to
 * `<dir>.tmp-<pid>-<rand>` (atomic), then deleted. A crash in between leaves a temporary folder, which
 * recoverInterruptedWrites deletes. A missing folder is not an error.
 */
export async function removeDirAtomic(dir: string): Promise<void> {
  const target = normalize(dir).replace(/[\\/]+$/, '');
  const doomed = `${target}${TMP_DIR_MARK}${tmpSuffix()}`;
  try {
    await rename(target, doomed);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await syncDir(dirname(target));
  await rm(doomed, { recursive: true, force: true });
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finishes or undoes writeDirAtomic calls that a crash interrupted, for the
 * folders directly inside `parent`. A `<dir>.trash-S` without `<dir>` means
 * the crash came between the two renames: `<dir>.tmp-S` is then complete and
 * becomes `<dir>` (or, without it, the old folder is restored). Other
 * leftovers are deleted. Writes of processes still alive are left alone.
 * Returns what it did, one line per action.
 */
export async function recoverInterruptedWrites(parent: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const re = /^(.+)(\.tmp-|\.trash-)(\d+)-([0-9a-f]+)$/;
  const present = new Set(names);
  const actions: string[] = [];
  const leftovers = names
    .map((name) => ({ name, m: re.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null && !pidAlive(Number(x.m[3])));
  // Trash first: restoring decides what happens to the matching tmp folder.
  leftovers.sort((a, b) => (a.m[2] === TRASH_DIR_MARK ? 0 : 1) - (b.m[2] === TRASH_DIR_MARK ? 0 : 1));
  for (const { name, m } of leftovers) {
    if (!present.has(name)) continue;
    const [, base, mark, pid, rand] = m;
    const target = join(parent, base!);
    if (mark === TRASH_DIR_MARK && !present.has(base!)) {
      const tmpName = `${base}${TMP_DIR_MARK}${pid}-${rand}`;
      const from = present.has(tmpName) ? tmpName : name;
      await rename(join(parent, from), target);
      present.delete(from);
      present.add(base!);
      actions.push(`restored ${target} from ${from}`);
      if (from === name) continue;
    }
    await rm(join(parent, name), { recursive: true, force: true });
    present.delete(name);
    actions.push(`deleted ${join(parent, name)}`);
  }
  if (actions.length) await syncDir(parent);
  return actions;
}

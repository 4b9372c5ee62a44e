// Node file I/O: safetensors files and crash-safe (atomic) writes.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import {
  decodeTensor, f32TensorOf, parseSafetensorsHeader, safetensorsHeaderLength, serializeSafetensors,
} from './safetensors.js';
import type { F32Tensor, ParsedHeader, RawTensor, SafetensorsContents, SafetensorsDtype, WritableTensor } from './safetensors.js';

type Handle = Awaited<ReturnType<typeof open>>;

async function readAt(fh: Handle, position: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
  return out;
}

/** Reads and validates the header only: the first 8 bytes, then the header's N bytes; the data is not read. */
async function headerOf(fh: Handle, path: string): Promise<ParsedHeader> {
  const size = (await fh.stat()).size;
  const n = safetensorsHeaderLength(size >= 8 ? await readAt(fh, 0, 8) : new Uint8Array(0), size, path);
  return parseSafetensorsHeader(await readAt(fh, 8, n), size, path);
}

/**
 * Opens a safetensors file, reads its header (without loading the data) and then only the tensors `pick` keeps
 * (all when omitted), each from its own offsets.
 */
async function readTensors(path: string, pick?: (name: string) => boolean): Promise<{ header: ParsedHeader; tensors: Map<string, RawTensor> }> {
  const fh = await open(path, 'r');
  try {
    const header = await headerOf(fh, path);
    const tensors = new Map<string, RawTensor>();
    for (const name of [...header.entries.keys()].sort()) {
      if (pick && !pick(name)) continue;
      const e = header.entries.get(name)!;
      tensors.set(name, decodeTensor(e, await readAt(fh, header.dataStart + e.begin, e.end - e.begin)));
    }
    return { header, tensors };
  } finally {
    await fh.close();
  }
}

/** Names, dtypes and shapes of a safetensors file, and its metadata, reading only the header's bytes. */
export async function readSafetensorsHeaderFile(path: string): Promise<{
  tensors: Map<string, { dtype: SafetensorsDtype; shape: number[] }>;
  metadata: Record<string, string>;
}> {
  const fh = await open(path, 'r');
  try {
    const { entries, metadata } = await headerOf(fh, path);
    return { tensors: new Map([...entries.values()].map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])), metadata };
  } finally {
    await fh.close();
  }
}

export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  const { header, tensors } = await readTensors(path);
  return { tensors, metadata: header.metadata };
}

/**
 * Reads a weights file as float32 tensors (F16/BF16/F64 are widened/rounded); with `names`, only those tensors'
 * bytes are read. A tensor of another dtype (BOOL, U8, I64, ...) is refused only when its data is used.
 */
export async function readSafetensorsF32(path: string, names?: Iterable<string>): Promise<Map<string, F32Tensor>> {
  const wanted = names ? new Set(names) : undefined;
  const { tensors } = await readTensors(path, wanted && ((n) => wanted.has(n)));
  const out = new Map<string, F32Tensor>();
  for (const [name, t] of tensors) out.set(name, f32TensorOf(t, `${path}: tensor "${name}"`));
  return out;
}

export async function writeSafetensorsFile(
  path: string,
  tensors: ReadonlyMap<string, WritableTensor> | Readonly<Record<string, WritableTensor>>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
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

/** Whether a process with this id is running (this process counts). */
export function pidAlive(pid: number): boolean {
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

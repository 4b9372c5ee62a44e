// Checks, before any work starts, that an output folder can be written: the error names the flag and says what
// is wrong in one line. (A recursive mkdir under /proc spins forever in Node, so nothing here uses one.)
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'unknown error';
}

function reason(e: unknown): string {
  switch (code(e)) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENAMETOOLONG':
      return 'name too long';
    case 'ENOENT': // procfs and the like answer a mkdir in an existing folder with ENOENT
      return 'the file system does not allow it';
    default:
      return code(e);
  }
}

/**
 * Throws `<flag> <dir>: ...` unless `dir` is a folder that can be written, or one that can be created. It leaves
 * the file system as it found it: missing folders are created one level at a time as a probe, then removed.
 */
export function checkOutputDir(flag: string, dir: string): void {
  const where = `${flag} ${dir}`;
  if (!dir.trim()) throw new Error(`${flag}: expected a folder, got an empty name`);
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      if (!statSync(cur).isDirectory()) throw new Error(cur === abs ? `${where}: is a file, not a folder` : `${where}: ${cur} is a file, not a folder`);
      break;
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c === undefined) throw e;
      const parent = path.dirname(cur);
      if ((c !== 'ENOENT' && c !== 'ENOTDIR') || parent === cur) throw new Error(`${where}: cannot use the folder (${reason(e)})`);
      missing.unshift(cur);
      cur = parent;
    }
  }
  const made: string[] = [];
  try {
    if (missing.length === 0) {
      const probe = path.join(abs, `.pretrain-probe-${process.pid}`);
      try {
        mkdirSync(probe);
        made.push(probe);
      } catch (e) {
        if (code(e) !== 'EEXIST') throw new Error(`${where}: cannot write to the folder (${reason(e)})`);
      }
      return;
    }
    for (const d of missing) {
      try {
        mkdirSync(d);
        made.push(d);
      } catch (e) {
        throw new Error(`${where}: cannot create the folder (${reason(e)})`);
      }
    }
  } finally {
    for (const d of made.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // best effort: a probe folder left behind is empty
      }
    }
  }
}

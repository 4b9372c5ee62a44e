// Append-only JSON-lines training log (log.jsonl): one object per train step
// or evaluation. Each record is written with one write() call, so a crash can
// only tear the last line; the reader skips such a line.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { JsonObject, JsonValue } from '../io/json.js';
import { writeFileAtomic } from '../io/files.js';

/** A log line. `kind` is e.g. "train" or "eval"; `step` the optimizer step. */
export interface LogRecord {
  kind: string;
  step: number;
  [field: string]: JsonValue;
}

export interface ParsedLog {
  records: LogRecord[];
  /** The file ended in an incomplete line (a crash mid-write), which was skipped. */
  tornTail: boolean;
}

function isRecord(v: unknown): v is LogRecord {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as JsonObject).kind === 'string' && typeof (v as JsonObject).step === 'number';
}

/** Parses log text. A bad line anywhere but at the unterminated end is an error naming the line. */
export function parseLog(text: string, file: string): ParsedLog {
  const lines = text.split('\n');
  // The text after the last newline is either '' or a torn line.
  const tail = lines.pop()!;
  const records: LogRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (!isRecord(v)) throw new Error(`${file}:${i + 1}: a log record must be an object with a string "kind" and a number "step"`);
    records.push(v);
  });
  let tornTail = false;
  if (tail.trim()) {
    try {
      const v: unknown = JSON.parse(tail);
      // Complete JSON cut just before its newline is still a good record.
      if (isRecord(v)) records.push(v);
      else tornTail = true;
    } catch {
      tornTail = true;
    }
  }
  return { records, tornTail };
}

/** Reads log.jsonl; a missing file is an empty log. */
export async function readLog(path: string): Promise<ParsedLog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], tornTail: false };
    throw e;
  }
  return parseLog(text, path);
}

export interface LogWriterOptions {
  /**
   * Resuming from a checkpoint at this step: records with a larger step
   * (written after that checkpoint, before the crash) are dropped first, so
   * the log describes one consistent run.
   */
  resumeStep?: number;
  /** fsync after every record (slower; survives power loss, not only crashes). */
  fsync?: boolean;
}

export class LogWriter {
  private fd: number | undefined;

  private constructor(readonly path: string, fd: number, private readonly fsync: boolean) {
    this.fd = fd;
  }

  /** Opens for appending, repairing a torn last line first (and trimming to resumeStep). */
  static async open(path: string, opts: LogWriterOptions = {}): Promise<LogWriter> {
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      const { records, tornTail } = parseLog(text, path);
      const keep = opts.resumeStep === undefined ? records : records.filter((r) => r.step <= opts.resumeStep!);
      if (tornTail || keep.length !== records.length || (text.length > 0 && !text.endsWith('\n'))) {
        await writeFileAtomic(path, keep.map((r) => `${JSON.stringify(r)}\n`).join(''));
      }
    }
    return new LogWriter(path, openSync(path, 'a'), opts.fsync ?? false);
  }

  /** Appends one record (adds "time", an ISO timestamp, unless given). */
  append(record: LogRecord): void {
    if (this.fd === undefined) throw new Error(`${this.path}: log is closed`);
    const full = 'time' in record ? record : { ...record, time: new Date().toISOString() };
    writeSync(this.fd, `${JSON.stringify(full)}\n`);
    if (this.fsync) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

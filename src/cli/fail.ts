// How every command reports an error: one line on stderr, exit status 1. PRETRAIN_DEBUG=1 adds the stack trace.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function fail(e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  console.error(`pretrain: ${message}`);
  if (process.env.PRETRAIN_DEBUG && process.env.PRETRAIN_DEBUG !== '0')
    for (let c: unknown = e; c instanceof Error; c = c.cause) console.error(c === e ? c.stack : `caused by: ${c.stack}`);
  process.exit(1);
}

/** This package's version, from the package.json above this file (dist/src/cli or src/cli). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'pretrain' && pkg.version) return pkg.version;
    } catch {
      // no package.json here; look further up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

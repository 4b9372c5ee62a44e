// Runs the `pretrain` CLI (the built one under dist/, or the sources through tsx) in a child process.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const isTs = import.meta.url.endsWith('.ts');
const main = path.join(here, '..', '..', 'src', 'cli', isTs ? 'main.ts' : 'main.js');

export function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [...(isTs ? ['--import', 'tsx'] : []), main, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

// The built `pretrain` command as a user runs it (tsx when the tests run from TypeScript).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const isTs = import.meta.url.endsWith('.ts');
export const main = path.join(here, '..', '..', 'src', 'cli', isTs ? 'main.ts' : 'main.js');
/** Node's arguments before `main` (tsx under TypeScript). */
export const nodeArgs: string[] = isTs ? ['--import', 'tsx'] : [];

export function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [...nodeArgs, main, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

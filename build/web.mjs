// npm run build, after tsc: bundles the playground (dist/web/playground.js) and the browser library
// (dist/web/pretrain.js) with esbuild, copies the page and writes the bundled Brown sample. onnxruntime-web stays
// external: `pretrain serve` serves its files from the installed package under /ort/.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { brownDocuments } from '../dist/src/data/brown.js';

const out = 'dist/web';
mkdirSync(out, { recursive: true });
const common = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', external: ['onnxruntime-web'], sourcemap: true, minify: true, logLevel: 'warning' };
await build({ ...common, entryPoints: ['src/browser/page.ts'], outfile: `${out}/playground.js` });
await build({ ...common, entryPoints: ['src/browser/index.ts'], outfile: `${out}/pretrain.js` });
copyFileSync('src/browser/index.html', `${out}/index.html`);
// The first 30 Brown training documents (about 60k words), one sentence a line, a blank line between documents.
const docs = brownDocuments('train').slice(0, 30);
writeFileSync(`${out}/brown-sample.txt`, `${docs.map((d) => d.sentences.join('\n')).join('\n\n')}\n`);

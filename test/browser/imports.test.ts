// The browser entry points import nothing from Node and no native package: esbuild bundles them for the browser
// platform (where `node:*`, `fs`, `path` ... do not resolve) and the bundle's inputs are checked by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

const NODE_ONLY = /^(node:|fs$|path$|os$|crypto$|module$|url$|child_process$|worker_threads$)/;
const NATIVE = ['tokenizers', 'onnxruntime-node', '@anush008/tokenizers'];

for (const entry of ['src/browser/index.ts', 'src/browser/page.ts']) {
  test(`${entry} reaches no Node module and no native package`, async () => {
    const r = await build({
      entryPoints: [entry], bundle: true, write: false, metafile: true, format: 'esm', platform: 'browser', logLevel: 'silent',
      external: ['onnxruntime-web'],
    }).catch((e: { errors?: Array<{ text: string; location?: { file: string } | null }> }) => {
      assert.fail(`esbuild could not bundle ${entry} for the browser:\n${(e.errors ?? []).map((x) => `${x.location?.file ?? ''}: ${x.text}`).join('\n')}`);
    });
    const imports = Object.values(r.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
    assert.deepEqual(imports.filter((p) => NODE_ONLY.test(p)), [], 'Node built-in modules');
    const inputs = Object.keys(r.metafile.inputs);
    const native = inputs.filter((f) => NATIVE.some((n) => f.includes(`node_modules/${n}/`)));
    assert.deepEqual(native, [], 'native packages');
    assert.ok(inputs.some((f) => f.endsWith('src/runtime/web.ts')), 'the web backend is in the bundle');
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensorsFile, recoverInterruptedWrites, writeDirAtomic, writeFileAtomic, writeSafetensorsFile } from '../../src/io/files.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'pretrain-files-'));
}

// A pid that is certainly not running: above the Linux maximum.
const DEAD_PID = 4194305;

test('writeFileAtomic replaces a file and leaves no temp files', async () => {
  const root = tmp();
  try {
    const p = join(root, 'sub', 'a.json');
    await writeFileAtomic(p, 'one');
    await writeFileAtomic(p, new Uint8Array([0x74, 0x77, 0x6f]));
    assert.equal(readFileSync(p, 'utf8'), 'two');
    assert.deepEqual(readdirSync(join(root, 'sub')), ['a.json']);
    await writeSafetensorsFile(join(root, 'w.safetensors'), { w: { shape: [1], data: new Float32Array([2]) } });
    const { tensors } = await readSafetensorsFile(join(root, 'w.safetensors'));
    assert.deepEqual([...tensors.get('w')!.data], [2]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('writeDirAtomic creates, replaces as a whole, supports sub-folders and rejects escaping names', async () => {
  const root = tmp();
  try {
    const d = join(root, 'ck');
    await writeDirAtomic(d, { 'a.txt': 'A', 'onnx/model.onnx': new Uint8Array([1]) });
    assert.deepEqual(readdirSync(d).sort(), ['a.txt', 'onnx']);
    await writeDirAtomic(d, { 'b.txt': 'B' });
    assert.deepEqual(readdirSync(d), ['b.txt']);
    assert.deepEqual(readdirSync(root), ['ck'], 'no tmp or trash folder left');
    await assert.rejects(writeDirAtomic(d, { '../evil': 'x' }), /must be a relative path inside the folder/);
    await assert.rejects(writeDirAtomic(d, { '/etc/evil': 'x' }), /must be a relative path inside the folder/);
    assert.deepEqual(readdirSync(d), ['b.txt'], 'a failed write leaves the old folder');
    assert.deepEqual(readdirSync(root), ['ck']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('recoverInterruptedWrites completes or undoes writes cut by a crash', async () => {
  const root = tmp();
  try {
    const mk = (name: string, file: string) => {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, file), file);
    };
    // Crash between the two renames: old at trash, complete new at tmp -> new wins.
    mk(`a.trash-${DEAD_PID}-aa`, 'old');
    mk(`a.tmp-${DEAD_PID}-aa`, 'new');
    // Crash between the renames with no new folder (cannot happen, but be safe): old restored.
    mk(`b.trash-${DEAD_PID}-bb`, 'old');
    // Crash while writing: half-written tmp deleted, existing folder kept.
    mk('c', 'old');
    mk(`c.tmp-${DEAD_PID}-cc`, 'half');
    // Crash after the second rename: trash deleted.
    mk('d', 'new');
    mk(`d.trash-${DEAD_PID}-dd`, 'old');
    // A write in progress by a live process (us) is left alone.
    mk(`e.tmp-${process.pid}-ee`, 'busy');
    const actions = await recoverInterruptedWrites(root);
    assert.equal(actions.length, 5);
    assert.deepEqual(readdirSync(root).sort(), ['a', 'b', 'c', 'd', `e.tmp-${process.pid}-ee`]);
    assert.ok(existsSync(join(root, 'a', 'new')));
    assert.ok(existsSync(join(root, 'b', 'old')));
    assert.ok(existsSync(join(root, 'c', 'old')));
    assert.ok(existsSync(join(root, 'd', 'new')));
    assert.deepEqual(await recoverInterruptedWrites(join(root, 'missing')), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

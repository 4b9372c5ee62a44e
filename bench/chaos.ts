// `npm run chaos`: kill a training run with SIGKILL at random moments (during start-up, steps, evaluations and
// checkpoint writes), resume it with `--resume` each time, and check that it ends exactly where an uninterrupted
// run ends: the same log (losses and evaluations bit for bit), the same final weights and optimizer state, complete
// checkpoint folders only, and no leftovers of interrupted writes. Exits non-zero on any mismatch.
//
//   npm run chaos -- [--kills 24] [--seed 1] [--max-steps 240] [--dir DIR] [--keep]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CHECKPOINT_FILES, listCheckpoints, loadCheckpoint } from '../src/io/checkpoint.js';
import { parseLog, type LogRecord } from '../src/train/log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cliMain = path.join(here, '..', 'src', 'cli', 'main.js');

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '24' },
    seed: { type: 'string', default: '1' },
    'max-steps': { type: 'string', default: '240' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const KILLS = Number(args.kills);
const MAX_STEPS = Number(args['max-steps']);
const EVAL_EVERY = 7;
const SAVE_EVERY = 3;
const KEEP_LAST = 2;

// A seeded generator for the kill times (the moments they land still depend on the machine's timing).
let rngState = (Number(args.seed) >>> 0) || 1;
function random(): number {
  rngState = (rngState * 1103515245 + 12345) >>> 0;
  return rngState / 2 ** 32;
}

const dir = args.dir ? path.resolve(args.dir) : mkdtempSync(path.join(os.tmpdir(), 'pretrain-chaos-'));
const corpusFile = path.join(dir, 'corpus.txt');
const refDir = path.join(dir, 'reference');
const runDir = path.join(dir, 'chaos');

/** 40 documents of 4 sentences: the run passes this corpus many times (epoch boundaries are crossed). */
function writeCorpus(): void {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'house', 'red', 'big', 'small', 'under', 'tree'];
  let s = 3;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const docs = Array.from({ length: 40 }, () =>
    Array.from({ length: 4 }, () => Array.from({ length: 8 }, () => words[Math.floor(rand() * words.length)]).join(' ') + '.').join(' '));
  writeFileSync(corpusFile, docs.join('\n\n') + '\n');
}

/** The training flags: a tiny GPT-2 (1 layer, hidden 32), dropout on, 2 micro-batches a step, frequent evaluations and checkpoints. */
function trainFlags(out: string, tokenizer?: string): string[] {
  return ['train', '--arch', 'gpt2', '--corpus', corpusFile, '--out', out, '--vocab-size', '300', ...(tokenizer ? ['--tokenizer', tokenizer] : []),
    '--layers', '1', '--hidden', '32', '--heads', '2', '--seq-len', '16', '--batch-size', '4', '--grad-accum', '2',
    '--max-steps', String(MAX_STEPS), '--warmup', '10', '--lr', '3e-3', '--eval-every', String(EVAL_EVERY), '--eval-batches', '8',
    '--save-every', String(SAVE_EVERY), '--keep-last', String(KEEP_LAST), '--seed', '11', '--dropout', '0.1'];
}

interface Child {
  pid: number;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill: () => void;
}

function launch(argv: string[]): Child {
  const child = spawn(process.execPath, [cliMain, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { pid: child.pid!, stderr: () => stderr, done, kill: () => child.kill('SIGKILL') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readRecords(run: string): { records: LogRecord[]; tornTail: boolean } {
  const file = path.join(run, 'log.jsonl');
  if (!existsSync(file)) return { records: [], tornTail: false };
  return parseLog(readFileSync(file, 'utf8'), file);
}

const lastTrainStep = (records: LogRecord[]) => records.filter((r) => r.kind === 'train').at(-1)?.step ?? 0;

/** The records a process launched at `since` (ms since the epoch) wrote; older ones may still be there until it trims the log. */
const writtenSince = (records: LogRecord[], since: number) => records.filter((r) => typeof r.time === 'string' && Date.parse(r.time) >= since);

const REQUIRED = [CHECKPOINT_FILES.config, CHECKPOINT_FILES.model, CHECKPOINT_FILES.optimizer, CHECKPOINT_FILES.trainerState,
  CHECKPOINT_FILES.tokenizer, CHECKPOINT_FILES.tokenizerConfig, CHECKPOINT_FILES.generationConfig];

/** Problems with the checkpoint folders of a run: every checkpoint-<step> must be complete and loadable. */
async function checkCheckpoints(run: string): Promise<string[]> {
  const problems: string[] = [];
  for (const { step, dir: ck } of await listCheckpoints(run)) {
    const missing = REQUIRED.filter((f) => !existsSync(path.join(ck, f)));
    if (missing.length) {
      problems.push(`${path.basename(ck)} is incomplete: no ${missing.join(', ')}`);
      continue;
    }
    try {
      const c = await loadCheckpoint(ck, { requireTokenizer: true, requireTrainerState: true });
      const s = c.trainerState as { step?: number };
      if (s.step !== step) problems.push(`${path.basename(ck)}: trainer_state.json says step ${s.step}`);
    } catch (e) {
      problems.push(`${path.basename(ck)} does not load: ${(e as Error).message}`);
    }
  }
  return problems;
}

/** Leftovers of interrupted writes anywhere under a folder (temporary and trash files and folders). */
function leftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (/\.(tmp|trash)-\d+-[0-9a-f]+$/.test(e.name)) out.push(path.relative(root, p));
      else if (e.isDirectory()) walk(p);
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

/** The checkpoint a resume should pick now: the newest complete checkpoint-<step>, or one whose replacement was interrupted between its two renames. */
async function expectedResumeStep(run: string): Promise<number> {
  const steps = (await listCheckpoints(run)).map((c) => c.step);
  const names = existsSync(run) ? readdirSync(run) : [];
  for (const n of names) {
    const m = /^checkpoint-(\d+)\.trash-(\d+-[0-9a-f]+)$/.exec(n);
    if (m && !names.includes(`checkpoint-${m[1]}`)) steps.push(Number(m[1]));
  }
  return steps.length ? Math.max(...steps) : 0;
}

/** Where a kill of process `pid` landed, from what it left in the run folder and its log. */
function whereKilled(run: string, pid: number, since: number, records: LogRecord[]): string {
  const names = existsSync(run) ? readdirSync(run) : [];
  if (names.some((n) => /^checkpoint-\d+\.trash-/.test(n) && n.includes(`-${pid}-`))) return 'checkpoint write (between the renames)';
  if (names.some((n) => /^checkpoint-\d+\.tmp-/.test(n) && n.includes(`.tmp-${pid}-`))) return 'checkpoint write (files being written)';
  const tmpFile = names.find((n) => n.startsWith('.') && n.includes(`.tmp-${pid}-`));
  if (tmpFile?.startsWith('.loss.svg.')) return 'writing loss.svg (after an evaluation)';
  if (tmpFile) return /^\.(log\.jsonl|train_config\.json)\./.test(tmpFile) ? 'start-up (writing the log or settings)' : 'final save into the run folder';
  const mine = writtenSince(records, since);
  if (!mine.some((r) => r.kind === 'train')) return 'start-up (before its first step)';
  const step = lastTrainStep(mine);
  const evalDue = step % EVAL_EVERY === 0 || step === MAX_STEPS;
  if (evalDue && !records.some((r) => r.kind === 'eval' && r.step === step)) return 'evaluation';
  const saveDue = step % SAVE_EVERY === 0 || step === MAX_STEPS;
  if (saveDue && !existsSync(path.join(run, `checkpoint-${step}`))) return 'checkpoint (serialising, before its temporary folder)';
  if (saveDue && names.filter((n) => /^checkpoint-\d+$/.test(n)).length > KEEP_LAST) return 'checkpoint (pruning old checkpoints)';
  return 'training step';
}

function sameBytes(a: string, b: string): boolean {
  return existsSync(a) && existsSync(b) && readFileSync(a).equals(readFileSync(b));
}

/** The log's records without their timestamps, as JSON lines: equal strings mean equal numbers, bit for bit. */
function logLines(records: LogRecord[]): string[] {
  return records.map(({ time: _time, ...r }) => JSON.stringify(r));
}

async function main(): Promise<number> {
  const t0 = performance.now();
  writeCorpus();
  console.log(`chaos: ${dir}; ${KILLS} kills of a ${MAX_STEPS}-step run (gpt2 1x32, grad-accum 2, eval every ${EVAL_EVERY}, checkpoint every ${SAVE_EVERY}, keep ${KEEP_LAST})`);

  // 1. The uninterrupted reference run; its timing sizes the kill windows.
  const tRef = performance.now();
  const ref = await launch(trainFlags(refDir)).done;
  if (ref.code !== 0) throw new Error(`the reference run failed (exit ${ref.code}):\n${ref.stderr}`);
  const refWall = performance.now() - tRef;
  const refRecords = readRecords(refDir).records;
  const times = refRecords.filter((r) => r.kind === 'train').map((r) => Date.parse(r.time as string));
  const msPerStep = (times.at(-1)! - times[0]) / Math.max(1, times.length - 1);
  const startupMs = Math.max(500, refWall - (times.at(-1)! - times[0]) - 500);
  console.log(`reference: ${(refWall / 1000).toFixed(1)} s, ${msPerStep.toFixed(1)} ms a step (evaluations and checkpoints included), start-up about ${(startupMs / 1000).toFixed(1)} s`);

  // 2. The chaos run: kill, check what is on disk, resume; until the run finishes on its own. The kills are planned
  // at random steps in increasing order (a resume goes back at most to the last checkpoint, so each planned step
  // is reached again), each aimed at start-up, the step itself, the evaluation after it or the checkpoint after it;
  // the moment within that phase is a random delay.
  type Aim = 'start-up' | 'step' | 'evaluation' | 'checkpoint';
  const plan: { step: number; aim: Aim }[] = [];
  for (let i = 0; i < KILLS; i++) {
    const r = random();
    const aim: Aim = r < 0.12 ? 'start-up' : r < 0.45 ? 'step' : r < 0.7 ? 'evaluation' : 'checkpoint';
    let step = 1 + Math.floor(random() * (MAX_STEPS - 2));
    const due = aim === 'evaluation' ? (s: number) => s % EVAL_EVERY === 0 : aim === 'checkpoint' ? (s: number) => s % SAVE_EVERY === 0 && s % EVAL_EVERY !== 0 : () => true;
    while (!due(step) && step < MAX_STEPS - 1) step++;
    plan.push({ step, aim });
  }
  plan.sort((x, y) => x.step - y.step);
  const tokenizer = path.join(refDir, 'tokenizer');
  const landed = new Map<string, number>();
  const problems: string[] = [];
  let kills = 0;
  let resumes = 0;
  let freshStarts = 0;
  let redone = 0;
  let leftoversSeen = 0;
  let tornLogs = 0;
  let tornPlots = 0;
  let final: Awaited<Child['done']> | undefined;
  for (let launchNo = 1; ; launchNo++) {
    if (launchNo > KILLS * 3 + 10) throw new Error('the run never finished');
    const hasCheckpoint = (await listCheckpoints(runDir)).length > 0;
    const expected = hasCheckpoint ? await expectedResumeStep(runDir) : 0;
    let argv: string[];
    if (hasCheckpoint) {
      argv = ['train', '--out', runDir, '--resume'];
      resumes++;
    } else {
      // Killed before its first checkpoint: nothing to resume, start again.
      rmSync(runDir, { recursive: true, force: true });
      argv = trainFlags(runDir, tokenizer);
      if (launchNo > 1) freshStarts++;
    }
    const launchedAt = Date.now();
    const child = launch(argv);
    let exited = false;
    void child.done.then(() => (exited = true));
    if (kills < KILLS) {
      // The next planned kill: during start-up, or after the run reaches its step, then a random delay.
      const k = plan[kills];
      if (k.aim === 'start-up') {
        await sleep(random() * startupMs);
      } else {
        const mine = () => writtenSince(readRecords(runDir).records, launchedAt);
        while (!exited && lastTrainStep(mine()) < k.step) await sleep(1);
        await sleep(random() * (k.aim === 'evaluation' ? 60 : k.aim === 'checkpoint' ? 30 : msPerStep));
      }
      if (!exited) {
        const pid = child.pid;
        child.kill();
        const r = await child.done;
        if (r.signal !== 'SIGKILL') {
          // It finished just before the kill.
          if (r.code !== 0) throw new Error(`launch ${launchNo} failed (exit ${r.code}):\n${r.stderr}`);
          final = r;
        } else {
          kills++;
          const { records, tornTail } = readRecords(runDir);
          const where = whereKilled(runDir, pid, launchedAt, records);
          landed.set(where, (landed.get(where) ?? 0) + 1);
          if (tornTail) tornLogs++;
          const svg = path.join(runDir, 'loss.svg');
          if (existsSync(svg) && !readFileSync(svg, 'utf8').trimEnd().endsWith('</svg>')) {
            tornPlots++;
            problems.push(`after kill ${kills}: loss.svg is torn`);
          }
          leftoversSeen += leftovers(runDir).length;
          const bad = await checkCheckpoints(runDir);
          problems.push(...bad.map((p) => `after kill ${kills}: ${p}`));
          const next = await expectedResumeStep(runDir);
          const reached = lastTrainStep(writtenSince(records, launchedAt));
          redone += Math.max(0, reached - next);
          const aimed = plan[kills - 1];
          console.log(`kill ${String(kills).padStart(2)} (aimed: ${aimed.aim === 'start-up' ? 'start-up' : `${aimed.aim} ${aimed.step}`}): ${reached ? `at step ${String(reached).padStart(3)}` : 'no step yet'}, ${where}; resume will start at step ${next}`);
        }
      }
    }
    if (!final) {
      const r = await child.done;
      if (r.signal === 'SIGKILL') {
        // Killed above.
      } else if (r.code !== 0) throw new Error(`launch ${launchNo} failed (exit ${r.code}):\n${r.stderr}`);
      else final = r;
    }
    if (hasCheckpoint) {
      const m = /resuming from (.*)/.exec(child.stderr());
      const picked = m ? path.basename(m[1].trim()) : undefined;
      if (picked && picked !== `checkpoint-${expected}`) problems.push(`launch ${launchNo}: --resume picked ${picked}, expected checkpoint-${expected}`);
    }
    if (final) break;
  }
  const wall = (performance.now() - t0) / 1000;

  // 3. The chaos run must equal the reference.
  const got = readRecords(runDir);
  if (got.tornTail) problems.push('log.jsonl ends in a torn line');
  const a = logLines(refRecords);
  const b = logLines(got.records);
  const steps = got.records.filter((r) => r.kind === 'train').map((r) => r.step);
  if (steps.length !== MAX_STEPS || steps.some((s, i) => s !== i + 1)) problems.push(`log.jsonl does not hold steps 1..${MAX_STEPS} once each`);
  const firstDiff = a.findIndex((l, i) => l !== b[i]);
  if (firstDiff >= 0 || a.length !== b.length) {
    const i = firstDiff >= 0 ? firstDiff : Math.min(a.length, b.length);
    problems.push(`log.jsonl differs from the reference at record ${i + 1}:\n  reference: ${a[i]}\n  chaos:     ${b[i]}`);
  }
  const lastLoss = (rs: LogRecord[], kind: string) => rs.filter((r) => r.kind === kind).at(-1)?.loss;
  const finalLoss = { reference: lastLoss(refRecords, 'train'), chaos: lastLoss(got.records, 'train') };
  const finalEval = { reference: lastLoss(refRecords, 'eval'), chaos: lastLoss(got.records, 'eval') };
  if (!Object.is(finalLoss.reference, finalLoss.chaos)) problems.push(`final loss ${finalLoss.chaos} != ${finalLoss.reference}`);
  if (!Object.is(finalEval.reference, finalEval.chaos)) problems.push(`final eval loss ${finalEval.chaos} != ${finalEval.reference}`);
  const last = `checkpoint-${MAX_STEPS}`;
  for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'generation_config.json', 'onnx/model.onnx',
    `${last}/model.safetensors`, `${last}/optimizer.safetensors`, `${last}/trainer_state.json`, `${last}/onnx/model.onnx`]) {
    if (!sameBytes(path.join(refDir, f), path.join(runDir, f))) problems.push(`${f} differs from the reference's`);
  }
  const names = (d: string) => readdirSync(d).filter((n) => n.startsWith('checkpoint-')).sort();
  if (names(runDir).join() !== names(refDir).join()) problems.push(`checkpoint folders ${names(runDir).join(', ')} != the reference's ${names(refDir).join(', ')}`);
  problems.push(...(await checkCheckpoints(runDir)).map((p) => `at the end: ${p}`));
  const left = leftovers(runDir);
  if (left.length) problems.push(`leftovers of interrupted writes at the end: ${left.join(', ')}`);
  const svg = path.join(runDir, 'loss.svg');
  if (!existsSync(svg) || !readFileSync(svg, 'utf8').trimEnd().endsWith('</svg>')) problems.push('loss.svg is missing or torn');
  if (kills < KILLS) problems.push(`only ${kills} of ${KILLS} kills landed before the run finished (raise --max-steps)`);

  console.log('');
  console.log(`kills:        ${kills} (SIGKILL)`);
  for (const [where, n] of [...landed].sort((x, y) => y[1] - x[1])) console.log(`  ${String(n).padStart(3)}  ${where}`);
  console.log(`launches:     ${resumes + freshStarts + 1} (${resumes} with --resume, ${freshStarts} fresh starts after a kill before the first checkpoint)`);
  console.log(`steps redone: ${redone} (work lost to kills: steps after the newest checkpoint)`);
  console.log(`torn files:   log.jsonl with a torn last line after ${tornLogs} kills (repaired on resume); loss.svg torn after ${tornPlots}`);
  console.log(`leftovers:    ${leftoversSeen} temporary/trash entries seen after kills; ${left.length} at the end`);
  console.log(`final loss:   ${finalLoss.chaos} (reference ${finalLoss.reference}); final eval loss ${finalEval.chaos} (reference ${finalEval.reference})`);
  console.log(`weights:      ${problems.some((p) => p.includes('safetensors')) ? 'DIFFER' : 'model.safetensors and optimizer.safetensors equal the reference byte for byte'}`);
  console.log(`wall time:    ${wall.toFixed(0)} s (reference run ${(refWall / 1000).toFixed(1)} s)`);
  if (problems.length) {
    console.log(`RESULT: FAIL (${problems.length} problems)`);
    for (const p of problems) console.log(`  - ${p}`);
    console.log(`run folders kept in ${dir}`);
    return 1;
  }
  console.log(`RESULT: OK: the killed and resumed run equals the uninterrupted one bit for bit`);
  if (args.keep || args.dir) console.log(`run folders in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  return 0;
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(`chaos: ${(e as Error).stack ?? e}`);
  console.error(`run folders kept in ${dir}`);
  return 1;
});

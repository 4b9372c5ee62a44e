// `npm run bench -- profile ARCH`: ORT's per-node profile of training steps, folded by op type and by model part.
// Node names carry the scope of the module that built them (`part/fwd|bwd/path/Op_n`, see Graph.scope); nodes
// that ORT's optimiser creates by fusion get new names, so their part is read from their output tensor names
// (which keep the scope) in the optimised model ORT writes beside the profile.
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelProto } from '../src/graph/onnx-proto.js';
import { nodeBackend } from '../src/runtime/node.js';
import { TrainStep } from '../src/runtime/step.js';
import { bertDefaults, bertStep } from './bert.js';
import { newestProfile, pct, writeResult } from './common.js';
import { engineDefaults, engineStep, llamaStep, type BenchStep } from './engine.js';
import { t5Defaults, t5Step } from './t5.js';

export interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: {
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

export interface NodeScope {
  part: string;
  backward: boolean;
  path: string;
}

/** The scope a node or tensor name carries (`part/fwd|bwd/path/...`), or undefined. */
export function parseScope(name: string): NodeScope | undefined {
  const m = /^([a-z_]+)\/(fwd|bwd)\/([^/]*)\//.exec(name);
  return m ? { part: m[1], backward: m[2] === 'bwd', path: m[3] } : undefined;
}

export const MATMUL_OPS = new Set(['MatMul', 'FusedMatMul', 'Gemm', 'FusedGemm']);

const dims = (s: Record<string, number[]> | undefined): number[] | undefined => (s ? Object.values(s)[0] : undefined);

/**
 * FLOPs of one matmul from its input and output shapes: 2 * |out| * K, where K is A's inner dimension. A's
 * transpose flag is not in the profile; K is A's last dim unless A's second-last differs from the output's rows
 * (then A was transposed). When both equal M the two readings give the same K.
 */
export function matmulFlops(inputs: number[][], out: number[]): number | undefined {
  const a = inputs[0];
  if (!a || !out.length) return undefined;
  const size = out.reduce((x, y) => x * y, 1);
  if (a.length === 1) return 2 * size * a[0];
  const m = out.length >= 2 ? out[out.length - 2] : 1;
  const k = a[a.length - 2] === m ? a[a.length - 1] : a[a.length - 2];
  return 2 * size * k;
}

export interface ProfileRow {
  key: string;
  /** Kernel time per step, ms. */
  ms: number;
  /** Share of the step's wall time. */
  share: number;
  /** Kernel calls per step. */
  calls: number;
  /** For matmuls: GFLOP per step and the rate they ran at. */
  gflop?: number;
  gflops?: number;
}

export interface FoldedProfile {
  steps: number;
  stepMs: number;
  kernelMs: number;
  /** Share of the step's wall time outside ORT kernels (ORT's scheduling, allocation, our feeds). */
  outsideShare: number;
  byOp: ProfileRow[];
  byPart: ProfileRow[];
  /** Part and direction (forward, backward). */
  byPartDirection: ProfileRow[];
  /** Part, direction and op type: where each op's time goes. */
  byPartOp: ProfileRow[];
  matmulGflops: number;
}

/**
 * Folds the kernel events of the last `steps` model runs into per-step rows. `stepMs` is the step's wall time
 * (default: ORT's model_run duration); `scopeOf` names the scope of nodes whose name carries none.
 */
export function foldProfile(
  events: readonly ProfileEvent[],
  o: { steps: number; stepMs?: number; scopeOf?: (node: string) => NodeScope | undefined },
): FoldedProfile {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(-o.steps);
  if (runs.length === 0) throw new Error('profile: no model_run events');
  const steps = runs.length;
  const inRun = (e: ProfileEvent) => runs.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && inRun(e));
  const stepMs = o.stepMs ?? runs.reduce((s, r) => s + r.dur, 0) / steps / 1000;

  type Acc = { us: number; calls: number; flop: number; mmUs: number };
  const tables = { op: new Map<string, Acc>(), part: new Map<string, Acc>(), dir: new Map<string, Acc>(), partOp: new Map<string, Acc>() };
  const bump = (m: Map<string, Acc>, key: string, us: number, flop: number | undefined) => {
    const a = m.get(key) ?? { us: 0, calls: 0, flop: 0, mmUs: 0 };
    a.us += us;
    a.calls++;
    if (flop !== undefined) {
      a.flop += flop;
      a.mmUs += us;
    }
    m.set(key, a);
  };
  let kernelUs = 0;
  let mmFlop = 0;
  let mmUs = 0;
  let previous: NodeScope | undefined;
  for (const e of [...kernels].sort((x, y) => x.ts - y.ts)) {
    const node = e.name.slice(0, -'_kernel_time'.length);
    const op = e.args?.op_name ?? node.replace(/^.*\//, '').replace(/_\d+$/, '');
    // Last resort (nodes ORT names afresh and saves without a name, such as those it inlines from
    // SoftmaxCrossEntropyLoss): the part of the kernel that ran just before, which produced their input.
    const scope = parseScope(node) ?? o.scopeOf?.(node) ?? previous;
    previous = scope;
    const part = scope?.part ?? 'other';
    let flop: number | undefined;
    if (MATMUL_OPS.has(op)) {
      const ins = (e.args?.input_type_shape ?? []).map(dims).filter((d): d is number[] => !!d);
      const out = dims(e.args?.output_type_shape?.[0]);
      flop = out ? matmulFlops(ins, out) : undefined;
      if (flop !== undefined) {
        mmFlop += flop;
        mmUs += e.dur;
      }
    }
    kernelUs += e.dur;
    bump(tables.op, op, e.dur, flop);
    bump(tables.part, part, e.dur, flop);
    const direction = `${part} ${scope?.backward ? 'backward' : 'forward'}`;
    bump(tables.dir, direction, e.dur, flop);
    bump(tables.partOp, `${direction} ${op}`, e.dur, flop);
  }
  const rows = (m: Map<string, Acc>): ProfileRow[] =>
    [...m.entries()]
      .map(([key, a]) => ({
        key,
        ms: a.us / steps / 1000,
        share: a.us / steps / 1000 / stepMs,
        calls: a.calls / steps,
        ...(a.mmUs > 0 ? { gflop: a.flop / steps / 1e9, gflops: a.flop / a.mmUs / 1e3 } : {}),
      }))
      .sort((x, y) => y.ms - x.ms);
  const kernelMs = kernelUs / steps / 1000;
  return {
    steps, stepMs, kernelMs, outsideShare: Math.max(0, 1 - kernelMs / stepMs),
    byOp: rows(tables.op), byPart: rows(tables.part), byPartDirection: rows(tables.dir), byPartOp: rows(tables.partOp),
    matmulGflops: mmUs > 0 ? mmFlop / mmUs / 1e3 : 0,
  };
}

/** node name -> scope, from the output tensor names of each node of an ONNX model (ORT's optimised one). */
export function scopesFromModel(bytes: Uint8Array): Map<string, NodeScope> {
  const model = ModelProto.toObject(ModelProto.decode(bytes)) as { graph?: { node?: { name?: string; input?: string[]; output?: string[] }[] } };
  const map = new Map<string, NodeScope>();
  const ofTensor = new Map<string, NodeScope>();
  for (const n of model.graph?.node ?? []) {
    // Nodes ORT inlines from a function (SoftmaxCrossEntropyLoss) have fresh output names: the scope of what they
    // read says where they belong (nodes are in topological order, so it is known by then).
    const scoped = (names: string[] | undefined) => (names ?? []).map((t) => parseScope(t) ?? ofTensor.get(t)).find((x) => x !== undefined);
    const s = scoped(n.output) ?? scoped(n.input);
    if (!s) continue;
    if (n.name) map.set(n.name, s);
    for (const t of n.output ?? []) ofTensor.set(t, s);
  }
  return map;
}

/** A markdown table of rows, with GFLOP/s where the row holds matmuls. */
export function profileTable(title: string, rows: readonly ProfileRow[]): string {
  const lines = [`| ${title} | ms/step | share of step | calls/step | matmul GFLOP/s |`, '| --- | ---: | ---: | ---: | ---: |'];
  for (const r of rows)
    lines.push(`| ${r.key} | ${r.ms.toFixed(2)} | ${pct(r.share)} | ${r.calls.toFixed(0)} | ${r.gflops !== undefined ? r.gflops.toFixed(1) : ''} |`);
  return lines.join('\n');
}

export const PROFILE_ARCHS = ['gpt2', 'bert', 't5', 'llama'] as const;
export type ProfileArch = (typeof PROFILE_ARCHS)[number];

function benchStep(arch: ProfileArch): BenchStep {
  switch (arch) {
    case 'gpt2': return engineStep(engineDefaults);
    case 'bert': return bertStep(bertDefaults);
    case 't5': return t5Step(t5Defaults);
    case 'llama': return llamaStep(engineDefaults);
  }
}

/** Profiles `steps` warm training steps of ARCH's benchmark configuration and writes bench/results/profile-ARCH.json. */
export async function runProfileBench(arch: ProfileArch, o: { steps: number; warmup: number }): Promise<FoldedProfile> {
  const { build, store, opt, batches } = benchStep(arch);
  const optimized = path.join(os.tmpdir(), `pretrain-profile-${process.pid}.onnx`);
  const since = Date.now() - 1000;
  const step = await TrainStep.compile(nodeBackend, build, store, { ...opt, profile: true, optimizedModelPath: optimized });
  const wall: number[] = [];
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const t0 = performance.now();
    await step.run([batches[i % batches.length]], 1e-4);
    wall.push(performance.now() - t0);
  }
  step.fused.endProfiling?.();
  const file = newestProfile(since);
  if (!file) throw new Error(`profile: ORT wrote no profile file in ${os.tmpdir()}`);
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  const scopes = scopesFromModel(readFileSync(optimized));
  rmSync(optimized, { force: true });
  const stepMs = wall.slice(-o.steps).reduce((a, b) => a + b, 0) / o.steps;
  const folded = foldProfile(events, { steps: o.steps, stepMs, scopeOf: (n) => scopes.get(n) });
  const out = writeResult(`profile-${arch}`, { bench: 'profile', arch, date: new Date().toISOString(), threads: os.availableParallelism(), ...folded });
  console.log(`profile ${arch}: ${o.steps} warm steps, ${folded.stepMs.toFixed(1)} ms/step wall, ${folded.kernelMs.toFixed(1)} ms in ORT kernels (${pct(folded.outsideShare)} outside), matmuls at ${folded.matmulGflops.toFixed(1)} GFLOP/s`);
  console.log(`\n${profileTable('model part', folded.byPart)}\n\n${profileTable('part, direction', folded.byPartDirection)}\n\n${profileTable('op type', folded.byOp)}\n\n${profileTable('part, direction, op (top 25)', folded.byPartOp.slice(0, 25))}\n`);
  console.log(`  -> ${out} (raw profile: ${file})`);
  return folded;
}

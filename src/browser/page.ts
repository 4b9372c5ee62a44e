// The playground page served by `pretrain serve`: pick a model family, an objective, a size and a corpus, train in
// the tab on onnxruntime-web with a live loss curve, see what the objective does to a batch, try the model, and
// download it as a Hugging Face checkpoint folder (zip). `window.pretrain` is the same thing for scripts and tests.
// URL parameters: ?threads=N (WASM threads; more than 1 needs the isolation headers `pretrain serve` sends),
// ?ep=webgpu (the WebGPU provider where the browser has a GPU adapter).
import { getModel, modelTypes } from '../models/registry.js';
import { getObjective, objectiveHeads } from '../objectives/objective.js';
import { formatPreview, previewExamples, previewTokenText } from '../objectives/preview.js';
import { webBackend } from '../runtime/web.js';
import { storeFromWeights } from '../runtime/store.js';
import { lossCurveSvg } from '../train/plot.js';
import { TRAIN_DEFAULTS } from '../train/config.js';
import { zipFiles } from '../io/zip.js';
import { parseHfConfigText } from '../io/hf-config.js';
import { parseSafetensorsF32 } from '../io/safetensors.js';
import { Generator } from '../generate/generate.js';
import type { DecoderModel } from '../generate/decoder-graph.js';
import { FillMask } from '../generate/fill-mask.js';
import type { MaskedLM } from '../generate/encoder-graph.js';
import { Seq2SeqGenerator, type Seq2SeqLM } from '../generate/seq2seq.js';
import { pureTokenizer } from '../tokenizers/encoder.js';
import { syncDecoder } from '../tokenizers/decode.js';
import type { TokenizerConfig, TokenizerJson } from '../tokenizers/json.js';
import { prepareTextRun, runCheckpointFiles, trainRun, type StepEvent, type TextRun, type TextTrainOptions, type TrainedModel } from './train.js';

const params = new URLSearchParams(location.search);
const threads = params.get('threads');
const backend = webBackend({
  executionProvider: params.get('ep') === 'webgpu' ? 'webgpu' : 'wasm',
  ...(threads ? { threads: Number(threads) } : {}),
  wasmPaths: new URL('ort/', location.href).href,
});

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** The run the page holds: trained here, or opened from a checkpoint folder. */
let current: TrainedModel | undefined;
let controller: AbortController | undefined;

function status(s: string): void {
  $('status').textContent = s;
}

function drawCurve(losses: number[], title: string): void {
  $('curve').innerHTML = losses.length ? lossCurveSvg({ train: losses.map((loss, i) => ({ step: i + 1, loss })) }, { title }) : '';
}

/** The form shows the settings a run uses (also when a script started it through window.pretrain). */
function showForm(run: TextRun): void {
  const c = run.config;
  ($('arch') as HTMLSelectElement).value = c.arch;
  fillObjectives();
  ($('objective') as HTMLSelectElement).value = c.objective.name;
  const values: Record<string, number> = { ...c.model, seqLen: c.seqLen, batchSize: c.batchSize, vocabSize: c.vocabSize, maxSteps: c.maxSteps, lr: c.lr, seed: c.seed };
  for (const k of ['layers', 'hidden', 'heads', 'seqLen', 'batchSize', 'vocabSize', 'maxSteps', 'lr', 'seed']) ($(k) as HTMLInputElement).value = String(values[k]);
}

function showPreview(run: TextRun): void {
  // A fresh stream with the run's options: the batch the first step trains on, without moving the run's own stream.
  const tok = run.tokenizer;
  const stream = run.objective.stream(run.documents.train, tok, run.options);
  const batch = stream.next();
  const special = new Set(tok.allSpecialIds);
  const examples = previewExamples(batch, previewTokenText(tok), (id) => special.has(id), tok.specialIds.mask ?? -1, tok.sentinelIds).slice(0, 2);
  $('preview').textContent = formatPreview(examples, { color: false, json: false, info: { arch: run.config.arch, objective: run.objective.name } });
}

export interface PageTrainResult {
  losses: number[];
  tokensPerSecond: number;
  /** Wall time of each step, ms. */
  stepMs: number[];
  stoppedBy: string;
  parameters: number;
}

/** Trains on `options.text` (default: the page's corpus box) with the CLI's option names. */
async function train(options: Partial<TextTrainOptions> = {}): Promise<PageTrainResult> {
  if (controller) throw new Error('a run is in progress: stop it first');
  controller = new AbortController();
  const text = options.text ?? (await corpusText());
  const losses: number[] = [];
  $('rate').textContent = '';
  drawCurve([], '');
  try {
    status('preparing the tokenizer and the data ...');
    const run = await prepareTextRun({ ...options, text }, status);
    current = run;
    showForm(run);
    showPreview(run);
    status(`compiling the training step (${(run.store.count() / 1e6).toFixed(2)} M parameters) ...`);
    const r = await trainRun(run, {
      backend,
      signal: controller.signal,
      log: status,
      onStep: (e: StepEvent) => {
        losses.push(e.loss);
        drawCurve(losses, `${run.config.arch} ${run.objective.name}`);
        $('rate').textContent = `step ${e.step}/${e.maxSteps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${Math.round(e.tokensPerSecond)} tokens/s`;
      },
    });
    status(r.stoppedBy === 'done' ? `finished: ${r.losses.length} steps on ${backend.name}` : `stopped (${r.stoppedBy}) after ${r.losses.length} steps`);
    enableModelButtons();
    return { losses: r.losses, tokensPerSecond: r.tokensPerSecond, stepMs: r.stepMs, stoppedBy: r.stoppedBy, parameters: run.store.count() };
  } catch (e) {
    status(`error: ${(e as Error).message}`);
    throw e;
  } finally {
    controller = undefined;
  }
}

function stop(): void {
  controller?.abort();
}

function requireModel(): TrainedModel {
  if (!current) throw new Error('no model yet: train one or open a checkpoint folder');
  return current;
}

/** Generates (decoders, T5) or fills the mask (encoders) from `text`. */
async function tryModel(text: string, o: { maxNewTokens?: number; greedy?: boolean; seed?: number } = {}): Promise<string> {
  const maxNewTokens = o.maxNewTokens ?? 20;
  const sampling = { doSample: o.greedy !== true, seed: o.seed ?? 1, topK: 50 };
  const run = requireModel();
  const tok = run.tokenizer;
  const hf = run.hf as unknown as Record<string, number | undefined>;
  if (run.entry.family === 'decoder') {
    const ids = (await tok.encode(text)).ids;
    if (!ids.length) throw new Error('the prompt encodes to no tokens');
    const gen = await Generator.create(backend, run.model as unknown as DecoderModel, run.store, { maxPositions: hf['n_positions'] ?? hf['max_position_embeddings'] });
    const r = await gen.generate(ids, { ...sampling, maxNewTokens, eosTokenId: hf['eos_token_id'] });
    return text + syncDecoder(tok)(r.sequences[0]!.tokens);
  }
  if (run.entry.family === 'encoder-decoder') {
    const ids = (await tok.encode(text)).ids;
    const gen = await Seq2SeqGenerator.create(backend, run.model as unknown as Seq2SeqLM, run.store);
    const r = await gen.generate([ids], { ...sampling, maxNewTokens, decoderStartTokenId: hf['decoder_start_token_id'] ?? 0, eosTokenId: hf['eos_token_id'] ?? 1, padTokenId: hf['pad_token_id'] ?? 0 });
    return syncDecoder(tok)(r.tokens[0]!);
  }
  const fm = await FillMask.create(backend, run.model as unknown as MaskedLM, run.store, tok);
  const preds = await fm.predict(text, { topK: 5 });
  return preds.map((cands, i) => `mask ${i + 1}: ${cands.map((c) => `${c.token_str} (${c.score.toFixed(3)})`).join(', ')}`).join('\n');
}

/** The model as a Hugging Face checkpoint folder, zipped. */
function checkpointZip(): Uint8Array {
  const run = requireModel();
  return zipFiles(runCheckpointFiles(run), `pretrain-${run.hf.model_type}`);
}

function checkpointBase64(): string {
  const bytes = checkpointZip();
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function download(): void {
  const run = requireModel();
  const blob = new Blob([checkpointZip() as BlobPart], { type: 'application/zip' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `pretrain-${run.hf.model_type}.zip`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Opens a checkpoint folder (config.json, model.safetensors, tokenizer.json, ...) written by the CLI or this page. */
async function openCheckpoint(files: Record<string, Uint8Array>): Promise<string> {
  const text = (name: string) => {
    const f = files[name];
    if (!f) throw new Error(`the checkpoint folder has no ${name}`);
    return new TextDecoder().decode(f);
  };
  const hf = parseHfConfigText(text('config.json'), 'config.json');
  const arch = hf.model_type;
  const entry = getModel(arch);
  const weights = parseSafetensorsF32(files['model.safetensors'] ?? new Uint8Array(), 'model.safetensors');
  const tokenizer = pureTokenizer(JSON.parse(text('tokenizer.json')) as TokenizerJson, (files['tokenizer_config.json'] ? JSON.parse(text('tokenizer_config.json')) : { tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: 1e30 }) as TokenizerConfig);
  // The heads are those of the first objective whose parameters the file holds (mlm+nsp's NSP head, clm's LM head, ...).
  const candidates = entry.objectives.map((o) => objectiveHeads(getObjective(o), entry.family));
  const heads = candidates.find((h) => entry.build(hf, { dropout: 0, heads: h }).parameters().every((p) => weights.has(p.name))) ?? candidates[0]!;
  const model = entry.build(hf, { dropout: 0, heads });
  const specs = model.parameters().map((p) => ({ name: p.name, shape: p.shape }));
  const store = storeFromWeights(specs, weights, 'model.safetensors');
  current = { entry, hf, model, store, tokenizer, architectures: [entry.architecture(heads)] };
  enableModelButtons();
  const msg = `opened a ${arch} checkpoint (${entry.family}, ${(store.count() / 1e6).toFixed(2)} M parameters)`;
  status(msg);
  return msg;
}

// ---------------------------------------------------------------- the form

const BROWN_URL = 'brown-sample.txt';
let dropped: { name: string; text: string } | undefined;

async function corpusText(): Promise<string> {
  const source = ($('corpus') as HTMLSelectElement).value;
  if (source === 'paste') return ($('text') as HTMLTextAreaElement).value;
  if (source === 'file') {
    if (!dropped) throw new Error('drop a .txt or .jsonl file first');
    return dropped.text;
  }
  const r = await fetch(BROWN_URL);
  if (!r.ok) throw new Error(`${BROWN_URL}: HTTP ${r.status}`);
  return r.text();
}

function formOptions(): Partial<TextTrainOptions> {
  const num = (id: string) => Number(($(id) as HTMLInputElement).value);
  const arch = ($('arch') as HTMLSelectElement).value;
  return {
    arch,
    objective: ($('objective') as HTMLSelectElement).value,
    layers: num('layers'), hidden: num('hidden'), heads: num('heads'), seqLen: num('seqLen'), batchSize: num('batchSize'),
    vocabSize: num('vocabSize'), maxSteps: num('maxSteps'), lr: num('lr'), seed: num('seed'),
    ...(dropped && ($('corpus') as HTMLSelectElement).value === 'file' && dropped.name.endsWith('.jsonl') ? { format: 'jsonl' as const } : {}),
  };
}

function fillObjectives(): void {
  const arch = ($('arch') as HTMLSelectElement).value;
  const sel = $('objective') as HTMLSelectElement;
  sel.innerHTML = '';
  for (const o of getModel(arch).objectives) {
    getObjective(o);
    sel.add(new Option(o, o));
  }
  ($('try-text') as HTMLInputElement).placeholder = getModel(arch).family === 'encoder' ? `a sentence with ${arch === 'bert' ? '[MASK]' : '<mask>'}` : 'a prompt';
}

function enableModelButtons(): void {
  for (const id of ['try', 'download']) ($(id) as HTMLButtonElement).disabled = false;
}

function setUp(): void {
  const arch = $('arch') as HTMLSelectElement;
  for (const t of modelTypes()) arch.add(new Option(`${t} (${getModel(t).family})`, t));
  arch.value = 'gpt2';
  arch.onchange = fillObjectives;
  fillObjectives();
  const small = { layers: 2, hidden: 64, heads: 2, seqLen: 64, batchSize: 8, vocabSize: 1000, maxSteps: 200, lr: 1e-3, seed: TRAIN_DEFAULTS.seed ?? 1337 };
  for (const [k, v] of Object.entries(small)) ($(k) as HTMLInputElement).value = String(v);
  $('train').onclick = () => void train(formOptions()).catch(() => {});
  $('stop').onclick = stop;
  $('try').onclick = () =>
    void tryModel(($('try-text') as HTMLInputElement).value).then((s) => ($('try-out').textContent = s), (e: Error) => ($('try-out').textContent = `error: ${e.message}`));
  $('download').onclick = download;
  const drop = $('drop');
  drop.ondragover = (e) => e.preventDefault();
  drop.ondrop = (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) void f.text().then((text) => {
      dropped = { name: f.name, text };
      ($('corpus') as HTMLSelectElement).value = 'file';
      drop.textContent = `${f.name}: ${text.length} characters`;
    });
  };
  ($('folder') as HTMLInputElement).onchange = async (e) => {
    const list = (e.target as HTMLInputElement).files;
    if (!list) return;
    const files: Record<string, Uint8Array> = {};
    for (const f of Array.from(list)) {
      const parts = f.webkitRelativePath.split('/');
      // The folder's own files (config.json, ...), not those of checkpoint-N subfolders or onnx/.
      if (parts.length === 2) files[parts[1]!] = new Uint8Array(await f.arrayBuffer());
    }
    await openCheckpoint(files).catch((err: Error) => status(`error: ${err.message}`));
  };
  status(`ready: ${backend.name}${crossOriginIsolated ? ', cross-origin isolated' : ', not cross-origin isolated (one WASM thread)'}`);
}

declare global {
  interface Window {
    pretrain: {
      train: typeof train;
      stop: typeof stop;
      tryModel: typeof tryModel;
      checkpointZip: typeof checkpointZip;
      checkpointBase64: typeof checkpointBase64;
      download: typeof download;
      openCheckpoint: typeof openCheckpoint;
      preview: () => string;
      backend: string;
    };
  }
}

window.pretrain = {
  train, stop, tryModel, checkpointZip, checkpointBase64, download, openCheckpoint,
  preview: () => $('preview').textContent ?? '',
  backend: backend.name,
};
setUp();

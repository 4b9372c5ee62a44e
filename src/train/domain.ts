// The domain check: is a task's text like the text a model was pretrained on? A pretrained model's perplexity
// under its own objective (BERT: of masked tokens; T5: of span targets) on the task's texts beside its held-out
// pretraining text, and the tokenizer's pieces per word on both. Transfer from an unrelated corpus can hurt a
// small model; when the task's text is far, pretraining on unlabelled text from its domain is the remedy.
// Used by every fine-tuning report (`pretrain finetune`) and by `pretrain experiment`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCorpus, type DocumentSource, type TokenDocument } from '../data/index.js';
import { writeFileAtomic } from '../io/files.js';
import type { HfConfig } from '../io/hf-config.js';
import { getModel } from '../models/registry.js';
import { Ctx } from '../nn/index.js';
import { getObjective, objectiveHeads } from '../objectives/objective.js';
import type { Backend } from '../runtime/backend.js';
import { storeFromWeights, type ParameterStore } from '../runtime/store.js';
import type { Tokenizer } from '../tokenizers/index.js';
import type { TrainConfig } from './config.js';
import { corpusDocuments, objectiveOptions, pretrainingGraph } from './pretrain.js';
import { compileEval, evaluateBatches } from './trainer.js';

/** The domain check of one pretrained model on one task's texts. */
export interface DomainCheck {
  /** Which pretrained model (the experiment's variant id, or the checkpoint folder). */
  variant: string;
  task: string;
  /** The objective's held-out perplexity (BERT: of the masked tokens; T5: of the targets). */
  pretrainPerplexity: number;
  taskPerplexity: number;
  pretrainPiecesPerWord: number;
  taskPiecesPerWord: number;
  /** The rule: perplexity more than twice, or pieces per word more than 1.3 times, the pretraining text's. */
  far: boolean;
}

export const FAR_PERPLEXITY_RATIO = 2;
export const FAR_PIECES_RATIO = 1.3;

/** A pretrained model as the check needs it: weights with its objective's heads, and how it was pretrained. */
export interface DomainModel {
  name: string;
  hf: HfConfig;
  store: ParameterStore;
  tokenizer: Tokenizer;
  cfg: TrainConfig;
}

export async function domainCheck(m: DomainModel, task: string, texts: string[], backend: Backend): Promise<DomainCheck> {
  const tok = m.tokenizer;
  const entry = getModel(m.cfg.arch);
  const objective = getObjective(m.cfg.objective.name);
  const opts = objectiveOptions(m.cfg);
  const model = entry.build(m.hf, { dropout: 0, heads: objectiveHeads(objective, entry.family) });
  const fwd = await compileEval(backend, (g) => pretrainingGraph(g, model, objective, opts, new Ctx(g, false)), m.store);
  const perplexity = async (docs: DocumentSource) => {
    const b = objective.evalBatches(docs, tok, opts, m.cfg.evalBatches);
    return b.length ? (await evaluateBatches(fwd, b)).perplexity : NaN;
  };
  const held = (await corpusDocuments(m.cfg.corpus, tok)).eval;
  const pretrainTexts: string[] = [];
  const spec = m.cfg.corpus === 'brown' ? 'brown:validation' : m.cfg.corpus;
  for await (const d of readCorpus(spec)) if (pretrainTexts.push(d.text) >= 500) break;
  const check = {
    variant: m.name, task,
    pretrainPerplexity: await perplexity(held), taskPerplexity: await perplexity(await textDocuments(texts, tok, 2 * m.cfg.batchSize * m.cfg.seqLen)),
    pretrainPiecesPerWord: await piecesPerWord(pretrainTexts, tok), taskPiecesPerWord: await piecesPerWord(texts, tok),
  };
  const far = check.taskPerplexity > FAR_PERPLEXITY_RATIO * check.pretrainPerplexity || check.taskPiecesPerWord > FAR_PIECES_RATIO * check.pretrainPiecesPerWord;
  return { ...check, far };
}

/**
 * The pretraining model (body and objective heads) of a checkpoint for the domain check: its run's
 * train_config.json (in the checkpoint folder or the run folder above it) says the objective and corpus. `skipped`,
 * with the reason, when the checkpoint was not pretrained here or lacks the objective's heads.
 */
export function domainModelOf(dir: string, hf: HfConfig, loaded: ParameterStore, tokenizer: Tokenizer): DomainModel | { skipped: string } {
  const file = [path.join(dir, 'train_config.json'), path.join(dir, '..', 'train_config.json')].find((f) => existsSync(f));
  if (!file) return { skipped: `no train_config.json in ${dir} or the run folder above it (the check needs the pretraining objective and corpus)` };
  let cfg: TrainConfig;
  try {
    cfg = JSON.parse(readFileSync(file, 'utf8')) as TrainConfig;
  } catch (e) {
    return { skipped: `${file} is not JSON (${(e as Error).message})` };
  }
  if (typeof cfg.arch !== 'string' || typeof cfg.objective?.name !== 'string' || typeof cfg.corpus !== 'string' || !(cfg.evalBatches > 0))
    return { skipped: `${file} has no arch, objective.name, corpus and evalBatches` };
  if (cfg.corpus !== 'brown' && !existsSync(cfg.corpus)) return { skipped: `the pretraining corpus ${cfg.corpus} (from ${file}) is not here` };
  const entry = getModel(cfg.arch);
  const model = entry.build(hf, { dropout: 0, heads: objectiveHeads(getObjective(cfg.objective.name), entry.family) });
  const weights = new Map(loaded.names().map((n) => [n, { shape: loaded.shapes.get(n)!, data: loaded.get(n) }]));
  try {
    return { name: dir, hf, store: storeFromWeights(model.parameters(), weights, dir), tokenizer, cfg };
  } catch (e) {
    return { skipped: `the checkpoint lacks its objective's heads (${(e as Error).message.split('\n')[0]})` };
  }
}

/** The check's advice when a task's text is far from the pretraining text. */
export function domainAdvice(d: DomainCheck): string | undefined {
  if (!d.far) return undefined;
  const why = [
    d.taskPerplexity > FAR_PERPLEXITY_RATIO * d.pretrainPerplexity ? `perplexity ${(d.taskPerplexity / d.pretrainPerplexity).toFixed(1)}x the pretraining text's` : '',
    d.taskPiecesPerWord > FAR_PIECES_RATIO * d.pretrainPiecesPerWord ? `${(d.taskPiecesPerWord / d.pretrainPiecesPerWord).toFixed(2)}x the pieces per word` : '',
  ].filter(Boolean).join(', ');
  return `${d.task}'s text is far from ${d.variant}'s pretraining text (${why}): transfer may not help; pretrain on unlabelled text from the task's domain (--corpus)`;
}

/** The check as Markdown: a table row set and the verdict in words. */
export function domainMarkdown(checks: readonly DomainCheck[]): string {
  const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const lines = [
    `Each pretrained model's perplexity under its own objective (BERT: of masked tokens; T5: of span targets) on the task's held-out texts beside its own held-out pretraining text, and the tokenizer's pieces per word on both. A task is far from the pretraining text when its perplexity is more than ${FAR_PERPLEXITY_RATIO}x, or its pieces per word more than ${FAR_PIECES_RATIO}x, the pretraining text's; then transfer may not help, and pretraining on unlabelled text from the task's domain is the remedy.`,
    '',
    '| model | task | perplexity: pretraining text | perplexity: task text | pieces/word: pretraining | pieces/word: task | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...checks.map((d) => `| ${d.variant} | ${d.task} | ${f1(d.pretrainPerplexity)} | ${f1(d.taskPerplexity)} | ${f2(d.pretrainPiecesPerWord)} | ${f2(d.taskPiecesPerWord)} | ${d.far ? '**far**' : 'near'} |`),
  ];
  for (const d of checks) if (d.far) lines.push('', `**Far:** ${domainAdvice(d)!}.`);
  return lines.join('\n');
}

/**
 * Writes domain_check.json into a fine-tuning run folder and adds the check to its report.md (after the
 * per-class report when there is one).
 */
export async function writeDomainReport(dir: string, d: DomainCheck): Promise<void> {
  await writeFileAtomic(path.join(dir, 'domain_check.json'), `${JSON.stringify(d, null, 2)}\n`);
  const report = path.join(dir, 'report.md');
  const before = existsSync(report) ? `${readFileSync(report, 'utf8').trimEnd()}\n\n` : '# Fine-tuning report\n\n';
  await writeFileAtomic(report, `${before}## Domain check\n\n${domainMarkdown([d])}\n`);
}

/** One line for a terminal. */
export function domainLine(d: DomainCheck): string {
  const ppl = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  return `domain check: perplexity ${ppl(d.taskPerplexity)} on the task's texts against ${ppl(d.pretrainPerplexity)} on held-out pretraining text, ` +
    `${d.taskPiecesPerWord.toFixed(2)} against ${d.pretrainPiecesPerWord.toFixed(2)} pieces per word: ${d.far ? `far. ${domainAdvice(d)!}` : 'near the pretraining text'}`;
}

/**
 * Texts as one-sentence token documents, for an objective's evaluation batches; a task with fewer than `minTokens`
 * tokens is repeated until it has them, so that it fills at least one batch of the pretraining's shape.
 */
async function textDocuments(texts: string[], tok: Tokenizer, minTokens: number): Promise<DocumentSource> {
  const once: TokenDocument[] = (await tok.encodeIdsBatch(texts)).filter((ids) => ids.length > 0)
    .map((ids) => ({ tokens: Uint32Array.from(ids), sentenceBounds: Uint32Array.from([0, ids.length]) }));
  const tokens = once.reduce((n, d) => n + d.tokens.length, 0);
  const docs = tokens ? Array.from({ length: Math.max(1, Math.ceil(minTokens / tokens)) }, () => once).flat() : [];
  return { documentCount: docs.length, tokenCount: docs.reduce((n, d) => n + d.tokens.length, 0), document: (i) => docs[i]! };
}

/** Tokenizer pieces per whitespace-separated word. */
async function piecesPerWord(texts: string[], tok: Tokenizer): Promise<number> {
  const words = texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
  const pieces = (await tok.encodeIdsBatch(texts)).reduce((n, e) => n + e.length, 0);
  return pieces / Math.max(1, words);
}

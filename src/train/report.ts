// The fine-tuning report of a classifier or tagger in its run folder: per-class precision, recall, F1 and support
// (classification_report.json and a Markdown table in report.md, as sklearn's classification_report) and the
// confusion matrix as a picture (confusion_matrix.svg).
import path from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { confusionMatrixSvg } from './plot.js';

export interface ClassReport {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface LabelReportInput {
  task: 'classify' | 'tag';
  labels: string[];
  accuracy: number;
  macroF1: number;
  perClass: ClassReport[];
  /** Rows = true label, columns = predicted label, in `labels` order. */
  confusion: number[][];
  steps: number;
  stoppedBy: string;
  best?: { metric: string; value: number; step: number };
}

export const REPORT_FILES = ['classification_report.json', 'report.md', 'confusion_matrix.svg'];

/** The Markdown table of per-class scores, then the macro and weighted averages (sklearn's rows). */
export function classReportMarkdown(perClass: readonly ClassReport[]): string {
  const f = (x: number) => x.toFixed(3);
  const total = perClass.reduce((s, c) => s + c.support, 0);
  const avg = (k: 'precision' | 'recall' | 'f1', weighted: boolean) =>
    weighted ? perClass.reduce((s, c) => s + c[k] * c.support, 0) / Math.max(1, total) : perClass.reduce((s, c) => s + c[k], 0) / Math.max(1, perClass.length);
  const rows = [
    '| label | precision | recall | f1 | support |',
    '|---|---:|---:|---:|---:|',
    ...perClass.map((c) => `| ${c.label.replace(/\|/g, '\\|')} | ${f(c.precision)} | ${f(c.recall)} | ${f(c.f1)} | ${c.support} |`),
    `| macro avg | ${f(avg('precision', false))} | ${f(avg('recall', false))} | ${f(avg('f1', false))} | ${total} |`,
    `| weighted avg | ${f(avg('precision', true))} | ${f(avg('recall', true))} | ${f(avg('f1', true))} | ${total} |`,
  ];
  return rows.join('\n');
}

/** Writes classification_report.json, report.md and confusion_matrix.svg into `dir`. */
export async function writeLabelReport(dir: string, r: LabelReportInput): Promise<void> {
  const unit = r.task === 'tag' ? 'words' : 'examples';
  await writeFileAtomic(path.join(dir, 'classification_report.json'), `${JSON.stringify({
    task: r.task, accuracy: r.accuracy, macro_f1: r.macroF1, labels: r.labels, per_class: r.perClass, confusion_matrix: r.confusion,
  }, null, 2)}\n`);
  const md = [
    `# Fine-tuning report (${r.task === 'tag' ? 'token classification' : 'sequence classification'})`,
    '',
    `Held-out ${unit}: ${r.perClass.reduce((s, c) => s + c.support, 0)}. Accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${(100 * r.macroF1).toFixed(1)}%, after ${r.steps} steps (${r.stoppedBy})` +
      (r.best ? `; the model is the best evaluation (${r.best.metric} ${r.best.value.toFixed(4)} at step ${r.best.step}).` : '.'),
    '',
    classReportMarkdown(r.perClass),
    '',
    'Precision, recall and F1 as scikit-learn defines them (0 where undefined); support = true ' + unit + ' of the label.',
    '',
    '![confusion matrix](confusion_matrix.svg)',
    '',
  ].join('\n');
  await writeFileAtomic(path.join(dir, 'report.md'), md);
  await writeFileAtomic(path.join(dir, 'confusion_matrix.svg'), confusionMatrixSvg(r.confusion, r.labels, { title: `confusion matrix (${path.basename(dir)})` }));
}

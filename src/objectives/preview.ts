// What an objective does to a batch, for display: every token, which were replaced by [MASK], by a random token,
// kept but predicted, spans, segments and the NSP label, sentinels and targets, the prefix split. `pretrain
// preview` prints it in a terminal and the browser playground shows the current batch with it. Pure: no Node imports.
import type { JsonValue } from '../io/json.js';
import type { Batch } from '../runtime/step.js';
import type { Tokenizer } from '../tokenizers/base.js';
import { syncDecoder } from '../tokenizers/decode.js';

/** How a token is shown: its piece, or for byte-level BPE its decoded text (##text when it does not begin a word). */
export function previewTokenText(tok: Tokenizer): (id: number) => string {
  const decode = syncDecoder(tok);
  const special = new Set(tok.allSpecialIds);
  return (id) => {
    if (special.has(id)) return tok.idToToken(id) ?? `<${id}>`;
    const raw = tok.idToToken(id) ?? `<${id}>`;
    if (tok.kind !== 'bpe') return raw;
    const s = decode([id]);
    return tok.wordStarts[id] ? s.replace(/^ /, '') : `##${s}`;
  };
}

export type PreviewKind = 'none' | 'mask' | 'random' | 'keep';

export interface PreviewToken {
  /** The original token's text. */
  text: string;
  /** The text of what the model is fed (differs for mask and random). */
  input: string;
  kind: PreviewKind;
  special: boolean;
  /** Segment: 0 = A (and [CLS]), 1 = B. */
  segment: number;
  /** A T5 sentinel <extra_id_k>. */
  sentinel?: boolean;
}

export interface PreviewSpan {
  start: number;
  end: number;
  kind: Exclude<PreviewKind, 'none'>;
}

export interface PreviewExample {
  tokens: PreviewToken[];
  inputIds: number[];
  labels: number[];
  tokenTypeIds?: number[];
  /** 0 = IsNext, 1 = random B. */
  nspLabel?: number;
  /** Masked spans (span objective): maximal runs of predicted positions. */
  spans?: PreviewSpan[];
  /** SBO targets: boundary positions, offset in the span, original id. */
  sbo?: Array<{ left: number; right: number; position: number; label: number }>;
  /**
   * Encoder-decoder objectives (the batch has decoder_input_ids): `tokens` are the encoder's inputs and these the
   * decoder's targets (labels without their -100 padding), sentinels marked.
   */
  targets?: PreviewToken[];
  /**
   * Prefix LM: the first prefixLength tokens are the prefix, the rest is predicted (decoder-only: of `tokens`;
   * encoder-decoder: `tokens` are the prefix and EOS, `targets` the rest).
   */
  prefixLength?: number;
}

function column(b: Batch, name: string, row: number): number[] | undefined {
  const t = b[name];
  if (!t) return undefined;
  const width = t.shape.length > 1 ? t.shape[1]! : 1;
  return Array.from((t.data as BigInt64Array).subarray(row * width, (row + 1) * width), Number);
}

/**
 * The examples of a batch, for display: `text(id)` renders one token, `isSpecial(id)` tells special ids,
 * `maskId` is the [MASK] id, `sentinelIds` the T5 sentinels. Padding (attention_mask 0, labels -100 after the
 * targets) is left out.
 */
export function previewExamples(
  b: Batch,
  text: (id: number) => string,
  isSpecial: (id: number) => boolean,
  maskId: number,
  sentinelIds: readonly number[] = [],
): PreviewExample[] {
  const ids = b['input_ids'];
  if (!ids) throw new Error('preview: the batch has no input_ids');
  const [B] = ids.shape as [number, number];
  const sentinels = new Set(sentinelIds);
  const plain = (id: number): PreviewToken => {
    const t: PreviewToken = { text: text(id), input: text(id), kind: 'none', special: isSpecial(id), segment: 0 };
    if (sentinels.has(id)) t.sentinel = true;
    return t;
  };
  const out: PreviewExample[] = [];
  for (let r = 0; r < B; r++) {
    const inp = column(b, 'input_ids', r)!;
    if (b['decoder_input_ids']) {
      // Encoder-decoder: the encoder's inputs as fed, the decoder's targets up to their padding.
      const att = column(b, 'attention_mask', r) ?? inp.map(() => 1);
      const len = att.reduce((n, x) => n + (x ? 1 : 0), 0);
      const lab = column(b, 'labels', r) ?? [];
      let tlen = lab.length;
      while (tlen > 0 && lab[tlen - 1] === -100) tlen--;
      const inputIds = inp.slice(0, len);
      const labels = lab.slice(0, tlen);
      const ex: PreviewExample = { tokens: inputIds.map(plain), inputIds, labels, targets: labels.map((y) => plain(y === -100 ? maskId : y)) };
      // No sentinel in the inputs: a prefix -> rest pair (prefix-lm), split where the encoder's EOS stands.
      if (!ex.tokens.some((t) => t.sentinel) && len > 0) ex.prefixLength = len - 1;
      out.push(ex);
      continue;
    }
    const lab = column(b, 'labels', r) ?? inp.map(() => -100);
    const att = column(b, 'attention_mask', r) ?? inp.map(() => 1);
    const types = column(b, 'token_type_ids', r);
    const len = att.reduce((n, x) => n + (x ? 1 : 0), 0);
    const tokens: PreviewToken[] = [];
    for (let i = 0; i < len; i++) {
      const predicted = lab[i]! !== -100;
      const orig = predicted ? lab[i]! : inp[i]!;
      const kind: PreviewKind = !predicted ? 'none' : inp[i] === maskId ? 'mask' : inp[i] === orig ? 'keep' : 'random';
      tokens.push({ text: text(orig), input: text(inp[i]!), kind, special: isSpecial(orig), segment: types?.[i] ?? 0 });
    }
    const ex: PreviewExample = { tokens, inputIds: inp.slice(0, len), labels: lab.slice(0, len) };
    const prefix = column(b, 'prefix_length', r);
    if (prefix) {
      // Decoder-only prefix LM: everything after the split is predicted; the split point says so, not a marker per token.
      ex.prefixLength = prefix[0]!;
      for (const t of tokens) t.kind = 'none';
    }
    if (types) ex.tokenTypeIds = types.slice(0, len);
    const nsp = column(b, 'next_sentence_label', r);
    if (nsp) ex.nspLabel = nsp[0]!;
    const sboLab = column(b, 'sbo_labels', r);
    if (sboLab) {
      const L = column(b, 'sbo_left', r)!, R = column(b, 'sbo_right', r)!, P = column(b, 'sbo_position', r)!;
      ex.sbo = [];
      sboLab.forEach((y, k) => y !== -100 && ex.sbo!.push({ left: L[k]!, right: R[k]!, position: P[k]!, label: y }));
      // Merged spans are separated by at least one unpredicted token, so they are the runs of predicted positions.
      ex.spans = [];
      for (let i = 0; i < len; i++) {
        if (tokens[i]!.kind === 'none') continue;
        let j = i;
        while (j + 1 < len && tokens[j + 1]!.kind !== 'none') j++;
        const ks = tokens.slice(i, j + 1).map((t) => t.kind);
        // A random token that happens to equal the original reads as kept: a span with any random token is random.
        const kind = ks.includes('random') ? 'random' : ks.includes('mask') ? 'mask' : 'keep';
        ex.spans.push({ start: i, end: j, kind });
        i = j;
      }
    }
    out.push(ex);
  }
  return out;
}

const ANSI = {
  reset: '\x1b[0m',
  mask: '\x1b[1;37;41m',
  orig: '\x1b[2m',
  random: '\x1b[1;33m',
  keep: '\x1b[4;32m',
  span: '\x1b[1;36m',
  special: '\x1b[2;35m',
  head: '\x1b[1m',
};

export interface FormatOptions {
  color: boolean;
  json: boolean;
  /** Extra fields for the JSON header and the text title (objective, arch, ...). */
  info?: { [k: string]: JsonValue };
}

function exampleJson(e: PreviewExample): JsonValue {
  const o: { [k: string]: JsonValue } = {
    tokens: e.tokens.map((t) => t.text),
    input_tokens: e.tokens.map((t) => t.input),
    kinds: e.tokens.map((t) => t.kind),
    input_ids: e.inputIds,
    labels: e.labels,
  };
  if (e.tokenTypeIds) o['token_type_ids'] = e.tokenTypeIds;
  if (e.nspLabel !== undefined) o['next_sentence_label'] = e.nspLabel;
  if (e.spans) o['spans'] = e.spans.map((s) => ({ start: s.start, end: s.end, kind: s.kind }));
  if (e.sbo) o['sbo'] = e.sbo.map((s) => ({ left: s.left, right: s.right, position: s.position, label: s.label }));
  if (e.targets) {
    o['targets'] = e.targets.map((t) => t.text);
    o['sentinels'] = e.tokens.filter((t) => t.sentinel).length;
  }
  if (e.prefixLength !== undefined) o['prefix_length'] = e.prefixLength;
  return o;
}

/** Text (plain or coloured) or JSON for the examples; pure, so it can be tested. */
export function formatPreview(examples: readonly PreviewExample[], o: FormatOptions): string {
  if (o.json) return `${JSON.stringify({ ...(o.info ?? {}), examples: examples.map(exampleJson) })}\n`;
  const c = (code: string, s: string): string => (o.color ? `${code}${s}${ANSI.reset}` : s);
  const lines: string[] = [];
  if (o.info) lines.push(c(ANSI.head, Object.entries(o.info).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('  ')));
  if (examples.some((e) => e.targets))
    lines.push(`legend: inputs = what the encoder reads, targets = what the decoder predicts${examples.some((e) => e.tokens.some((t) => t.sentinel)) ? `; ${c(ANSI.span, '<extra_id_k>')} stands for noise span k` : ''}`);
  else if (examples.some((e) => e.prefixLength !== undefined))
    lines.push('legend: the prefix is read bidirectionally; the tokens after the split are predicted, each from those before it');
  else lines.push(
    o.color
      ? `legend: ${c(ANSI.mask, '[MASK]')}${c(ANSI.orig, '(original)')}  ${c(ANSI.random, 'original->random')}  ${c(ANSI.keep, 'kept, predicted')}  ${c(ANSI.span, '[[')} span ${c(ANSI.span, ']]')}`
      : 'legend: [MASK](original)  {original->random}  <kept, predicted>  [[ span ]]',
  );
  examples.forEach((e, k) => {
    const predicted = e.targets?.length ?? (e.prefixLength !== undefined ? e.tokens.length - e.prefixLength : e.tokens.filter((t) => t.kind !== 'none').length);
    const sentinelCount = e.tokens.filter((t) => t.sentinel).length;
    let title = e.targets
      ? `--- example ${k + 1}: ${e.tokens.length} input tokens${sentinelCount ? ` (${sentinelCount} sentinels)` : ''}, ${predicted} target tokens`
      : `--- example ${k + 1}: ${e.tokens.length} tokens, ${predicted} predicted`;
    if (e.prefixLength !== undefined) title += `, split at ${e.prefixLength}`;
    if (e.nspLabel !== undefined) title += `, NSP ${e.nspLabel === 0 ? 'IsNext (label 0)' : 'NotNext, random B (label 1)'}`;
    if (e.spans) title += `, ${e.spans.length} spans, ${e.sbo?.length ?? 0} SBO targets`;
    lines.push(c(ANSI.head, title));
    const starts = new Set(e.spans?.map((s) => s.start));
    const ends = new Set(e.spans?.map((s) => s.end));
    const render = (t: PreviewToken, i: number): string => {
      let s: string;
      if (t.kind === 'mask') s = o.color ? `${c(ANSI.mask, t.input)}${c(ANSI.orig, `(${t.text})`)}` : `${t.input}(${t.text})`;
      else if (t.kind === 'random') s = o.color ? c(ANSI.random, `${t.text}->${t.input}`) : `{${t.text}->${t.input}}`;
      else if (t.kind === 'keep') s = o.color ? c(ANSI.keep, t.text) : `<${t.text}>`;
      else if (t.sentinel) s = c(ANSI.span, t.text);
      else s = t.special ? c(ANSI.special, t.text) : t.text;
      if (starts.has(i)) s = `${c(ANSI.span, '[[')}${s}`;
      if (ends.has(i)) s = `${s}${c(ANSI.span, ']]')}`;
      return s;
    };
    if (e.tokenTypeIds && e.nspLabel !== undefined) {
      for (const seg of [0, 1]) {
        const parts = e.tokens.map((t, i) => (t.segment === seg ? render(t, i) : undefined)).filter((x): x is string => x !== undefined);
        lines.push(`${seg === 0 ? 'A' : 'B'}: ${parts.join(' ')}`);
      }
    } else if (e.targets) {
      lines.push(`inputs:  ${e.tokens.map(render).join(' ')}`);
      lines.push(`targets: ${e.targets.map(render).join(' ')}`);
    } else if (e.prefixLength !== undefined) {
      // Decoder-only.
      const k = e.prefixLength;
      lines.push(`prefix:  ${e.tokens.slice(0, k).map(render).join(' ')}`);
      lines.push(`${c(ANSI.span, '||')} predicted from token ${k} on: ${e.tokens.slice(k).map((t, i) => render(t, i + k)).join(' ')}`);
    } else lines.push(e.tokens.map(render).join(' '));
    if (e.sbo?.length) {
      const bySpan = new Map<string, number>();
      for (const t of e.sbo) bySpan.set(`${t.left}..${t.right}`, (bySpan.get(`${t.left}..${t.right}`) ?? 0) + 1);
      lines.push(
        `SBO: ${[...bySpan].map(([k, n]) => {
          const [l, r] = k.split('..').map(Number) as [number, number];
          return `${e.tokens[l]?.text ?? l} _${n}_ ${e.tokens[r]?.text ?? r}`;
        }).join(' | ')}`,
      );
    }
  });
  return `${lines.join('\n')}\n`;
}


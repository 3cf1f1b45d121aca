// The Spirit's Hugging Face tokenizer (its tokenizer.json), read in the browser: BERT's WordPiece
// (students grown from MiniLM) and byte-level BPE with single digits (students from scratch).
// encode(text) gives what Python's tokenizer.encode(text, add_special_tokens=False) gives: ids and
// [start, end) offsets counted in code points, as Python indexes a str. Text is handled as an array
// of code points throughout, so astral characters (emoji) count as one, as they do in Python.
"use strict";

const PY_SPACE = new Set([..."\t\n\v\f\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"]
  .concat(Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i))));
const isSpace = (c) => PY_SPACE.has(c);                      // Python's str.isspace()
const isAlnum = (c) => /^[\p{L}\p{N}]$/u.test(c);            // Python's str.isalnum(), one character

class Normalized {
  // Normalised characters, each remembering the original code point it came from (for offsets).
  constructor(chars, origin) { this.chars = chars; this.origin = origin; }
  static of(chars) { return new Normalized(chars.slice(), chars.map((_, i) => i)); }
  map(fn) {  // fn(char) -> replacement string ("" drops the character)
    const chars = [], origin = [];
    this.chars.forEach((c, i) => { for (const d of fn(c)) { chars.push(d); origin.push(this.origin[i]); } });
    return new Normalized(chars, origin);
  }
}

// ------------------------------------------------------------------ BERT (WordPiece)

const isControl = (c) => c !== "\t" && c !== "\n" && c !== "\r" && /^[\p{Cc}\p{Cf}\p{Co}\p{Cn}]$/u.test(c);
const isBertSpace = (c) => /^\s$/u.test(c);  // White_Space (U+FEFF, also matched, is a control and already gone)
const isChinese = (c) => {
  const p = c.codePointAt(0);
  return (p >= 0x4e00 && p <= 0x9fff) || (p >= 0x3400 && p <= 0x4dbf) || (p >= 0x20000 && p <= 0x2a6df) ||
    (p >= 0x2a700 && p <= 0x2b73f) || (p >= 0x2b740 && p <= 0x2b81f) || (p >= 0x2b920 && p <= 0x2ceaf) ||
    (p >= 0xf900 && p <= 0xfaff) || (p >= 0x2f800 && p <= 0x2fa1f);
};
const isPunct = (c) => /^[!-/:-@[-`{-~]$/.test(c) || /^\p{P}$/u.test(c);

function bertNormalize(n, spec) {
  if (spec.clean_text) n = n.map((c) => (c === "\0" || c === "\ufffd" || isControl(c) ? "" : isBertSpace(c) ? " " : c));
  if (spec.handle_chinese_chars) n = n.map((c) => (isChinese(c) ? ` ${c} ` : c));
  const strip = spec.strip_accents === null || spec.strip_accents === undefined ? spec.lowercase : spec.strip_accents;
  if (strip) n = n.map((c) => [...c.normalize("NFD")].filter((d) => !/^\p{Mn}$/u.test(d)).join(""));
  if (spec.lowercase) n = n.map((c) => c.toLowerCase());
  return n;
}

function bertWords(n) {
  // Whitespace separates words; every punctuation character is a word of its own.
  const words = [];
  let current = null;
  n.chars.forEach((c, i) => {
    if (/^\s$/u.test(c) && c !== "\ufeff") { current = null; return; }
    if (isPunct(c)) { words.push([i]); current = null; return; }
    if (!current) { current = []; words.push(current); }
    current.push(i);
  });
  return words;
}

function wordPiece(model, n, word) {
  const chars = word.map((i) => n.chars[i]);
  const unk = () => [[model.vocab[model.unk_token], word[0], word[word.length - 1]]];
  if (chars.length > model.max_input_chars_per_word) return unk();
  const pieces = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length, found = null;
    while (start < end) {
      const piece = (start > 0 ? model.continuing_subword_prefix : "") + chars.slice(start, end).join("");
      if (piece in model.vocab) { found = model.vocab[piece]; break; }
      end -= 1;
    }
    if (found === null) return unk();
    pieces.push([found, word[start], word[end - 1]]);
    start = end;
  }
  return pieces;
}

// ------------------------------------------------------------------ byte-level BPE

const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function byteAlphabet() {
  // GPT-2's printable stand-in for every byte
  const keep = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
  return table;
}

function splitDigits(pieces, n) {
  // Digits(individual_digits=True): every numeric character alone
  const out = [];
  for (const piece of pieces) {
    let run = [];
    for (const i of piece) {
      if (/^\p{N}$/u.test(n.chars[i])) { if (run.length) out.push(run); out.push([i]); run = []; } else run.push(i);
    }
    if (run.length) out.push(run);
  }
  return out;
}

function splitGpt2(pieces, n) {
  const out = [];
  for (const piece of pieces) {
    const text = piece.map((i) => n.chars[i]).join("");
    const starts = [];  // code point index of each UTF-16 index
    let cp = 0;
    for (const c of text) { starts.push(cp); if (c.length === 2) starts.push(cp); cp += 1; }
    for (const m of text.matchAll(GPT2_SPLIT)) {
      const a = starts[m.index], b = a + [...m[0]].length;
      out.push(piece.slice(a, b));
    }
  }
  return out;
}

class Bpe {
  constructor(model) {
    this.vocab = model.vocab;
    this.ranks = new Map(model.merges.map((m, r) => [Array.isArray(m) ? m.join(" ") : m, r]));
    this.bytes = byteAlphabet();
    this.encoder = new TextEncoder();
  }
  word(n, piece) {  // [[id, first original index, last original index]]
    const symbols = [];
    for (const i of piece) {
      for (const b of this.encoder.encode(n.chars[i])) symbols.push([this.bytes[b], n.origin[i], n.origin[i]]);
    }
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let k = 0; k + 1 < symbols.length; k++) {
        const r = this.ranks.get(symbols[k][0] + " " + symbols[k + 1][0]);
        if (r !== undefined && r < bestRank) { bestRank = r; best = k; }
      }
      if (best < 0) break;
      const [a, b] = [symbols[best], symbols[best + 1]];
      symbols.splice(best, 2, [a[0] + b[0], a[1], b[2]]);
    }
    return symbols.filter((s) => s[0] in this.vocab).map((s) => [this.vocab[s[0]], s[1], s[2]]);
  }
}

// ------------------------------------------------------------------ the tokenizer

class Tokenizer {
  constructor(json) {
    this.spec = typeof json === "string" ? JSON.parse(json) : json;
    const model = this.spec.model;
    this.kind = model.type;
    if (this.kind === "BPE") this.bpe = new Bpe(model);
    this.vocab = model.vocab;
    this.added = (this.spec.added_tokens || []).map((t) => ({ content: [...t.content], id: t.id, special: t.special }));
  }

  tokenToId(token) {
    const added = this.added.find((t) => t.content.join("") === token);
    return added ? added.id : (token in this.vocab ? this.vocab[token] : null);
  }

  specialIds() {  // distill/student.py special_ids
    const first = (...names) => names.map((x) => this.tokenToId(x)).find((i) => i !== null && i !== undefined) ?? null;
    return { pad: first("<pad>", "[PAD]"), bos: first("<s>", "[CLS]"), eos: first("</s>", "[SEP]") };
  }

  encode(text) {
    // Added tokens typed in the text ("[SEP]", "</s>") are those tokens, as in Hugging Face tokenizers.
    const chars = [...text], ids = [], offsets = [];
    let start = 0;
    const flush = (end) => { if (end > start) this.encodePlain(chars, start, end, ids, offsets); };
    for (let i = 0; i < chars.length;) {
      const hit = this.added.find((t) => t.content.every((c, k) => chars[i + k] === c));
      if (!hit) { i += 1; continue; }
      flush(i);
      ids.push(hit.id); offsets.push([i, i + hit.content.length]);
      i += hit.content.length; start = i;
    }
    flush(chars.length);
    return { ids, offsets };
  }

  encodePlain(chars, from, to, ids, offsets) {
    const n = new Normalized(chars.slice(from, to), chars.slice(from, to).map((_, i) => from + i));
    let pieces;
    if (this.kind === "WordPiece") {
      const norm = bertNormalize(n, this.spec.normalizer || {});
      for (const word of bertWords(norm)) {
        for (const [id, a, b] of wordPiece(this.spec.model, norm, word)) {
          ids.push(id); offsets.push([norm.origin[a], norm.origin[b] + 1]);
        }
      }
      return;
    }
    pieces = splitGpt2(splitDigits([n.chars.map((_, i) => i)], n), n);
    for (const piece of pieces) {
      for (const [id, a, b] of this.bpe.word(n, piece)) { ids.push(id); offsets.push([a, b + 1]); }
    }
  }

  decode(ids, skipSpecial = true) {  // byte-level BPE only (decoders write text); bad UTF-8 becomes U+FFFD
    const reverse = this.reverse || (this.reverse = new Map(Object.entries(this.vocab).map(([k, v]) => [v, k])));
    const back = this.back || (this.back = new Map(this.bpe.bytes.map((c, b) => [c, b])));
    const special = new Set(skipSpecial ? this.added.filter((t) => t.special).map((t) => t.id) : []);
    const bytes = [];
    for (const id of ids) {
      if (special.has(id)) continue;
      for (const c of reverse.get(id) || "") bytes.push(back.get(c));
    }
    return new TextDecoder("utf-8", { fatal: false }).decode(new Uint8Array(bytes));
  }
}

const DistillTokenizer = { Tokenizer, isSpace, isAlnum };
if (typeof module !== "undefined") module.exports = DistillTokenizer;

// How each task type turns logits into an answer, ported line for line from distill/tasks/
// (classify.py, ner.py, common.py, tool_tagger.py, normalise.py), so the page answers exactly as
// `distill pour` does. A spirit here is {tokenizer, recipe, maxLength, special, forward(ids)}.
"use strict";

const TK = typeof DistillTokenizer !== "undefined" ? DistillTokenizer : require("./tokenizer.js");
const SS = typeof DistillSpanShapes !== "undefined" ? DistillSpanShapes : require("./span_shapes.js");
const CHARS_PER_TOKEN_AT_MOST = 32;  // spirit.py

const pyStrip = (chars) => {  // Python's str.strip() on an array of code points
  let a = 0, b = chars.length;
  while (a < b && TK.isSpace(chars[a])) a++;
  while (b > a && TK.isSpace(chars[b - 1])) b--;
  return chars.slice(a, b);
};
const pySplit = (chars) => chars.join("").split(/[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u)
  .filter((w) => w);
const argmax = (row, columns) => {
  let best = columns[0];
  for (const c of columns) if (row[c] > row[best]) best = c;
  return best;
};
const range = (a, b) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

function softmax(row) {
  let top = -Infinity;
  for (const x of row) top = Math.max(top, x);
  const e = Array.from(row, (x) => Math.exp(x - top));
  const sum = e.reduce((s, x) => s + x, 0);
  return e.map((x) => x / sum);
}

function tokenRanges(tokenizer, chars) {  // common.token_ranges: whitespace trimmed from each front
  const enc = tokenizer.encode(chars.join(""));
  const ranges = enc.offsets.map(([start, end]) => {
    while (start < end && TK.isSpace(chars[start])) start++;
    return [start, end];
  });
  return { ids: enc.ids, ranges };
}

function prepare(spirit, chars, budget) {  // Spirit.prepare: cut to the tokens the window reads
  if (budget === null) return chars;
  const head = chars.slice(0, budget * CHARS_PER_TOKEN_AT_MOST);
  const enc = spirit.tokenizer.encode(head.join(""));
  if (enc.ids.length > budget || head.length < chars.length) {
    const cut = enc.ids.length ? enc.offsets[Math.min(budget, enc.ids.length) - 1][1] : 0;
    return chars.slice(0, cut);
  }
  return chars;
}

// ------------------------------------------------------------------ classify

const classify = {
  budget: (spirit) => spirit.maxLength - 2,
  async predict(spirit, chars) {
    const ids = spirit.tokenizer.encode(chars.join("")).ids.slice(0, spirit.maxLength - 2);
    const logits = (await spirit.forward([spirit.special.bos, ...ids, spirit.special.eos]))[0];
    const labels = spirit.recipe.task.labels.map((l) => l.name);
    return { label: labels[argmax(logits, range(0, labels.length))] };
  },
};

// ------------------------------------------------------------------ ner (+ span_shapes.js)

const ABBREVIATIONS = new Set(["jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "jr",
  "sr", "st", "rd", "ave", "no", "dr", "mt", "ft"]);
const CHUNK_CHARS = 20000;

function nerTags(task) {
  const out = ["O"];
  for (const t of task.entity_types) out.push(`B-${t.name}`, `I-${t.name}`);
  return out;
}

function decodeTags(chars, ranges, tags) {  // ner.decode_tags
  const spans = [];
  let current = null;
  ranges.forEach(([start, end], t) => {
    const tag = tags[t];
    if (end <= start) return;
    if (tag === "O") { current = null; return; }
    const prefix = tag.slice(0, 1), kind = tag.slice(2);
    if (prefix === "I" && current && current.type === kind) current.end = end;
    else { current = { start, end, type: kind }; spans.push(current); }
  });
  return spans.map((s) => ({ ...s, text: chars.slice(s.start, s.end).join("") }));
}

function trimPunctuation(chars, spans) {  // ner.trim_punctuation
  return spans.map((span) => {
    let end = span.end;
    while (end > span.start + 1 && ",;:!?)\"'".includes(chars[end - 1])) end--;
    if (chars[end - 1] === "." && end > span.start + 1) {
      const words = pySplit(chars.slice(span.start, end - 1));
      const last = words.length ? words[words.length - 1] : "";
      if (!([...last].length === 1 || ABBREVIATIONS.has(last.toLowerCase()))) end--;
    }
    return { ...span, end, text: chars.slice(span.start, end).join("") };
  });
}

function mergeAdjacent(chars, spans) {  // ner.merge_adjacent
  const merged = [];
  for (const span of spans) {
    const prev = merged[merged.length - 1];
    if (prev && prev.type === span.type) {
      const gap = pyStrip(chars.slice(prev.end, span.start)).join("");
      const half = ["a half", "half"].includes(pyStrip([...span.text]).join("").toLowerCase());
      if (!gap || (span.type === "ADDRESS" && (gap === "," || gap === "-")) || (gap.toLowerCase() === "and" && half)) {
        merged[merged.length - 1] = { ...prev, end: span.end, text: chars.slice(prev.start, span.end).join("") };
        continue;
      }
    }
    merged.push({ ...span });
  }
  return merged;
}

function wordConsistentTags(chars, ranges, logits, names) {  // ner.word_consistent_tags
  const probs = logits.map(softmax);
  const kinds = [...new Set(names.filter((n) => n !== "O").map((n) => n.slice(2)))].sort();
  const col = (n) => names.indexOf(n);
  const alnum = (t) => chars.slice(ranges[t][0], ranges[t][1]).some(TK.isAlnum);
  const out = ranges.map(() => "O");
  let i = 0;
  while (i < ranges.length) {
    let j = i + 1;
    while (j < ranges.length && ranges[j][0] === ranges[j - 1][1] && ranges[j][1] > ranges[j][0]) j++;
    let core = range(i, j).filter(alnum);
    if (!core.length) core = range(i, j);
    const word = names.map((_, c) => core.reduce((s, t) => s + probs[t][c], 0));
    let kind = "O", best = word[col("O")];
    for (const k of kinds) {
      const score = word[col(`B-${k}`)] + word[col(`I-${k}`)];
      if (score > best) { best = score; kind = k; }
    }
    const inside = range(i, j).filter((t) => alnum(t) || names[argmax(probs[t], range(0, names.length))] !== "O");
    if (kind !== "O" && inside.length) {
      const a = inside[0], b = inside[inside.length - 1] + 1;
      const first = probs[a][col(`B-${kind}`)] >= probs[a][col(`I-${kind}`)] ? "B" : "I";
      for (let t = a; t < b; t++) out[t] = t === a ? `${first}-${kind}` : `I-${kind}`;
    }
    i = j;
  }
  return out;
}

function* chunks(chars) {  // ner._chunks
  let start = 0;
  while (start < chars.length) {
    let end = Math.min(chars.length, start + CHUNK_CHARS);
    if (end < chars.length) {
      const cut = Math.max(chars.lastIndexOf("\n", end - 1), chars.lastIndexOf(" ", end - 1));
      end = cut >= start && cut > start ? cut + 1 : end;
    }
    yield [start, chars.slice(start, end)];
    start = end;
  }
}

async function windowLogits(spirit, ids) {  // ner._window_logits
  const width = spirit.maxLength - 2, { bos, eos } = spirit.special;
  if (ids.length <= width) return (await spirit.forward([bos, ...ids, eos])).slice(1, 1 + ids.length);
  const step = Math.max(1, Math.floor(width * 3 / 4));
  const starts = [];
  for (let s = 0; s < ids.length - width; s += step) starts.push(s);
  starts.push(ids.length - width);
  const margin = range(0, width).map((k) => Math.min(k, width - 1 - k));
  const out = new Array(ids.length), best = new Array(ids.length).fill(-1);
  for (const start of starts) {
    const rows = (await spirit.forward([bos, ...ids.slice(start, start + width), eos])).slice(1, 1 + width);
    rows.forEach((row, k) => {
      if (margin[k] > best[start + k]) { out[start + k] = row; best[start + k] = margin[k]; }
    });
  }
  return out;
}

function spansOf(chars, ranges, tags, names) {  // ner.spans_of: joined, trimmed, cut to the shape of their type
  const spans = mergeAdjacent(chars, decodeTags(chars, ranges, tags));
  const types = new Set(names.filter((n) => n !== "O").map((n) => n.split("-").slice(1).join("-")));
  return SS.fit(chars, trimPunctuation(chars, spans), types);
}

const ner = {
  budget: () => null,
  async predict(spirit, chars) {
    const names = nerTags(spirit.recipe.task), spans = [];
    for (const [offset, piece] of chunks(chars)) {
      const { ids, ranges } = tokenRanges(spirit.tokenizer, piece);
      if (!ids.length) continue;
      const logits = await windowLogits(spirit, ids);
      const tags = wordConsistentTags(piece, ranges, logits, names);
      for (const span of spansOf(piece, ranges, tags, names)) {
        spans.push({ ...span, start: span.start + offset, end: span.end + offset });
      }
    }
    return { spans };
  },
};

function redact(chars, spans) {  // ner.redact
  let out = chars.slice();
  for (const s of [...spans].sort((a, b) => b.start - a.start)) {
    out = [...out.slice(0, s.start), ...`[${s.type}]`, ...out.slice(s.end)];
  }
  return out.join("");
}

// ------------------------------------------------------------------ the registry

const TASKS = { classify, ner };

async function pour(spirit, text, context) {
  const type = spirit.recipe.task.type;  // a task type with two designs has one entry per design ("sql:bert")
  const task = TASKS[`${type}:${spirit.recipe.student.arch}`] || TASKS[type];
  if (!task) throw new Error(`this page cannot pour a ${spirit.recipe.task.type} Spirit (${spirit.recipe.student.arch}) yet`);
  const chars = prepare(spirit, [...text], task.budget(spirit, context));
  return task.predict(spirit, chars, context || {});
}

const DistillTasks = { TASKS, pour, redact, prepare, tokenRanges, softmax, argmax, range, pyStrip, pySplit, decodeTags,
  mergeAdjacent, trimPunctuation };
if (typeof module !== "undefined") module.exports = DistillTasks;

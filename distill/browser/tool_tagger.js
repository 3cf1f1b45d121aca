// Tool calling with the encoder design (distill/tasks/tool_tagger.py and common.bio_viterbi): the
// tool at [CLS], argument words tagged BIO, read as typed values by normalise.js.
"use strict";

const TT = typeof DistillTasks !== "undefined" ? DistillTasks : require("./tasks.js");
const TKN = typeof DistillTokenizer !== "undefined" ? DistillTokenizer : require("./tokenizer.js");
const NORM = typeof DistillNormalise !== "undefined" ? DistillNormalise : require("./normalise.js");
const TOOL_PREFIX = "tool:", NONE_LABEL = "tool:none";
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

function paramKinds(tool) {
  const kinds = [];
  for (const [pname, param] of Object.entries(tool.parameters)) {
    if (param.type === "boolean") kinds.push(`${pname}=true`, `${pname}=false`);
    else kinds.push(pname);
  }
  return kinds;
}

function outputNames(task) {
  const kinds = [...new Set(task.tools.flatMap(paramKinds))].sort();
  return ["O", ...kinds.flatMap((k) => [`B-${k}`, `I-${k}`]), ...task.tools.map((t) => TOOL_PREFIX + t.name), NONE_LABEL];
}

function logSoftmax(row) {
  let top = -Infinity;
  for (const x of row) top = Math.max(top, x);
  const shifted = Array.from(row, (x) => x - top);
  const total = Math.log(shifted.reduce((s, x) => s + Math.exp(x), 0));
  return shifted.map((x) => x - total);
}

function wordsOf(chars, ranges) {  // common.words_of: a currency sign is a word of its own
  const sign = (t) => ranges[t][1] > ranges[t][0] && /^\p{Sc}+$/u.test(chars.slice(ranges[t][0], ranges[t][1]).join(""));
  const groups = [];
  let i = 0;
  while (i < ranges.length) {
    let j = i + 1;
    while (j < ranges.length && ranges[j][0] === ranges[j - 1][1] && ranges[j][1] > ranges[j][0] && !sign(j) && !sign(j - 1)) j++;
    groups.push(TT.range(i, j));
    i = j;
  }
  return groups;
}

function bioViterbi(chars, ranges, logits, names) {  // common.bio_viterbi: the best valid BIO path, word by word
  if (!ranges.length) return [];
  const logp = logits.map(logSoftmax);
  const words = wordsOf(chars, ranges).map((word) => {
    const core = word.filter((t) => chars.slice(ranges[t][0], ranges[t][1]).some(TKN.isAlnum));
    return core.length ? TT.range(core[0], core[core.length - 1] + 1) : word;
  });
  const index = Object.fromEntries(names.map((n, i) => [n, i]));
  const emission = (word, tag) => {
    const rest = tag === "O" ? index[tag] : (tag.startsWith("B-") ? index[`I-${tag.slice(2)}`] : index[tag]);
    return (logp[word[0]][index[tag]] + word.slice(1).reduce((s, t) => s + logp[t][rest], 0)) / word.length;
  };
  const allowed = (previous, tag) => !tag.startsWith("I-") || previous === `B-${tag.slice(2)}` || previous === tag;
  let best = new Map(names.filter((t) => !t.startsWith("I-")).map((t) => [t, [emission(words[0], t), [t]]]));
  for (const word of words.slice(1)) {
    const next = new Map();
    for (const tag of names) {
      let chosen = null;
      for (const [previous, [score, path]] of best) {
        if (!allowed(previous, tag)) continue;
        const total = score + emission(word, tag);
        if (!chosen || total > chosen[0]) chosen = [total, [...path, tag]];
      }
      if (chosen) next.set(tag, chosen);
    }
    best = next;
  }
  let top = null;
  for (const candidate of best.values()) if (!top || candidate[0] > top[0]) top = candidate;
  const path = top[1], tags = ranges.map(() => "O");
  words.forEach((word, w) => {
    const tag = path[w];
    word.forEach((t, position) => { tags[t] = position === 0 || tag === "O" ? tag : `I-${tag.slice(2)}`; });
    if (w + 1 < words.length && path[w + 1].startsWith("I-")) {  // "kids' soccer", "Dr. Okafor": one span
      for (let t = word[word.length - 1] + 1; t < words[w + 1][0]; t++) tags[t] = path[w + 1];
    }
  });
  return tags;
}

function items(words) {  // "eggs, milk and bread" is three values
  return words.split(NORM.py(",\\s*|\\s+and\\s+")).map((w) => w.trim()).filter((w) => w);
}

function take(args, tool, kind, words, today) {  // tool_tagger._take
  const [pname, typed] = kind.includes("=") ? kind.split(/=(.*)/s) : [kind, ""];
  const param = has(tool.parameters, pname) ? tool.parameters[pname] : null;
  if (param === null || (has(args, pname) && param.type !== "array")) return false;
  let value;
  if (param.type === "boolean") value = typed === "true";
  else if (param.type === "array") {
    const found = NORM.value(param, items(words), today);
    if (!found || !found.length) return false;
    args[pname] = [...(args[pname] || []), ...found];
    return true;
  } else value = NORM.value(param, words, today);
  if (value === null || !NORM.valueFits(param, value)) return false;
  args[pname] = value;
  return true;
}

const READ_IN_PART = new Set(["date", "datetime", "enum", "email", "url"]), MAX_PART_WORDS = 6;

function takeReadable(args, tool, kind, words, today) {  // tool_tagger._take_readable: else its longest readable run of words
  if (take(args, tool, kind, words, today)) return true;
  const pname = kind.split("=")[0], said = NORM.words(words);
  if (!has(tool.parameters, pname) || !READ_IN_PART.has(tool.parameters[pname].type)) return false;
  for (let width = Math.min(said.length - 1, MAX_PART_WORDS); width > 0; width--) {
    for (let start = 0; start + width <= said.length; start++) {
      if (take(args, tool, kind, said.slice(start, start + width).join(" "), today)) return true;
    }
  }
  return false;
}

const SELF_EVIDENT = ["date", "datetime", "email", "url"];  // tool_tagger.SELF_EVIDENT

function likeliestWords(chars, ranges, logits, allowed, pname, everywhere = false) {  // tool_tagger._likeliest_words
  const probs = logits.map(TT.softmax), candidates = [];
  allowed.forEach((name, column) => {
    if (!name.startsWith("B-") || name.slice(2).split("=")[0] !== pname) return;
    const kind = name.slice(2), inside = allowed.indexOf(`I-${kind}`);
    const order = TT.range(0, probs.length).sort((a, b) => probs[b][column] - probs[a][column]).slice(0, everywhere ? ranges.length : 3);
    for (const first of order) {
      let end = first + 1;
      while (end < ranges.length && probs[end][inside] > probs[end][0]) end++;
      const [start, last] = wholeWords(chars, ranges, first, end);
      candidates.push([probs[first][column], chars.slice(ranges[start][0], ranges[last - 1][1]).join(""), kind]);
    }
  });
  return candidates.sort((a, b) => b[0] - a[0]).map(([, words, kind]) => [words, kind]);
}

function wholeWords(chars, ranges, start, end) {  // tool_tagger._whole_words
  const alnum = (c) => /^[\p{L}\p{N}]$/u.test(c);
  const joined = (i) => ranges[i][0] === ranges[i - 1][1] && alnum(chars[ranges[i][0]]) && alnum(chars[ranges[i - 1][1] - 1]);
  while (start > 0 && joined(start)) start--;
  while (end < ranges.length && joined(end)) end++;
  return [start, end];
}

function readArguments(chars, ranges, logits, names, tool, today) {
  const kinds = paramKinds(tool);
  const allowed = ["O", ...kinds.flatMap((k) => [`B-${k}`, `I-${k}`])];
  const own = logits.map((row) => allowed.map((n) => row[names.indexOf(n)]));
  const tags = bioViterbi(chars, ranges, own, allowed);
  const spans = TT.trimPunctuation(chars, TT.mergeAdjacent(chars, TT.decodeTags(chars, ranges, tags)));
  const args = {};
  for (const span of spans) takeReadable(args, tool, span.type, span.text, today);
  for (const [pname, param] of Object.entries(tool.parameters)) {
    if (!param.required || has(args, pname)) continue;
    for (const [words, kind] of likeliestWords(chars, ranges, own, allowed, pname, SELF_EVIDENT.includes(param.type))) {
      if (takeReadable(args, tool, kind, words, today) && has(args, pname)) break;
    }
    if (!has(args, pname)) return null;
  }
  return args;
}

function localToday() {  // dt.date.today(): the day where the page is opened
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

const CATALOG_WEIGHT = 0.7;

function catalogMatch(task, text) {  // tool_tagger.catalog_match: BM25 against each tool's words, in catalog order
  const SL = typeof DistillShortlist !== "undefined" ? DistillShortlist : require("./shortlist.js");
  const scores = SL.catalogScores(task, text);
  return task.tools.map((t) => CATALOG_WEIGHT * scores.get(t.name));
}

TT.TASKS["tool_call:bert"] = {
  budget: (spirit) => spirit.maxLength - 2,
  async predict(spirit, chars, context) {
    const task = spirit.recipe.task, names = outputNames(task);
    const offered = context.tools && context.tools.length ? context.tools : task.tools.map((t) => t.name);
    const today = context.today || localToday();
    let { ids, ranges } = TT.tokenRanges(spirit.tokenizer, chars);
    ids = ids.slice(0, spirit.maxLength - 2); ranges = ranges.slice(0, spirit.maxLength - 2);
    const logits = await spirit.forward([spirit.special.bos, ...ids, spirit.special.eos]);
    const first = names.indexOf(TOOL_PREFIX + task.tools[0].name);  // each tool of the catalog, then "none"
    const head = Array.from(logits[0]).slice(first);
    if (TT.argmax(head, TT.range(0, head.length)) === head.length - 1) return { name: null };
    const match = catalogMatch(task, chars.join(""));
    const tool = task.tools[TT.argmax(match.map((m, i) => head[i] + m), TT.range(0, match.length))];
    if (!offered.includes(tool.name)) return { name: null };
    const args = readArguments(chars, ranges, logits.slice(1, 1 + ids.length), names, tool, today);
    if (args === null) return { name: null };
    return { name: tool.name, arguments: Object.fromEntries(Object.keys(args).sort().map((k) => [k, args[k]])) };
  },
};

const DistillToolTagger = { outputNames, bioViterbi, readArguments, catalogMatch };
if (typeof module !== "undefined") module.exports = DistillToolTagger;

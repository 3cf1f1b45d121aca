// A large tool catalog narrowed to the tools a request could mean, by BM25 over each tool's words:
// distill/tasks/shortlist.py (same words, stems, weights; ties keep catalog order).
"use strict";

const SN = typeof DistillNormalise !== "undefined" ? DistillNormalise : require("./normalise.js");
const K1 = 1.2, B = 0.75;
const STOP = new Set(["a", "an", "the", "to", "of", "for", "in", "on", "at", "my", "me", "i", "is", "it", "and", "or", "be",
  "with", "by", "from", "please", "can", "you", "what", "how", "do", "this", "that", "up"]);
const TYPE_WORDS = { url: ["url", "website", "link"], email: ["email", "address"] };
const TYPE_PATTERNS = { url: SN.py("(?:https?://|www\\.)\\S+|\\b[\\w-]+\\.(?:com|org|net|io|co|uk|de|gov|edu)\\b"),
  email: SN.py("[\\w.+-]+@[\\w-]+\\.[\\w.]+") };
const pyStr = (value) => (value === true ? "True" : value === false ? "False" : String(value));

function bm25Words(text) {
  return (pyStr(text).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase().match(/[a-z0-9]+/g) || []).filter((w) => !STOP.has(w));
}

function stem(word) {  // plurals and -ing/-ed endings
  for (const suffix of ["ing", "ed", "es", "s"]) {
    if (word.endsWith(suffix) && word.length > suffix.length + 2) return word.slice(0, -suffix.length);
  }
  return word;
}

function requestTerms(text) {
  const terms = bm25Words(text).map(stem);
  for (const [kind, pattern] of Object.entries(TYPE_PATTERNS)) if (pattern.test(text)) terms.push(...TYPE_WORDS[kind]);
  return terms;
}

function toolDocument(tool) {
  const parts = [tool.name, tool.name, tool.description || ""];
  for (const [pname, param] of Object.entries(tool.parameters || {})) {
    parts.push(pname, param.description || "", ...(param.examples || []).map(pyStr), ...(TYPE_WORDS[param.type] || []));
    const values = param.values || [];
    parts.push(...(Array.isArray(values) ? values : [...Object.keys(values), ...Object.values(values).flat()]));
    parts.push(...Object.keys(param.words || {}));
  }
  parts.push(...(tool.phrasings || []).map((p) => p.replace(/\{[^}]*\}|\[|\]/g, " ")));
  return parts.flatMap((part) => bm25Words(part).map(stem));
}

class Index {
  constructor(tools) {
    this.names = tools.map((t) => t.name);
    this.docs = tools.map((t) => {
      const counts = new Map();
      for (const term of toolDocument(t)) counts.set(term, (counts.get(term) || 0) + 1);
      return counts;
    });
    this.lengths = this.docs.map((d) => [...d.values()].reduce((s, x) => s + x, 0));
    this.average = this.lengths.reduce((s, x) => s + x, 0) / Math.max(1, this.lengths.length);
    const frequency = new Map();
    for (const doc of this.docs) for (const term of doc.keys()) frequency.set(term, (frequency.get(term) || 0) + 1);
    const n = this.docs.length;
    this.idf = new Map([...frequency].map(([term, f]) => [term, Math.log(1 + (n - f + 0.5) / (f + 0.5))]));
  }

  scores(text) {
    const terms = requestTerms(text), out = new Map();
    this.names.forEach((name, i) => {
      let score = 0;
      for (const term of terms) {
        const tf = this.docs[i].get(term) || 0;
        if (tf) score += this.idf.get(term) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * this.lengths[i] / this.average));
      }
      out.set(name, score);
    });
    return out;
  }
}

const kept = (task, key, make) => task[key] || (Object.defineProperty(task, key, { value: make() }), task[key]);

function catalogScores(task, text) {  // shortlist.catalog_scores: {tool name: BM25 against its catalog card, phrasings aside}
  return kept(task, "bm25Cards", () => new Index(task.tools.map(({ phrasings, ...card }) => card))).scores(text);
}

function shortlist(task, text, names, limit) {  // the `limit` best of `names`, catalog order among equals
  const scores = kept(task, "bm25", () => new Index(task.tools)).scores(text);
  return names.map((name, i) => [name, i]).sort((a, b) => (scores.get(b[0]) || 0) - (scores.get(a[0]) || 0) || a[1] - b[1])
    .slice(0, limit).map(([name]) => name);
}

const DistillShortlist = { shortlist, catalogScores, Index };
if (typeof module !== "undefined") module.exports = DistillShortlist;

// What a span's text must look like to be a value of its type: distill/tasks/span_shapes.py
// (a span never crosses a line break; "&" splits names and a spaced dash dates; EMAIL is cut to
// the address; PHONE, CARD_NUMBER, DATE, ID, ADDRESS and PERSON have a shape; a numeric date
// tagged PHONE or ID is a DATE, one grouped like a card number a CARD_NUMBER). Offsets count code
// points, as in Python.
"use strict";

const SP = typeof DistillNormalise !== "undefined" ? DistillNormalise : require("./normalise.js");
const SPT = typeof DistillTokenizer !== "undefined" ? DistillTokenizer : require("./tokenizer.js");
const SHAPE_EMAIL = SP.py("[\\w.+'-]+@[\\w-]+(?:\\.[\\w-]+)+");
// a PHONE or ID whose whole text has one of these shapes is a value of that type (span_shapes.RETYPED)
const RETYPED = [
  ["(?:\\d{4}-\\d{1,2}-\\d{1,2}|\\d{1,2}[/.]\\d{1,2}[/.]\\d{4})", "DATE"],
  ["\\d{4}([ -]?)\\d{4}\\1\\d{4}\\1\\d{4}|3[47]\\d{2}([ -]?)\\d{6}\\2\\d{5}", "CARD_NUMBER"],
];
const OPENING_MARKS = "\"'“‘«";
const SEPARATORS = { PERSON: SP.py("\\n| & ", "g"), DATE: SP.py("\\n| [-–] ", "g") };
const ANY_TYPE = SP.py("\\n", "g");
// Python's str.isdigit(): decimal digits and the other digit characters (superscripts, circled digits, …)
const DIGIT = /^[\p{Nd}\u{b2}-\u{b3}\u{b9}\u{1369}-\u{1371}\u{19da}\u{2070}\u{2074}-\u{2079}\u{2080}-\u{2089}\u{2460}-\u{2468}\u{2474}-\u{247c}\u{2488}-\u{2490}\u{24ea}\u{24f5}-\u{24fd}\u{24ff}\u{2776}-\u{277e}\u{2780}-\u{2788}\u{278a}-\u{2792}\u{10a40}-\u{10a43}\u{10e60}-\u{10e68}\u{11052}-\u{1105a}\u{1f100}-\u{1f10a}]$/u;

const digits = (text) => [...text].filter((c) => DIGIT.test(c)).length;
const letters = (text) => [...text].filter((c) => /^\p{L}$/u.test(c)).length;
const codePoints = (text, utf16) => [...text.slice(0, utf16)].length;  // a match's index as Python counts it

const SHAPES = {
  PHONE: (t) => digits(t) >= 6,
  CARD_NUMBER: (t) => digits(t) >= 13 && digits(t) <= 19,
  DATE: (t) => digits(t) >= 1,
  ID: (t) => digits(t) >= 1,
  ADDRESS: (t) => letters(t) >= 1,
  PERSON: (t) => letters(t) >= 1 && digits(t) === 0,
};

const shapeSpan = (chars, start, end, kind) => ({ start, end, type: kind, text: chars.slice(start, end).join("") });

function values(chars, span) {  // the span cut where it holds two values, each non-blank part kept
  const separator = SEPARATORS[span.type] || ANY_TYPE, bounds = [span.start];
  for (const m of span.text.matchAll(separator)) {
    const at = codePoints(span.text, m.index);
    bounds.push(span.start + at, span.start + at + [...m[0]].length);
  }
  bounds.push(span.end);
  const parts = [];
  for (let k = 0; k + 1 < bounds.length; k += 2) {
    let a = bounds[k], b = bounds[k + 1];
    while (a < b && SPT.isSpace(chars[a])) a++;
    while (b > a && (SPT.isSpace(chars[b - 1]) || "-–".includes(chars[b - 1]))) b--;
    if (a < b) parts.push(shapeSpan(chars, a, b, span.type));
  }
  return parts;
}

function unquoted(chars, span) {  // an opening quote (or unmatched opening bracket) is not part of the value
  let start = span.start, value = [...span.text];
  while (value.length > 1 && (OPENING_MARKS.includes(value[0]) || (value[0] === "(" && !value.includes(")")))) {
    start += 1;
    value = value.slice(1);
  }
  return shapeSpan(chars, start, span.end, span.type);
}

function fitted(chars, span, types) {
  if (span.type === "PHONE" || span.type === "ID") {
    for (const [shape, kind] of RETYPED) if (types.has(kind) && SP.fullmatch(shape, span.text)) return { ...span, type: kind };
  }
  if (span.type === "EMAIL") {
    const m = SHAPE_EMAIL.exec(span.text);
    if (!m) return null;
    const at = span.start + codePoints(span.text, m.index), address = m[0].replace(/\.+$/, "");
    return shapeSpan(chars, at, at + [...address].length, "EMAIL");
  }
  const shape = SHAPES[span.type];
  return !shape || shape(span.text) ? span : null;
}

function fit(chars, spans, types) {  // span_shapes.fit: types is the Recipe's entity types (a Set)
  const out = [];
  for (const span of spans) {
    for (const part of values(chars, span)) {
      const kept = fitted(chars, unquoted(chars, part), types);
      if (kept) out.push(kept);
    }
  }
  return out;
}

const DistillSpanShapes = { fit };
if (typeof module !== "undefined") module.exports = DistillSpanShapes;

// From the words a person used to the value an API takes: distill/tasks/normalise.py, rule for rule.
// Python's patterns are kept as written and translated by py(): its \w, \d, \s and \b are
// Unicode-aware, JavaScript's are ASCII, so they become Unicode classes and lookarounds here.
// Dates are computed in UTC, so the page's time zone cannot move a day.
"use strict";

const W = "\\p{L}\\p{N}_", S = "\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

function py(source, flags = "") {  // a Python `re` pattern as a JavaScript RegExp (u flag)
  let out = "", inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\" && i + 1 < source.length) {
      const n = source[++i];
      const cls = { w: W, d: "\\p{Nd}", s: S }[n];
      if (cls) out += inClass ? cls : `[${cls}]`;
      else if (n === "b" && !inClass) out += `(?:(?<![${W}])(?=[${W}])|(?<=[${W}])(?![${W}]))`;
      else out += `\\${n}`;
      continue;
    }
    if (c === "[" && !inClass) inClass = true;
    else if (c === "]" && inClass) inClass = false;
    out += c;
  }
  return new RegExp(out, `u${flags}`);
}
const fullmatch = (source, text, flags = "") => py(`^(?:${source})$`, flags).exec(text);
const sub = (source, replacement, text) => text.replace(py(source, "g"), replacement);
const words = (text) => text.split(py("\\s+")).filter((w) => w);
const digitsValue = (text) => Number([...text].map((c) => {  // int("٣") is 3 in Python
  if (/[0-9.]/.test(c)) return c;
  let start = c.codePointAt(0);
  while (/^\p{Nd}$/u.test(String.fromCodePoint(start - 1))) start--;
  return String((c.codePointAt(0) - start) % 10);
}).join(""));

const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const WEEKDAY_SHORT = { ...Object.fromEntries(WEEKDAYS.map((w, i) => [w.slice(0, 3), i])), tues: 1, thur: 3, thurs: 3, weds: 2 };
const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
  "november", "december"];
const MONTH_NUMBER = { ...Object.fromEntries(MONTHS.map((m, i) => [m, i + 1])),
  ...Object.fromEntries(MONTHS.map((m, i) => [m.slice(0, 3), i + 1])), sept: 9 };
const UNITS = { zero: 0, one: 1, a: 1, an: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, couple: 2, dozen: 12 };
const TENS = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };
const SCALES = { hundred: 100, thousand: 1000, k: 1000, grand: 1000, million: 1000000, m: 1000000 };
const MINUTES_PER = { second: 1 / 60, sec: 1 / 60, s: 1 / 60, minute: 1, min: 1, m: 1, hour: 60, hr: 60, h: 60, day: 1440,
  week: 10080 };
const TRUE_WORDS = new Set(["true", "yes", "on", "urgent", "urgently", "important", "high priority", "priority", "asap",
  "shuffle", "shuffled", "shuffle on", "on shuffle", "random", "randomly", "mixed"]);
const FALSE_WORDS = new Set(["false", "no", "off", "not urgent", "no rush", "low priority", "not important", "no shuffle",
  "shuffle off", "in order", "without shuffle", "don't shuffle", "unshuffled"]);
const ARTICLES = ["the ", "a ", "an "];
const own = (table, key) => Object.prototype.hasOwnProperty.call(table, key);

const clean = (text) => words(sub("[^\\w\\s:./$€£¥+-]", " ", text.toLowerCase())).join(" ");

function pyRound(x, digits = 0) {  // Python's round(): the exact binary value, exact halves to even
  const exact = Math.abs(x).toFixed(100).split(".")[1].slice(digits);  // toFixed writes the exact value
  if (/^50*$/.test(exact)) return 2 * Math.round(x * 10 ** digits / 2) / 10 ** digits;
  return Number(x.toFixed(digits));
}

// ------------------------------------------------------------------ numbers

function wordsToNumber(text) {
  text = text.toLowerCase().replaceAll(",", "").trim();
  const m = fullmatch("(\\d+(?:\\.\\d+)?)\\s*(k|m|grand|thousand|million|hundred)?", text);
  if (m) return m[2] ? digitsValue(m[1]) * SCALES[m[2]] : digitsValue(m[1]);
  let total = 0, current = 0, seen = false;
  for (const word of text.replaceAll(" and ", " ").split(py("[\\s-]+"))) {
    if (!word) continue;
    if (own(UNITS, word)) current += UNITS[word];
    else if (own(TENS, word)) current += TENS[word];
    else if (own(SCALES, word)) {
      current = Math.max(current, 1) * SCALES[word];
      if (SCALES[word] >= 1000) { total += current; current = 0; }
    } else if (fullmatch("\\d+(?:\\.\\d+)?", word)) current += digitsValue(word);
    else return null;
    seen = true;
  }
  return seen ? total + current : null;
}

function number(surface, integer = false, unit = null, words = null) {  // words: the parameter's {"halfway": 50}
  const named = words ? enumValue(surface, Object.fromEntries(Object.keys(words).map((w) => [w, []]))) : null;
  if (named !== null) return words[named];
  let text = sub("(?<=\\d)(?=[fc]\\b)", " ", clean(sub("(?<=\\d),(?=\\d{3}\\b)", "", surface)));  // "68F"
  if (unit === "minutes") {
    const value = minutes(text);
    if (value !== null) return integer ? pyRound(value) : value;
  }
  if (TEMPERATURE_SCALES.includes(unit)) return temperature(text, integer, unit);
  text = sub("^(?:about|around|roughly|approx(?:imately)?)\\s+", "", text);
  text = sub("[$€£¥]|\\b(?:usd|eur|gbp|jpy|dollars?|bucks|euros?|pounds?|quid|yen|rupees?|pesos?|reais|francs?)\\b", " ", text);
  text = sub("\\b(?:degrees?|deg|f|c|fahrenheit|celsius|centigrade|percent|per cent|pct|x|times|of them|pcs|pieces|people|portions?)\\b", " ", text).trim();
  const value = wordsToNumber(text);
  if (value === null) return null;
  if (integer) return Number.isInteger(value) ? value : null;
  return Number.isInteger(value) ? value : pyRound(value, 2);
}

const TEMPERATURE_SCALES = ["celsius", "fahrenheit"];
const TEMPERATURE_UNITS = { f: "fahrenheit", fahrenheit: "fahrenheit", c: "celsius", celsius: "celsius", centigrade: "celsius" };
const inScale = (degrees, scale) => (scale === "celsius" ? (degrees - 32) * 5 / 9 : degrees * 9 / 5 + 32);  // normalise.in_scale

function temperature(text, integer, unit) {  // normalise.temperature: converted when said in the other scale
  const pattern = py(`\\b(${Object.keys(TEMPERATURE_UNITS).join("|")})\\b`, "g");
  const said = [...text.matchAll(pattern)].map((m) => TEMPERATURE_UNITS[m[1]]);
  let value = number(text);
  if (value === null || new Set(said).size > 1) return null;
  const scale = said.length ? said[0] : unit;
  if (scale !== unit) value = pyRound(inScale(value, unit), 1);
  return integer ? pyRound(value) : value;
}

function minutes(text) {
  text = text.replaceAll("half an hour", "30 minutes").replaceAll("quarter of an hour", "15 minutes");
  text = sub("(\\d+)\\s*h\\s*(\\d+)(?:\\s*m(?:in)?s?)?$", "$1 hours $2 minutes", text);
  if (fullmatch("\\d+(?:\\.\\d+)?", text)) return digitsValue(text);
  let total = 0, found = false;
  const unitsPattern = py("((?:\\d+(?:\\.\\d+)?|[a-z]+(?:[\\s-][a-z]+)?)?)\\s*(seconds?|secs?|minutes?|mins?|m|hours?|hrs?|h|days?|weeks?)\\b", "g");
  for (const [, amount = "", unit] of text.matchAll(unitsPattern)) {
    const value = amount.trim() ? wordsToNumber(amount) : 1;
    if (value === null) return null;
    total += value * MINUTES_PER[unit !== "s" ? unit.replace(/s+$/, "") : unit];
    found = true;
  }
  if (!found) return null;
  if (py("\\band a half\\b|\\bhalf\\b").test(text) && !text.includes("half an")) {
    const lastUnit = text.match(py("(hours?|minutes?|hrs?|mins?)", "g"));
    total += lastUnit && lastUnit[lastUnit.length - 1].startsWith("h") ? 30 : 0.5;
  }
  return total;
}

// ------------------------------------------------------------------ dates and times

const day = (y, m, d) => new Date(Date.UTC(y, m - 1, d));
const iso = (date) => date.toISOString().slice(0, 10);
const addDays = (date, n) => new Date(date.getTime() + n * 86400000);
const weekday = (date) => (date.getUTCDay() + 6) % 7;  // Monday is 0, as in Python
const parseDay = (text) => { const [y, m, d] = text.split("-").map(Number); return day(y, m, d); };

function validDay(y, m, d) {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return null;
  const date = day(y, m, d);
  if (y < 100) date.setUTCFullYear(y);
  return date.getUTCMonth() === m - 1 && date.getUTCDate() === d ? date : null;
}

function monthDay(today, month, dayNumber, year) {
  if (year !== null) return validDay(year > 99 ? year : 2000 + year, month, dayNumber);
  const candidate = validDay(today.getUTCFullYear(), month, dayNumber);
  if (candidate === null) return null;
  return candidate >= today ? candidate : validDay(today.getUTCFullYear() + 1, month, dayNumber);
}

const HOLIDAYS = {  // normalise.HOLIDAYS
  "christmas eve": [12, 24], "xmas eve": [12, 24], christmas: [12, 25], "christmas day": [12, 25], xmas: [12, 25],
  "boxing day": [12, 26], "new year s eve": [12, 31], "new years eve": [12, 31], nye: [12, 31], "new year s day": [1, 1],
  "new years day": [1, 1], "new year s": [1, 1], "new years": [1, 1], "valentine s day": [2, 14], "valentines day": [2, 14],
  valentines: [2, 14], halloween: [10, 31],
};

function date(surface, today) {
  let text = clean(surface);
  text = sub("^(?:on|for|by|this coming|this|next|coming|upcoming)\\s+", "", text);
  text = sub("\\s+(?:morning|afternoon|evening|night)$", "", text);
  text = sub("\\b(?:tomm?orr?o?w|2morr?ow|2moro)\\b", "tomorrow", text).replaceAll("tonite", "tonight");
  const relative = { today: 0, tonight: 0, tomorrow: 1, tmrw: 1, tmr: 1, "day after tomorrow": 2 };
  if (own(relative, text)) return iso(addDays(today, relative[text]));
  const m = fullmatch("in (\\w+(?: \\w+)?) days?", text);
  if (m && wordsToNumber(m[1]) !== null) return iso(addDays(today, Math.trunc(wordsToNumber(m[1]))));
  const dayName = WEEKDAYS.includes(text) ? WEEKDAYS.indexOf(text) : (own(WEEKDAY_SHORT, text) ? WEEKDAY_SHORT[text] : null);
  if (dayName !== null) return iso(addDays(today, ((dayName - weekday(today)) % 7 + 7) % 7 || 7));
  if (own(HOLIDAYS, text)) return iso(monthDay(today, ...HOLIDAYS[text], null));
  const found = absoluteDate(text, today);
  return found ? iso(found) : null;
}

function absoluteDate(text, today) {
  text = sub("^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)\\s*", "", text);
  let m = fullmatch("(\\d{4})-(\\d{1,2})-(\\d{1,2})", text);
  if (m) return monthDay(today, digitsValue(m[2]), digitsValue(m[3]), digitsValue(m[1]));
  m = fullmatch("(\\d{1,2})\\.(\\d{1,2})\\.(\\d{2,4})", text);
  if (m) return monthDay(today, digitsValue(m[2]), digitsValue(m[1]), digitsValue(m[3]));
  const months = Object.keys(MONTH_NUMBER).sort((a, b) => b.length - a.length).join("|");
  const dayPart = "(\\d{1,2})(?:st|nd|rd|th)?";
  m = fullmatch(`(?:the )?${dayPart}(?: of)? (${months})\\.?(?: (\\d{2,4}))?`, text);
  if (m) return monthDay(today, MONTH_NUMBER[m[2]], digitsValue(m[1]), m[3] ? digitsValue(m[3]) : null);
  m = fullmatch(`(${months})\\.? (?:the )?${dayPart}(?: (\\d{2,4}))?`, text);
  if (m) return monthDay(today, MONTH_NUMBER[m[1]], digitsValue(m[2]), m[3] ? digitsValue(m[3]) : null);
  m = fullmatch(`the ${dayPart}`, text);
  if (m) {
    const dayNumber = digitsValue(m[1]);
    for (let ahead = 0; ahead < 3; ahead++) {
      const month = (today.getUTCMonth() + ahead) % 12 + 1;
      const year = today.getUTCFullYear() + Math.floor((today.getUTCMonth() + ahead) / 12);
      const candidate = validDay(year, month, dayNumber);
      if (candidate && candidate >= today) return candidate;
    }
  }
  return null;
}

const pad2 = (n) => String(n).padStart(2, "0");

function time(surface) {
  let text = clean(surface).replaceAll("o clock", "").replaceAll("oclock", "").replaceAll(".", ":");
  text = sub("^(?:at|around|by|about)\\s+", "", text);
  if (["noon", "midday", "12 noon", "lunchtime"].includes(text)) return "12:00";
  if (text === "midnight") return "00:00";
  text = clockWords(text);
  const m = fullmatch("(\\d{1,2})(?::(\\d{2}))?\\s*(am|pm|a m|p m|in the morning|in the afternoon|in the evening|at night|" +
    "tonight|this evening|this morning|this afternoon)?", text.trim());
  if (!m) return null;
  let hour = digitsValue(m[1]);
  const minute = m[2] !== undefined ? digitsValue(m[2]) : 0, part = (m[3] || "").replaceAll(" ", "");
  if (minute > 59 || hour > 23) return null;
  const evening = ["pm", "intheafternoon", "intheevening", "atnight", "tonight", "thisevening", "thisafternoon"].includes(part);
  if (part && hour > 12) return null;
  if (evening && hour < 12) hour += 12;
  if (["am", "inthemorning", "thismorning"].includes(part) && hour === 12) hour = 0;
  if (!part && m[2] === undefined && hour <= 12) return null;  // "at 7": morning or evening? not a guess
  return `${pad2(hour)}:${pad2(minute)}`;
}

function clockWords(text) {
  const m = fullmatch("(quarter|half|\\d{1,2}|[a-z]+) (past|to) ([a-z]+|\\d{1,2})(.*)", text);
  if (!m) return text;
  let minutesPart = { quarter: 15, half: 30 }[m[1]] || wordsToNumber(m[1]);
  let hour = wordsToNumber(m[3]);
  if (minutesPart === null || minutesPart === undefined || hour === null || !(hour >= 1 && hour <= 12)) return text;
  minutesPart = Math.trunc(minutesPart); hour = Math.trunc(hour);
  if (m[2] === "to") { hour = (hour - 1) || 12; minutesPart = 60 - minutesPart; }
  return `${hour}:${pad2(minutesPart)}${m[4]}`;
}

// ------------------------------------------------------------------ the rest

function datetime(surface, today) {
  const m = fullmatch("(.+?)(?:\\s+at|,)?\\s+(\\d{1,2}(?::\\d{2})?\\s*(?:am|pm)?|noon|midnight)", clean(surface));
  if (!m) return null;
  const d = date(m[1], today), h = time(m[2]);
  return d && h ? `${d}T${h}` : null;
}

function enumValue(surface, values) {
  const text = clean(surface);
  const names = [];
  for (const [member, synonyms] of Object.entries(values)) for (const name of [member, ...synonyms]) names.push([clean(name), member]);
  for (const [name, member] of names) if (text === name) return member;
  const longest = (fits) => {  // max((len(name), member)): the longest name, then the greatest value
    let best = null;
    for (const [name, member] of names) {
      if (!name || !fits(name)) continue;
      const length = [...name].length;
      if (!best || length > best[0] || (length === best[0] && member > best[1])) best = [length, member];
    }
    return best;
  };
  const said = words(text);
  const best = longest((name) => ` ${text} `.includes(` ${name} `)) || longest((name) => inflectedIn(words(name), said));
  return best ? best[1] : null;
}

const WORD_ENDINGS = ["s", "es", "ed", "ing", "ity", "y"];

function wordBases(word) {  // normalise.word_bases: "dimmed" may be dim, "muting" mute
  const chars = [...word], bases = new Set([word]);
  for (const ending of WORD_ENDINGS) {
    const base = chars.slice(0, chars.length - ending.length);
    if (!word.endsWith(ending) || base.length < 3 || !/^\p{L}+$/u.test(base.join(""))) continue;
    bases.add(base.join("")).add(base.join("") + "e");
    const last = base[base.length - 1];
    if (last === base[base.length - 2] && !"aeiouy".includes(last)) bases.add(base.slice(0, -1).join(""));
  }
  return [...bases].filter((b) => [...b].length >= 3);
}

function sameWord(a, b) {
  if (a === b) return true;
  const other = new Set(wordBases(b));
  return wordBases(a).some((base) => other.has(base));
}

function inflectedIn(nameWords, said) {
  for (let i = 0; i + nameWords.length <= said.length; i++) {
    if (nameWords.every((n, k) => sameWord(n, said[i + k]))) return true;
  }
  return false;
}

function boolean(surface) {
  const text = clean(surface);
  if (FALSE_WORDS.has(text) || ["not ", "no ", "don't", "without"].some((p) => text.startsWith(p))) return false;
  if (TRUE_WORDS.has(text) || words(text).some((w) => ["urgent", "urgently", "shuffle", "shuffled"].includes(w))) return true;
  return null;
}

const stripChars = (text, chars) => {
  let a = 0, b = text.length;
  while (a < b && chars.includes(text[a])) a++;
  while (b > a && chars.includes(text[b - 1])) b--;
  return text.slice(a, b);
};
const pyTrim = (text) => text.replace(py("^\\s+|\\s+$", "g"), "");  // str.strip()

function url(surface) {
  const text = pyTrim(surface).replace(/[.,!?]+$/u, "");
  const m = fullmatch("(https?://)?((?:www\\.)?[\\w-]+(?:\\.[\\w-]+)+)([/?#][^\\s]*)?", text, "i");
  if (text.includes(" ") || !m) return null;
  return (m[1] || "https://").toLowerCase() + m[2].toLowerCase() + (m[3] || "");
}

function string(surface) {
  const text = pyTrim(surface);
  for (const article of ARTICLES) {
    if (text.toLowerCase().startsWith(article) && [...text].length > article.length) return [...text].slice(article.length).join("");
  }
  return text;
}

function enumValues(param) {
  const values = param.values || [];
  return Array.isArray(values) ? Object.fromEntries(values.map((v) => [String(v), []])) : values;
}

function value(param, surface, today) {  // today: "YYYY-MM-DD"
  const kind = param.type, todayDate = parseDay(today);
  if (kind === "array") {
    const out = (Array.isArray(surface) ? surface : [surface]).map((item) => string(String(item)));
    return out.length && out.every((x) => x) ? out : null;
  }
  if (typeof surface !== "string") return kind === "boolean" && typeof surface === "boolean" ? surface : null;
  if (kind === "string") return (param.literal ? pyTrim(surface) : string(surface)) || null;
  if (kind === "date") return date(surface, todayDate);
  if (kind === "time") return time(surface);
  if (kind === "datetime") return datetime(surface, todayDate);
  if (kind === "integer" || kind === "number") return number(surface, kind === "integer", param.unit ?? null, param.words ?? null);
  if (kind === "url") return url(surface);
  if (kind === "email") {
    const text = stripChars(pyTrim(surface), ".,");
    return fullmatch("[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+", text) ? text : null;
  }
  if (kind === "enum") return enumValue(surface, enumValues(param));
  if (kind === "boolean") return boolean(surface);
  return null;
}

function valueFits(param, v) {  // tool_call.value_fits
  const kind = param.type;
  const inRange = (x) => (param.minimum ?? -Infinity) <= x && x <= (param.maximum ?? Infinity);
  if (kind === "enum") return own(enumValues(param), v);
  if (kind === "boolean") return typeof v === "boolean";
  if (kind === "integer") return Number.isInteger(v) && inRange(v);
  if (kind === "number") return typeof v === "number" && inRange(v);
  if (kind === "array") return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" || typeof x === "number");
  if (typeof v !== "string" || !pyTrim(v)) return false;
  const patterns = { date: "\\d{4}-\\d{2}-\\d{2}", time: "\\d{2}:\\d{2}", datetime: "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}",
    email: "[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+", url: "https?://\\S+" };
  return !own(patterns, kind) || fullmatch(patterns[kind], v) !== null;
}

const DistillNormalise = { value, valueFits, py, fullmatch, sub, words, number, date, time, enumValue, boolean, url, string };
if (typeof module !== "undefined") module.exports = DistillNormalise;

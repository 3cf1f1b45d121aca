// Text to SQL with the encoder design (distill/tasks/sql_tagger.py): [CLS] and eight marker tokens
// each choose one part of the query over labels the schema defines, the question's tokens are tagged
// with the condition (or LIMIT, HAVING) their words are the value of, and the query is rendered from
// those choices. Checked against the Python by tests/test_browser_code.py.
"use strict";

const QT = typeof DistillTasks !== "undefined" ? DistillTasks : require("./tasks.js");
const QN = typeof DistillNormalise !== "undefined" ? DistillNormalise : require("./normalise.js");
const QTT = typeof DistillToolTagger !== "undefined" ? DistillToolTagger : require("./tool_tagger.js");
const QSQL = typeof DistillTextToSql !== "undefined" ? DistillTextToSql : require("./text_to_sql.js");
const SQL_FRAME = ["from", "select1", "select2", "select3", "group", "order", "having", "subquery", "limit"];
const SQL_MARKER_WORDS = ["select", "also", "and", "group", "order", "having", "where", "limit"];
const SQL_AGGREGATES = ["SUM", "AVG", "MIN", "MAX"];
const SQL_TEXT_OPS = ["=", "!=", "LIKE"], SQL_NUMBER_OPS = ["=", "!=", ">", "<", ">=", "<=", "BETWEEN"];
const SQL_HAVING_OPS = [">", "<", ">=", "<=", "="];
const SQL_TABLE_REF = /\b([a-z_][a-z0-9_]*)\.(?:[a-z_][a-z0-9_]*|\*)/gi;  // sql_tagger.TABLE_REF

class SqlSchema {  // sql_tagger.Schema
  constructor(task) {
    this.tables = task.tables.map((t) => t.name);
    this.tableWords = new Map(task.tables.map((t) => [t.name, { name: t.name, phrase: t.phrase,
      synonyms: [t.singular, ...(t.synonyms || [])].filter((w) => w) }]));
    this.columns = new Map();
    this.links = new Map();
    for (const t of task.tables) for (const c of t.columns) this.columns.set(`${t.name}.${c.name}`, c);
    for (const t of task.tables) {
      for (const c of t.columns) {
        if (!c.references) continue;
        const [parent, key] = c.references.split(".");
        if (!this.links.has(`${t.name}|${parent}`)) this.links.set(`${t.name}|${parent}`, `${t.name}.${c.name} = ${parent}.${key}`);
        if (!this.links.has(`${parent}|${t.name}`)) this.links.set(`${parent}|${t.name}`, `${parent}.${key} = ${t.name}.${c.name}`);
      }
    }
    this.paths = [];
    let frontier = this.tables.map((t) => [t]);
    while (frontier.length) {
      this.paths.push(...frontier);
      frontier = frontier.flatMap((p) => this.tables.filter((t) => !p.includes(t) && this.links.has(`${p[p.length - 1]}|${t}`)
        && p.length < 4).map((t) => [...p, t]));
    }
  }

  numeric(column) { return ["integer", "number"].includes(this.columns.get(column).type); }

  label() {  // sql_tagger.Schema.outputs, position and slot_labels: the head's outputs, built once per schema
    const tags = ["O", ...sqlTagKinds(this).flatMap((k) => [`B-${k}`, `I-${k}`])];
    this.outputs = [...tags, ...SQL_FRAME.flatMap((slot) => sqlChoices(this, slot).map((label) => `${slot}:${label}`))];
    this.position = new Map(this.outputs.map((name, i) => [name, i]));
    this.slotLabels = Object.fromEntries(SQL_FRAME.map((slot) =>
      [slot, sqlChoices(this, slot).map((label) => [this.position.get(`${slot}:${label}`), label])]));
    return this;
  }

  of(tables) { return [...this.columns.keys()].filter((c) => tables.includes(c.split(".")[0])); }
}

function sqlExpressions(schema, tables) {  // sql_tagger.expressions
  const out = ["*", "COUNT(*)", ...tables.map((t) => `${t}.*`)];
  for (const column of schema.of(tables)) {
    out.push(column, `DISTINCT ${column}`, `COUNT(DISTINCT ${column})`);
    if (schema.numeric(column)) out.push(...SQL_AGGREGATES.map((agg) => `${agg}(${column})`));
  }
  return out;
}

function sqlChoices(schema, slot) {  // sql_tagger.choices
  const numeric = [...schema.columns.keys()].filter((c) => schema.numeric(c));
  const measures = ["COUNT(*)", ...numeric.flatMap((c) => SQL_AGGREGATES.map((agg) => `${agg}(${c})`))];
  const columns = [...schema.columns.keys()];
  if (slot === "from") return schema.paths.map((p) => p.join(">"));
  if (slot.startsWith("select")) return ["none", ...sqlExpressions(schema, schema.tables)];
  if (slot === "group") return ["none", ...columns];
  if (slot === "order") return ["none", ...[...measures, ...columns].flatMap((e) => [`${e} ASC`, `${e} DESC`])];
  if (slot === "having") return ["none", ...measures.flatMap((m) => SQL_HAVING_OPS.map((op) => `${m} ${op}`))];
  if (slot === "subquery") {
    const keyed = [...schema.links.values()].flatMap((a) => ["", "NOT "].map((neg) => `${a.split(" = ")[0]} ${neg}IN ${a.split(" = ")[1]}`));
    return ["none", ...keyed, ...numeric.flatMap((c) => [">", "<"].map((op) => `${c} ${op} AVG`))];
  }
  return ["none", "1", "N"];
}

function sqlTagKinds(schema) {  // sql_tagger.tag_kinds
  const kinds = ["limit", "having"];
  for (const column of schema.columns.keys()) {
    kinds.push(...(schema.numeric(column) ? SQL_NUMBER_OPS : SQL_TEXT_OPS).map((op) => `where:${column} ${op}`));
  }
  return kinds;
}

const SQL_SCHEMAS = new WeakMap();  // sql_tagger.schema_of: one per task, its outputs built once

function sqlSchemaOf(task) {
  if (!SQL_SCHEMAS.has(task)) SQL_SCHEMAS.set(task, new SqlSchema(task).label());
  return SQL_SCHEMAS.get(task);
}

function sqlOutputNames(task) {  // sql_tagger.output_names
  return [...sqlSchemaOf(task).outputs];
}

function sqlBest(row, labels, fits) {  // sql_tagger._best: Python's max over (score, label)
  let best = null;
  for (const [i, label] of labels) {
    if (!fits(label)) continue;
    if (!best || row[i] > best[0] || (row[i] === best[0] && label > best[1])) best = [row[i], label];
  }
  return best[1];
}

function sqlUnchosen(frame, slot, fits) {  // sql_tagger._unchosen
  if (!slot.startsWith("select")) return fits;
  const taken = SQL_SELECTS.filter((s) => s in frame).map((s) => frame[s]).filter((l) => l !== "none");
  if (frame.group !== "none") taken.push(...SQL_AGGREGATES.map((fn) => `${fn}(${frame.group})`), `COUNT(DISTINCT ${frame.group})`);
  return (label) => !taken.includes(label) && fits(label);
}

function sqlMeasured(frame) {  // sql_tagger._measured
  const labels = [...SQL_SELECTS, "order", "having"].map((s) => frame[s] ?? "none");
  return new Set(labels.flatMap((label) => [...label.matchAll(/(?:SUM|AVG|MIN|MAX)\(([^)]+)\)/g)].map((m) => m[1])));
}

function sqlFits(tables) {  // sql_tagger._fits
  return (label) => {
    if (label === "*" && tables.length > 1) return false;
    let mentioned = [...label.matchAll(SQL_TABLE_REF)].map((m) => m[1]);
    if (label.endsWith(" AVG") || label.includes(" IN ")) mentioned = [label.split(" ")[0].split(".")[0]];
    return mentioned.every((t) => tables.includes(t));
  };
}

const SQL_OPERATOR_BEFORE = [  // sql_tagger.OPERATOR_BEFORE, OPERATOR_AFTER, NEGATION_BEFORE: the same Python patterns
  ["<=", String.raw`(?:at most|no more than|not more than|or less than|up to|a maximum of|<=)`],
  [">=", String.raw`(?:at least|no less than|not less than|or more than|a minimum of|since|in or after|>=)`],
  ["<", String.raw`(?:under|below|less than|lower than|fewer than|cheaper than|smaller than|before|prior to|<)`],
  [">", String.raw`(?:over|above|more than|greater than|higher than|bigger than|larger than|pricier than|exceeding|after|>)`],
  ["=", String.raw`(?:in|during|exactly|equal to|from)`],
];
const SQL_OPERATOR_AFTER = [[">=", String.raw`(?:or more|or above|and up|and above|or higher|or later|onwards|or after|\+)`],
  ["<=", String.raw`(?:or less|or below|or fewer|or lower|or earlier|or before)`]];
const SQL_NEGATION_BEFORE = String.raw`(?:(?<!\w)(?:not|except|other than|excluding|outside(?: of)?|neither|nor|besides|apart from)|n't)(?: in| the| from)?`;

function statedOperator(chars, start, end, guess, numeric) {  // sql_tagger.stated_operator
  const before = chars.slice(Math.max(0, start - 30), start).join("").toLowerCase();
  const after = chars.slice(end, end + 20).join("").toLowerCase();
  if (!numeric) {
    if (QN.py(`${SQL_NEGATION_BEFORE}\\s*$`).test(before)) return "!=";
    return guess === "!=" ? "=" : guess;
  }
  if (guess === "BETWEEN") return guess;
  for (const [op, words] of SQL_OPERATOR_AFTER) if (QN.py(`^\\s*${words}(?!\\w)`).test(after)) return op;
  for (const [op, words] of SQL_OPERATOR_BEFORE) if (QN.py(`(?<!\\w)${words}\\s*(?:\\$|€|£)?\\s*$`).test(before)) return op;
  return guess;
}

const SQL_DIRECTION_WORDS = {  // sql_tagger.DIRECTION_WORDS, AGGREGATE_WORDS
  ASC: String.raw`(?:lowest|(?<!at )least|fewest|smallest|cheapest|earliest|oldest|bottom|minimum|ascending)`,
  DESC: String.raw`(?:highest|(?<!at )most|largest|biggest|priciest|greatest|newest|latest|top|maximum|descending)`,
};
const SQL_AGGREGATE_WORDS = {
  AVG: String.raw`(?:avg|av[ae]?r[ae]?ge|mean|typical)`,
  MIN: String.raw`(?:min|minimum|lowest|smallest|(?<!at )least|earliest|oldest|cheapest)`,
  MAX: String.raw`(?:max|maximum|highest|largest|biggest|latest|newest|most recent|priciest)`,
};

const sqlEscape = (w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function mentions(text, column) {  // sql_tagger.mentions: [start, end] in the string's own units
  const words = [column.name.replaceAll("_", " "), column.phrase, ...(column.synonyms || [])].filter((w) => w);
  const lowered = text.toLowerCase(), found = [];
  for (const w of words) {
    const stem = sqlEscape(w.toLowerCase());
    const plural = stem.endsWith("y") ? `${stem.slice(0, -1)}(?:y|ies)` : `${stem}(?:s|es)?`;
    for (const m of lowered.matchAll(QN.py(String.raw`(?<!\w)${plural}(?!\w)`, "g"))) found.push([m.index, m.index + m[0].length]);
  }
  return found;
}

function mentioned(text, column) {  // sql_tagger.mentioned
  return mentions(text, column).length > 0;
}

function statedColumn(text, label, schema) {  // sql_tagger.stated_column
  const refs = [...label.matchAll(/\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b/gi)];
  if (refs.length !== 1) return label;
  const [, table, name] = refs[0], chosen = `${table}.${name}`;
  if (mentioned(text, schema.columns.get(chosen))) return label;
  const numericOnly = /^(SUM|AVG|MIN|MAX)\(/.test(label) || [" ASC", " DESC", " AVG"].some((end) => label.endsWith(end));
  const named = schema.of([table]).filter((c) => c !== chosen && mentioned(text, schema.columns.get(c))
    && (numericOnly ? schema.numeric(c) : true));
  return named.length === 1 ? label.replace(chosen, named[0]) : label;
}

const SQL_SELECTS = ["select1", "select2", "select3"];
const SQL_LIST_JOINERS = String.raw`\s*(?:,\s*(?:and|&|plus)?|and|&|plus|as well as|/)\s*`;
const SQL_PLAIN = /^(?:[a-z_][a-z0-9_]*\.)?(?:[a-z_][a-z0-9_]*|\*)$/i;
const sqlChosen = (frame) => SQL_SELECTS.map((s) => frame[s]).filter((l) => l !== "none");  // sql_tagger._chosen
const sqlRows = (table, tables) => (tables.length === 1 ? "*" : `${table}.*`);  // sql_tagger._rows
const sqlShow = (frame, labels) => SQL_SELECTS.forEach((slot, i) => { frame[slot] = labels[i] ?? "none"; });  // sql_tagger._show

function statedList(text, frame, schema, tables) {  // sql_tagger.stated_list
  const chosen = sqlChosen(frame);
  if (frame.group !== "none" || !chosen.every((l) => SQL_PLAIN.test(l))) return;
  const owner = chosen.find((l) => l.includes("."))?.split(".")[0] ?? tables[0];
  const spots = schema.of([owner]).flatMap((column) => mentions(text, schema.columns.get(column)).map(([a, b]) => [a, -b, column]))
    .sort((x, y) => x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0));
  const runs = [];
  let lastEnd = -1;
  for (const [start, negativeEnd, column] of spots) {
    if (start < lastEnd) continue;
    if (runs.length && QN.fullmatch(SQL_LIST_JOINERS, text.slice(lastEnd, start)) && !runs[runs.length - 1].includes(column)) {
      runs[runs.length - 1].push(column);
    } else runs.push([column]);
    lastEnd = -negativeEnd;
  }
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a), []);
  if (longest.length >= 2) sqlShow(frame, longest);
}

function unnamedColumn(text, frame, schema, tables) {  // sql_tagger.unnamed_column
  const chosen = sqlChosen(frame);
  if (frame.group !== "none" || chosen.length !== 1 || !schema.columns.has(chosen[0])) return;
  const table = chosen[0].split(".")[0];
  if (!schema.of([table]).some((c) => mentioned(text, schema.columns.get(c)))) frame.select1 = sqlRows(table, tables);
}

function knownColumn(frame, tables) {  // sql_tagger.known_column
  const chosen = sqlChosen(frame);
  const fixed = sqlGrouped(frame.conditions).filter(([, op, values]) => op === "=" && values.length === 1).map(([c]) => c);
  if (frame.group === "none" && chosen.length === 1 && fixed.includes(chosen[0])) {
    frame.select1 = sqlRows(chosen[0].split(".")[0], tables);
  }
}

function askedRows(text, frame, schema, tables) {  // sql_tagger.asked_rows
  const chosen = sqlChosen(frame);
  if (frame.group !== "none" || chosen.length !== 1 || !schema.columns.has(chosen[0])) return;
  const table = chosen[0].split(".")[0], lowered = text.toLowerCase();
  const columns = schema.of([table]).flatMap((c) => mentions(text, schema.columns.get(c)));
  for (const [start, end] of mentions(text, schema.tableWords.get(table))) {
    const asked = QN.py(String.raw`(?<!\w)(?:which|what)\s+$`).test(lowered.slice(0, start));
    const then = end + /^(?:'s|’s)?\s*/.exec(lowered.slice(end))[0].length;
    if (asked && !columns.some(([columnStart]) => columnStart === then)) {
      frame.select1 = sqlRows(table, tables);
      return;
    }
  }
}

const SQL_MEASURE = /^(?:COUNT|SUM|AVG|MIN|MAX)\(/;

function measuresAlone(frame, tables) {  // sql_tagger.measures_alone
  const chosen = sqlChosen(frame), measures = chosen.filter((l) => SQL_MEASURE.test(l));
  if (frame.group !== "none" || !measures.length || (measures.length === chosen.length && frame.order === "none")) return;
  sqlShow(frame, frame.order === "none" ? measures : [sqlRows(tables[0], tables)]);
}

function unusedTables(frame) {  // sql_tagger.unused_tables
  const path = frame.from.split(">");
  const labels = [...SQL_SELECTS, "group", "order", "having", "subquery"].map((s) => frame[s]);
  const text = [...labels, ...frame.conditions.map(([c]) => c)].join(" ");
  const used = new Set([...text.matchAll(SQL_TABLE_REF)].map((m) => m[1]));
  if (text.includes("COUNT(*)")) used.add(path[0]);
  while (path.length > 1 && !used.has(path[path.length - 1])) path.pop();
  while (path.length > 1 && !used.has(path[0])) path.shift();
  frame.from = path.join(">");
}

const SQL_SUM_WORDS = String.raw`(?:totals?|in total|sum|summed|combined|altogether|in all|overall)`;

function howMuch(text, frame, schema, tables) {  // sql_tagger.how_much
  if (frame.group !== "none" || SQL_SELECTS.map((s) => frame[s]).join("|") !== "COUNT(*)|none|none") return;
  const summed = sqlSays(text, SQL_SUM_WORDS), howMuch = sqlSays(text, "how much");
  if (!howMuch && !summed) return;
  if (!howMuch) text = text.toLowerCase().replace(QN.py(String.raw`(?<!\w)${SQL_SUM_WORDS}(?!\w)`, "g"), " ");
  const filtered = new Set(frame.conditions.map(([c]) => c));
  const named = schema.of(tables.slice(0, 1)).filter((c) => schema.numeric(c) && !filtered.has(c) && mentioned(text, schema.columns.get(c)));
  if (named.length === 1) frame.select1 = summed ? `SUM(${named[0]})` : named[0];
}

const SQL_EACH_WORDS = String.raw`(?:per|for each|for every|in each|broken down by|grouped by|split by)`;  // sql_tagger.EACH_WORDS

function statedGroup(text, frame, schema, tables) {  // sql_tagger.stated_group
  if (frame.group !== "none" || frame.order !== "none") return;
  const lowered = text.toLowerCase(), before = QN.py(String.raw`(?<!\w)${SQL_EACH_WORDS}\s+(?:the\s+)?$`);
  const grouped = schema.of(tables).filter((c) => !schema.columns.get(c).key
    && mentions(text, schema.columns.get(c)).some(([start]) => before.test(lowered.slice(0, start))));
  if (grouped.length !== 1) return;
  const group = grouped[0];
  frame.group = group;
  sqlShow(frame, [group, ...sqlChosen(frame).filter((label) => label !== group && SQL_MEASURE.test(label))]);
}

function statedMeasure(text, frame, schema, tables) {  // sql_tagger.stated_measure
  const group = frame.group;
  if (group === "none" || frame.order !== "none" || frame.having !== "none") return;
  const measure = saidMeasure(text, schema, tables, group, frame.conditions.map(([c]) => c));
  const slots = SQL_SELECTS.filter((s) => SQL_MEASURE.test(frame[s]));
  const slot = (slots.length ? slots : SQL_SELECTS.filter((s) => frame[s] === "none"))[0];
  if (measure !== null && slot) frame[slot] = measure;
}

function saidMeasure(text, schema, tables, group, filtered = []) {  // sql_tagger.said_measure
  if (sqlSays(text, SQL_COUNT_WORDS)) return null;
  const said = sqlNamed(text, { ...SQL_AGGREGATE_WORDS, SUM: SQL_SUM_WORDS });
  const named = schema.of(tables).filter((c) => c !== group && schema.numeric(c) && mentioned(text, schema.columns.get(c)) && !filtered.includes(c));
  return said.length === 1 && named.length === 1 ? `${said[0]}(${named[0]})` : null;
}

function runnerUpHaving(text, logits, frame, schema, tables) {  // sql_tagger._runner_up_having
  const fits = sqlFits(tables);
  const best = sqlBest(logits[SQL_FRAME.indexOf("having")], schema.slotLabels.having, (label) => label !== "none" && fits(label));
  const cut = best.lastIndexOf(" "), measure = best.slice(0, cut), op = best.slice(cut + 1);
  const said = saidMeasure(text, schema, tables, frame.group);
  if (said !== null) return `${said} ${op}`;
  return statedHaving(text, `${asSaidAverage(text, statedColumn(text, measure, schema))} ${op}`);
}

function statedHaving(text, label) {  // sql_tagger.stated_having
  const cut = label.lastIndexOf(" ");
  return cut > 0 ? `${statedAggregate(text, label.slice(0, cut), "none")} ${label.slice(cut + 1)}` : label;
}

function unmeasuredGroup(frame) {  // sql_tagger.unmeasured_group
  const chosen = sqlChosen(frame);
  if (frame.group === "none" || (chosen.length === 1 && chosen[0] === frame.group)) return;
  if (![...SQL_SELECTS, "order", "having"].some((s) => SQL_MEASURE.test(frame[s]))) frame.group = "none";
}

function shownRanking(text, frame) {  // sql_tagger.shown_ranking
  const measure = frame.order.slice(0, Math.max(0, frame.order.lastIndexOf(" ")));
  if (frame.group === "none" || !SQL_MEASURE.test(measure) || sqlChosen(frame).includes(measure)) return;
  const free = SQL_SELECTS.filter((slot) => frame[slot] === "none");
  if (free.length && sqlSays(text, measure === "COUNT(*)" ? "how many" : "how much")) frame[free[0]] = measure;
}

const SQL_COUNT_WORDS = String.raw`(?:how many|number of|count of|count the|headcount|head count)`;

function statedCount(text, frame) {  // sql_tagger.stated_count
  if (frame.group !== "none" || frame.order !== "none" || !sqlChosen(frame).every((l) => SQL_PLAIN.test(l))) return;
  if (sqlSays(text, SQL_COUNT_WORDS)) Object.assign(frame, { select1: "COUNT(*)", select2: "none", select3: "none" });
}

function sqlSays(text, words) {  // sql_tagger._says
  return QN.py(String.raw`(?<!\w)${words}(?!\w)`).test(text.toLowerCase());
}

function sqlNamed(text, table) {  // sql_tagger._named
  return Object.keys(table).filter((key) => sqlSays(text, table[key]));
}

const SQL_SIZE_WORDS = String.raw`(?:biggest|largest|smallest|priciest|cheapest|(?:most|least) expensive)`;  // sql_tagger.SIZE_WORDS, TIME_WORDS
const SQL_TIME_WORDS = String.raw`(?:most recent(?:ly)?|newest|latest|oldest|earliest)`;
const sqlInYears = (column) => column.name.includes("year") || (column.phrase || "").includes("year");  // sql_tagger._in_years

function statedScale(text, order, schema, tables) {  // sql_tagger.stated_scale
  const match = /^([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*) (ASC|DESC)$/i.exec(order);
  if (!match || mentioned(text, schema.columns.get(match[1]))) return order;
  const size = sqlSays(text, SQL_SIZE_WORDS), time = sqlSays(text, SQL_TIME_WORDS);
  if (size === time) return order;
  const measured = schema.of(tables).filter((c) => {
    const column = schema.columns.get(c);
    return schema.numeric(c) && !column.key && !column.references && sqlInYears(column) === time;
  });
  return measured.length === 1 ? `${measured[0]} ${match[2]}` : order;
}

function statedDirection(text, order) {  // sql_tagger.stated_direction
  if (order === "none") return order;
  const said = sqlNamed(text, SQL_DIRECTION_WORDS);
  return said.length === 1 ? `${order.slice(0, order.lastIndexOf(" "))} ${said[0]}` : order;
}

function statedRanking(text, order) {  // sql_tagger.stated_ranking
  const match = /^(SUM|MIN|MAX)\((.+)\) (ASC|DESC)$/s.exec(order);
  const said = sqlNamed(text, SQL_AGGREGATE_WORDS);
  return match && said.length === 1 && said[0] === "AVG" ? `AVG(${match[2]}) ${match[3]}` : order;
}

function unsaidAverage(text, frame) {  // sql_tagger.unsaid_average
  for (const slot of [...SQL_SELECTS, "order", "having"]) frame[slot] = asSaidAverage(text, frame[slot]);
}

function asSaidAverage(text, label) {  // sql_tagger.as_said_average
  return sqlNamed(text, SQL_AGGREGATE_WORDS).includes("AVG") ? label : label.replace(/^AVG\(/, "SUM(");
}

function statedAggregate(text, selected, order) {  // sql_tagger.stated_aggregate
  const match = /^(SUM|AVG|MIN|MAX)\((.+)\)$/s.exec(selected);
  if (!match || order !== "none") return selected;
  const said = sqlNamed(text, SQL_AGGREGATE_WORDS);
  return said.length === 1 ? `${said[0]}(${match[2]})` : selected;
}

function sqlTextValue(column, words, chars = null, span = null) {  // sql_tagger._text_value
  const bare = words.trim().replace(/^(?:the|a|an)\s+/i, ""), declared = column.values || [];
  const singular = (w) => w.toLowerCase().replace(/(?:es|s)$/, "");
  const same = declared.find((v) => v.toLowerCase() === bare.toLowerCase()) ?? declared.find((v) => singular(v) === singular(bare))
    ?? sqlSlipOf(declared, bare);
  if (same !== undefined || span === null) return same ?? bare;
  const lowered = chars.join("").toLowerCase(), at = (i) => [...lowered.slice(0, i)].length;  // code points, as Python counts
  const around = declared.filter((v) => [...lowered.matchAll(QN.py(String.raw`(?<!\w)${sqlEscape(v.toLowerCase())}(?!\w)`, "g"))]
    .some((m) => at(m.index) < span.end && span.start < at(m.index + m[0].length)));
  return around.reduce((a, b) => (a === null || b.length > a.length ? b : a), null) ?? bare;
}

function sqlReadValues(chars, ranges, logits, schema, tables, frame, runnerUp = () => "none") {  // sql_tagger._read_values
  const kinds = ["limit", "having", ...sqlTagKinds(schema).filter((k) => k.startsWith("where:") && tables.includes(k.slice(6).split(".")[0]))];
  const allowed = ["O", ...kinds.flatMap((k) => [`B-${k}`, `I-${k}`])];
  const columns = allowed.map((n) => schema.position.get(n));
  const own = logits.map((row) => columns.map((c) => row[c]));
  const tags = ranges.length ? QTT.bioViterbi(chars, ranges, own, allowed) : [];
  const read = [];
  for (const span of QT.trimPunctuation(chars, QT.mergeAdjacent(chars, QT.decodeTags(chars, ranges, tags)))) {
    const kind = span.type, words = span.text;
    read.push([span.start, span.end, null]);
    if (kind === "limit" || kind === "having") {
      if (kind === "having" && frame.having === "none" && frame.group !== "none") frame.having = runnerUp();
      if (frame[`${kind}_value`] === null) {
        frame[`${kind}_value`] = QN.number(words);
        if (kind === "having" && frame.having !== "none") {  // its operator, as the words around the number say it
          const cut = frame.having.lastIndexOf(" "), measure = frame.having.slice(0, cut), guess = frame.having.slice(cut + 1);
          const op = statedOperator(chars, span.start, span.end, guess, true);
          frame.having = `${measure} ${SQL_HAVING_OPS.includes(op) ? op : guess}`;
        }
      }
      continue;
    }
    const rest = kind.slice(6), cut = rest.indexOf(" ");
    const column = rest.slice(0, cut), op = statedOperator(chars, span.start, span.end, rest.slice(cut + 1), schema.numeric(column));
    const value = schema.numeric(column) ? QN.number(words) : sqlTextValue(schema.columns.get(column), words, chars, span);
    if (value !== null && value !== undefined) {
      read[read.length - 1] = [span.start, span.end, frame.conditions.length];
      frame.conditions.push([column, op, [value]]);
    }
  }
  statedRange(chars, frame, schema, read);
  return read;
}

const SQL_RANGE_JOINERS = String.raw`\s*(?:to|through|thru|until|till|-|–)\s*`;  // sql_tagger.RANGE_JOINERS

function statedRange(chars, frame, schema, read) {  // sql_tagger.stated_range
  const conditions = frame.conditions, placed = read.filter(([, , i]) => i !== null);
  const joiner = QN.py(`^(?:${SQL_RANGE_JOINERS})$`);
  for (let k = 0; k + 1 < placed.length; k++) {
    const [, end, i] = placed[k], [start, , j] = placed[k + 1];
    if (conditions[i] === null) continue;  // already the upper end of a range ("2019 to 2020 to 2021")
    const [column, , low] = conditions[i], [other, , high] = conditions[j];
    if (column === other && schema.numeric(column) && joiner.test(chars.slice(end, start).join("").toLowerCase())) {
      conditions[i] = [column, "BETWEEN", [...low, ...high]];
      conditions[j] = null;
    }
  }
  frame.conditions = conditions.filter((c) => c !== null);
}

function statedValues(chars, frame, schema, tables, read) {  // sql_tagger.stated_values
  const lowered = chars.join("").toLowerCase(), at = (i) => [...lowered.slice(0, i)].length;  // code points, as Python counts
  for (const name of schema.of(tables)) {
    if (schema.numeric(name) || frame.conditions.some(([c]) => c === name)) continue;
    for (const value of schema.columns.get(name).values || []) {
      const pattern = QN.py(String.raw`(?<!\w)${sqlEscape(value.toLowerCase())}(?:s|es)?(?!\w)`, "g");
      const said = [...lowered.matchAll(pattern)].map((m) => [at(m.index), at(m.index + m[0].length)])
        .find(([start, end]) => !read.some(([a, b]) => a < end && start < b));
      if (said) frame.conditions.push([name, statedOperator(chars, said[0], said[1], "=", false), [value]]);
    }
  }
}

const SQL_SLIP_MIN = 5;

function misspeltValues(chars, ranges, frame, schema, tables, read) {  // sql_tagger.misspelt_values
  const text = chars.join(""), at = (i) => [...text.slice(0, i)].length;  // code points, as Python counts
  const words = [...text.matchAll(QN.py(String.raw`\w+`, "g"))].filter((m) => /^\p{L}+$/u.test(m[0]))
    .map((m) => [at(m.index), at(m.index + m[0].length), m[0].toLowerCase()]);
  const split = words.map(([start, end]) => ranges.filter(([a, b]) => start <= a && b <= end).length > 1);
  for (const name of schema.of(tables)) {
    if (schema.numeric(name) || frame.conditions.some(([c]) => c === name)) continue;
    for (const value of schema.columns.get(name).values || []) {
      const said = [...value].length >= SQL_SLIP_MIN ? sqlSlipped(words, split, value.toLowerCase(), read) : null;
      if (said !== null) {
        frame.conditions.push([name, statedOperator(chars, said[0], said[1], "=", false), [value]]);
        break;
      }
    }
  }
}

function sqlSlipped(words, split, value, read) {  // sql_tagger._slipped
  const n = value.split(/\s+/).filter((w) => w).length;
  for (let i = 0; i + n <= words.length; i++) {
    const start = words[i][0], end = words[i + n - 1][1];
    if (split.slice(i, i + n).some((x) => x) && oneSlip(words.slice(i, i + n).map((w) => w[2]).join(" "), value)
        && !read.some(([a, b]) => a < end && start < b)) return [start, end];
  }
  return null;
}

function sqlSlipOf(declared, words) {  // sql_tagger._slip_of
  const slipped = declared.filter((v) => [...v].length >= SQL_SLIP_MIN && oneSlip(words.toLowerCase(), v.toLowerCase()));
  return slipped.length === 1 ? slipped[0] : undefined;
}

function oneSlip(said, meant) {  // sql_tagger.one_slip
  said = [...said]; meant = [...meant];
  if (said.join("") === meant.join("") || Math.abs(said.length - meant.length) > 1) return false;
  if (said.length === meant.length) {
    const diff = said.map((c, i) => i).filter((i) => said[i] !== meant[i]);
    return diff.length === 1 || (diff.length === 2 && diff[1] === diff[0] + 1
      && said[diff[0]] === meant[diff[1]] && said[diff[1]] === meant[diff[0]]);
  }
  const [short, long] = said.length < meant.length ? [said, meant] : [meant, said];
  let i = 0;
  while (i < short.length && short[i] === long[i]) i++;
  return short.slice(i).join("") === long.slice(i + 1).join("");
}

function groupedSelects(frame, schema) {  // sql_tagger.grouped_selects
  const group = frame.group, column = schema.columns.get(group);
  if (group === "none" || !column || column.key || column.references) return;
  let shown = false;
  for (const slot of SQL_SELECTS) {
    if (schema.columns.has(frame[slot])) {  // a plain column, the group's own included: shown once, as the group
      frame[slot] = shown ? "none" : group;
      shown = true;
    }
  }
  sqlShow(frame, sqlChosen(frame));
}

function sqlLiteral(value) {  // sql_tagger._sql_literal
  return typeof value === "string" ? `'${value.replaceAll("'", "''")}'` : String(value);
}

function sqlGrouped(conditions) {  // sql_tagger._grouped
  const out = [];
  for (const [column, op, values] of conditions) {
    const same = out.find((c) => c[0] === column && c[1] === op && ["=", "!=", "BETWEEN"].includes(op));
    if (same) same[2].push(...values.filter((v) => !same[2].includes(v)));
    else out.push([column, op, [...values]]);
  }
  return out;
}

function sqlCondition(column, op, values) {  // sql_tagger._render_condition
  if (op === "BETWEEN") {
    const [low, high] = values.length >= 2 ? values.slice(0, 2).sort((a, b) => a - b) : [values[0], values[0]];
    return `${column} BETWEEN ${sqlLiteral(low)} AND ${sqlLiteral(high)}`;
  }
  if (op === "LIKE") return `${column} LIKE ${sqlLiteral(`%${values[0]}%`)}`;
  if (values.length > 1) return `${column} ${op === "!=" ? "NOT IN" : "IN"} (${values.map(sqlLiteral).join(", ")})`;
  return `${column} ${op === "!=" ? "<>" : op} ${sqlLiteral(values[0])}`;
}

function sqlSubquery(label) {  // sql_tagger._render_subquery
  if (label.endsWith(" AVG")) {
    const [column, op] = label.split(" ");
    return `${column} ${op} (SELECT AVG(${column.split(".")[1]}) FROM ${column.split(".")[0]})`;
  }
  const column = label.split(" ")[0], rest = label.slice(column.length + 1);
  const [childTable, childColumn] = rest.split(" ").pop().split(".");
  return `${rest.startsWith("NOT ") ? "NOT " : ""}${column} IN (SELECT ${childColumn} FROM ${childTable})`;
}

function sqlRender(frame, schema) {  // sql_tagger.render
  const path = frame.from.split(">");
  const selected = ["select1", "select2", "select3"].map((s) => frame[s]).filter((s) => s !== "none");
  if (!selected.length) selected.push("*");
  let sql = selected[0].startsWith("DISTINCT ")
    ? `SELECT DISTINCT ${[selected[0].slice(9), ...selected.slice(1)].join(", ")}` : `SELECT ${selected.join(", ")}`;
  sql += ` FROM ${path[0]}` + path.slice(1).map((b, i) => ` JOIN ${b} ON ${schema.links.get(`${path[i]}|${b}`)}`).join("");
  const where = sqlGrouped(frame.conditions).map(([c, op, v]) => sqlCondition(c, op, v));
  if (frame.subquery !== "none") where.push(sqlSubquery(frame.subquery));
  if (where.length) sql += ` WHERE ${where.join(" AND ")}`;
  if (frame.group !== "none") sql += ` GROUP BY ${frame.group}`;
  if (frame.having !== "none" && frame.having_value !== null) sql += ` HAVING ${frame.having} ${sqlLiteral(frame.having_value)}`;
  if (frame.order !== "none") {
    sql += ` ORDER BY ${frame.order}`;
    if (frame.limit !== "none") sql += ` LIMIT ${frame.limit === "N" && frame.limit_value ? frame.limit_value : 1}`;
  }
  if (path.length !== 1) return sql;
  return sql.replace(new RegExp(`\\b${path[0]}\\.`, "g"), "");
}

function queryFromLogits(task, chars, ranges, logits) {  // sql_tagger.query_from_logits
  const schema = sqlSchemaOf(task);
  const frame = sqlChoose(schema, logits), tables = frame.from.split(">"), text = chars.join("");
  sqlReadStated(text, frame, schema, tables);
  const question = logits.slice(SQL_FRAME.length + 1, SQL_FRAME.length + 1 + ranges.length);
  const read = sqlReadValues(chars, ranges, question, schema, tables, frame, () => runnerUpHaving(text, logits, frame, schema, tables));
  statedValues(chars, frame, schema, tables, read);
  misspeltValues(chars, ranges, frame, schema, tables, read);
  statedGroup(text, frame, schema, tables);
  statedMeasure(text, frame, schema, tables);
  unmeasuredGroup(frame);
  groupedSelects(frame, schema);
  shownRanking(text, frame);
  knownColumn(frame, tables);
  askedRows(text, frame, schema, tables);
  measuresAlone(frame, tables);
  unusedTables(frame);
  if (frame.limit === "N" && frame.limit_value === null) frame.limit = "1";
  return sqlRender(frame, schema);
}

function sqlChoose(schema, logits) {  // sql_tagger._choose
  const frame = { conditions: [], limit_value: null, having_value: null };
  frame.from = sqlBest(logits[0], schema.slotLabels.from, () => true);
  const fits = sqlFits(frame.from.split(">"));
  frame.group = sqlBest(logits[SQL_FRAME.indexOf("group")], schema.slotLabels.group, fits);
  SQL_FRAME.slice(1).forEach((slot, i) => {
    if (slot !== "group") frame[slot] = sqlBest(logits[i + 1], schema.slotLabels[slot], sqlUnchosen(frame, slot, fits));
  });
  return frame;
}

function sqlReadStated(text, frame, schema, tables) {  // sql_tagger._read_stated
  for (const slot of [...SQL_SELECTS, "group", "order", "having", "subquery"]) {
    const moved = statedColumn(text, frame[slot], schema);
    if (!sqlMeasured(frame).has(moved)) frame[slot] = moved;
  }
  statedList(text, frame, schema, tables);
  unnamedColumn(text, frame, schema, tables);
  statedCount(text, frame);
  howMuch(text, frame, schema, tables);
  frame.order = statedScale(text, frame.order, schema, tables);
  frame.order = statedDirection(text, frame.order);
  frame.order = statedRanking(text, frame.order);
  unsaidAverage(text, frame);
  for (const slot of SQL_SELECTS) frame[slot] = statedAggregate(text, frame[slot], frame.order);
  frame.having = statedHaving(text, frame.having);
}

QT.TASKS["sql:bert"] = {
  budget: (spirit) => spirit.maxLength - SQL_FRAME.length - 2,
  async predict(spirit, chars) {  // sql.predict with sql_tagger.predict and its window
    const task = spirit.recipe.task, keep = spirit.maxLength - SQL_FRAME.length - 2;
    const fallback = spirit.special.eos;
    const markers = SQL_MARKER_WORDS.map((w) => spirit.tokenizer.tokenToId(w) ?? spirit.tokenizer.tokenToId("[MASK]")
      ?? spirit.tokenizer.tokenToId("<mask>") ?? fallback);
    let { ids, ranges } = QT.tokenRanges(spirit.tokenizer, chars);
    ids = ids.slice(0, keep); ranges = ranges.slice(0, keep);
    const logits = await spirit.forward([spirit.special.bos, ...markers, spirit.special.eos, ...ids, spirit.special.eos]);
    const query = queryFromLogits(task, chars, ranges, logits);
    return { sql: QSQL.prepares(QSQL.database(spirit), query) ? query : `SELECT COUNT(*) FROM ${task.tables[0].name}` };
  },
};

const DistillSqlTagger = { outputNames: sqlOutputNames, queryFromLogits, statedOperator, statedDirection, statedRanking, unsaidAverage, unmeasuredGroup, shownRanking, statedAggregate, statedColumn, statedList, unnamedColumn, statedCount, knownColumn, measuresAlone, unusedTables, howMuch, statedMeasure, statedScale, askedRows, statedGroup, sqlTextValue, statedValues, misspeltValues, oneSlip, saidMeasure, statedHaving, groupedSelects, SqlSchema };
if (typeof module !== "undefined") module.exports = DistillSqlTagger;

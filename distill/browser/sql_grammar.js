// The SQL a text-to-SQL Spirit may write, checked on every prefix while decoding:
// distill/tasks/sql_grammar.py, method for method (see its docstring for the grammar).
"use strict";

const SQ = typeof DistillNormalise !== "undefined" ? DistillNormalise : require("./normalise.js");
const AGGREGATES = ["COUNT", "SUM", "AVG", "MIN", "MAX"];
const OPERATORS = ["<=", ">=", "<>", "!=", "=", "<", ">"];
const NUMBER_WORDS = { zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, twenty: 20, thirty: 30, fifty: 50, hundred: 100,
  dozen: 12, "a thousand": 1000 };
const TOKEN = SQ.py("\\s*(?:('(?:[^']|'')*'?)|(\\d+(?:\\.\\d*)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|<>|!=|[=<>(),.*])|(\\S))", "y");
const LAST_SPACE = SQ.py("\\s$");

class Invalid extends Error {}
class Incomplete extends Error {}

function lex(text) {  // [[kind, text]] and whether the last token may still grow
  const tokens = [];
  let pos = 0;
  while (pos < text.length) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m || TOKEN.lastIndex === pos) break;
    const [, string, number, word, symbol, other] = m;
    if (other !== undefined) throw new Invalid(`unexpected ${other}`);
    if (string !== undefined) tokens.push(["string", string]);
    else if (number !== undefined) tokens.push(["number", number]);
    else if (word !== undefined) tokens.push(["word", word]);
    else if (symbol !== undefined) tokens.push(["symbol", symbol]);
    pos = TOKEN.lastIndex;
  }
  const trailingSpace = text ? LAST_SPACE.test(text) : true;
  const last = tokens[tokens.length - 1];
  const growing = (!!last && !trailingSpace && ["word", "number", "string"].includes(last[0])) ||
    (!!last && !trailingSpace && ["<", ">", "!"].includes(last[1]));
  return [tokens, growing];
}

class Schema {
  constructor(task) {
    this.tables = new Map(task.tables.map((t) => [t.name, t.columns.map((c) => c.name)]));
    this.columns = new Set([...this.tables.values()].flat());
    this.declared = new Map();  // by column name, the values of every table's column of that name
    for (const t of task.tables) {
      for (const c of t.columns) this.declared.set(c.name, [...(this.declared.get(c.name) || []), ...(c.values || []).map(String)]);
    }
  }
}

function allowedNumbers(question) {
  const found = new Set([...(question.match(SQ.py("\\d+(?:\\.\\d+)?", "g")) || []), "0", "1"]);
  const lowered = ` ${question.toLowerCase()} `;
  for (const [word, value] of Object.entries(NUMBER_WORDS)) if (SQ.py(`\\b${word}\\b`).test(lowered)) found.add(String(value));
  return found;
}

const startsAny = (names, text) => [...names].some((n) => n.startsWith(text));
const longerAny = (names, text) => [...names].some((n) => n !== text && n.startsWith(text));
const same = (token, kind, text) => !!token && token[0] === kind && token[1] === text;

class Parser {
  constructor(schema, question, tokens, growing) {
    Object.assign(this, { schema, tokens, growing, i: 0, question: question.toLowerCase(), numbers: allowedNumbers(question) });
  }

  peek() { if (this.i >= this.tokens.length) throw new Incomplete(); return this.tokens[this.i]; }
  isLastGrowing() { return this.growing && this.i === this.tokens.length - 1; }
  endsGrowing() { return this.growing && this.i === this.tokens.length; }

  keyword(...names) {
    const [kind, text] = this.peek();
    if (kind === "word" && names.includes(text)) {
      this.i += 1;
      if (this.endsGrowing() && longerAny(names, text)) throw new Incomplete();
      return text;
    }
    if (kind === "word" && this.isLastGrowing() && startsAny(names, text)) throw new Incomplete();
    throw new Invalid(`expected ${names.join(" or ")}`);
  }

  atKeyword(...names) {
    if (this.i >= this.tokens.length) return false;
    const [kind, text] = this.tokens[this.i];
    if (kind !== "word") return false;
    return names.includes(text) || (this.isLastGrowing() && startsAny(names, text));
  }

  symbol(...symbols) {
    const [kind, text] = this.peek();
    if (kind === "symbol" && symbols.includes(text)) { this.i += 1; return text; }
    if (this.isLastGrowing() && startsAny(symbols, text)) throw new Incomplete();
    throw new Invalid(`expected ${symbols.join(" or ")}`);
  }

  atSymbol(...symbols) {
    return this.i < this.tokens.length && this.tokens[this.i][0] === "symbol" && symbols.includes(this.tokens[this.i][1]);
  }

  table() {
    const [kind, text] = this.peek(), tables = [...this.schema.tables.keys()];
    if (kind === "word" && this.schema.tables.has(text)) {
      this.i += 1;
      if (this.endsGrowing() && longerAny(tables, text)) throw new Incomplete();
      return text;
    }
    if (kind === "word" && this.isLastGrowing() && startsAny(tables, text)) throw new Incomplete();
    throw new Invalid(`${text} is not a table`);
  }

  column() {
    const [kind, text] = this.peek();
    if (kind !== "word") throw new Invalid("expected a column");
    const following = this.i + 1 < this.tokens.length ? this.tokens[this.i + 1] : null;
    if (same(following, "symbol", ".")) {
      this.table();
      this.symbol(".");
      const [nameKind, name] = this.peek(), columns = this.schema.tables.get(text);
      if (nameKind === "word" && columns.includes(name)) {
        this.i += 1;
        if (this.endsGrowing() && longerAny(columns, name)) throw new Incomplete();
        return name;
      }
      if (nameKind === "word" && this.isLastGrowing() && startsAny(columns, name)) throw new Incomplete();
      throw new Invalid(`${name} is not a column of ${text}`);
    }
    const names = new Set([...this.schema.columns, ...this.schema.tables.keys()]);  // a table may start table.column
    if (this.schema.columns.has(text)) {
      this.i += 1;
      if (this.endsGrowing() && longerAny(names, text)) throw new Incomplete();
      return text;
    }
    if (this.isLastGrowing() && startsAny(names, text)) throw new Incomplete();
    if (this.schema.tables.has(text) && following === null) { this.i += 1; throw new Incomplete(); }
    throw new Invalid(`${text} is not a column`);
  }

  number() {
    const [kind, text] = this.peek();
    if (kind !== "number") throw new Invalid("expected a number");
    this.i += 1;
    if (this.endsGrowing()) {
      if (!startsAny(this.numbers, text)) throw new Invalid(`${text} is not a number in the question`);
      throw new Incomplete();
    }
    if (!this.numbers.has(text.replace(/\.+$/, "")) && !this.numbers.has(text)) throw new Invalid(`${text} is not in the question`);
  }

  string(column, pattern = false) {
    const [kind, text] = this.peek();
    if (kind !== "string") throw new Invalid("expected a quoted value");
    this.i += 1;
    const closed = (text.length >= 2 && text.endsWith("'") && !text.endsWith("''")) || text === "''";
    const body = (closed ? text.slice(1, -1) : text.slice(1)).replaceAll("''", "'");
    const candidates = this.literals(column), core = body.replace(/^%+|%+$/g, "");
    if (body.includes("%") && !pattern) throw new Invalid("% belongs to LIKE patterns only");
    if (core.includes("%") || body.startsWith("%%") || body.endsWith("%%")) throw new Invalid("a pattern's % stands once at either end");
    if (!closed) {
      if (!candidates.some((c) => c.startsWith(body)) && !this.question.includes(core.toLowerCase())) {
        throw new Invalid(`'${body}...' is not from the question`);
      }
      throw new Incomplete();
    }
    if (!core || (!candidates.includes(body) && !this.question.includes(core.toLowerCase()))) throw new Invalid("not from the question");
    if (!this.question.includes(core.toLowerCase())) throw new Invalid("not in the question");  // a declared spelling must be asked for
    if (!pattern && column && this.belongsElsewhere(core, column)) throw new Invalid(`'${body}' is a value of another column`);
  }

  belongsElsewhere(value, column) {  // a value declared for other columns only ('silver' is a tier) is never this one's
    const lowered = value.toLowerCase();
    if ((this.schema.declared.get(column) || []).some((v) => v.toLowerCase() === lowered)) return false;
    return [...this.schema.declared].some(([c, values]) => c !== column && values.some((v) => lowered === v.toLowerCase()));
  }

  distinctValues(column) {  // an IN list's item reader that refuses a value already in the list
    const seen = new Set();
    return () => {
      const first = this.peek();
      this.value(column);
      if (first[0] === "string" || first[0] === "number") {
        if (seen.has(first[1])) throw new Invalid(`${first[1]} is already in the list`);
        seen.add(first[1]);
      }
    };
  }

  literals(column) {
    const declared = column ? (this.schema.declared.get(column) || []) : [...this.schema.declared.values()].flat();
    return declared.filter((v) => this.question.includes(v.toLowerCase()));
  }

  value(column) {
    const [kind, text] = this.peek();
    if (kind === "number") return this.number();
    if (kind === "string") return this.string(column);
    if (kind === "symbol" && text === "(") { this.i += 1; this.subquery(); this.symbol(")"); return null; }
    this.column();
    return null;
  }

  aggregate() {
    const name = this.keyword(...AGGREGATES);
    this.symbol("(");
    if (this.atKeyword("DISTINCT")) this.keyword("DISTINCT");
    if (this.atSymbol("*")) {
      if (name !== "COUNT") throw new Invalid(`${name}(*) is not SQL`);
      this.symbol("*");
    } else this.column();
    this.symbol(")");
    return name;
  }

  operand() {
    if (this.atKeyword(...AGGREGATES)) { this.aggregate(); return null; }
    return this.column();
  }

  selectItem() {
    if (this.atKeyword(...AGGREGATES)) return this.aggregate();
    if (same(this.tokens[this.i + 1], "symbol", ".") && same(this.tokens[this.i + 2], "symbol", "*")) {
      this.table(); this.symbol("."); this.symbol("*");
      return null;
    }
    return this.column();
  }

  selectList() {
    if (this.atSymbol("*")) { this.symbol("*"); return; }
    this.commaList(() => this.selectItem());
  }

  fromClause() {
    this.keyword("FROM");
    this.table();
    while (this.atKeyword("JOIN")) {
      this.keyword("JOIN"); this.table(); this.keyword("ON"); this.column(); this.symbol("="); this.column();
    }
  }

  predicate() {
    const column = this.operand();
    if (this.atKeyword("IS")) {
      this.keyword("IS");
      if (this.atKeyword("NOT")) this.keyword("NOT");
      this.keyword("NULL");
      return;
    }
    const negated = this.atKeyword("NOT");
    if (negated) this.keyword("NOT");
    if (this.atKeyword("IN", "BETWEEN", "LIKE") || negated) {
      const word = this.keyword("IN", "BETWEEN", "LIKE");
      if (word === "IN") {
        this.symbol("(");
        if (this.atKeyword("SELECT")) this.subquery();
        else this.commaList(this.distinctValues(column));
        this.symbol(")");
      } else if (word === "BETWEEN") {
        this.value(column); this.keyword("AND"); this.value(column);
      } else this.string(column, true);
      return;
    }
    this.symbol(...OPERATORS);
    this.value(column);
  }

  term() {
    if (this.atKeyword("NOT")) this.keyword("NOT");
    if (this.atSymbol("(")) { this.symbol("("); this.condition(); this.symbol(")"); return; }
    this.predicate();
  }

  condition() {
    this.term();
    while (this.atKeyword("AND", "OR")) { this.keyword("AND", "OR"); this.term(); }
  }

  subquery() {
    this.keyword("SELECT");
    if (this.atKeyword("DISTINCT")) this.keyword("DISTINCT");
    this.operand();
    this.fromClause();
    if (this.atKeyword("WHERE")) { this.keyword("WHERE"); this.condition(); }
  }

  orderItem() {
    this.operand();
    if (this.atKeyword("ASC", "DESC")) this.keyword("ASC", "DESC");
  }

  commaList(item) {
    item();
    while (this.atSymbol(",")) { this.symbol(","); item(); }
  }

  query() {
    this.keyword("SELECT");
    if (this.atKeyword("DISTINCT")) this.keyword("DISTINCT");
    this.selectList();
    this.fromClause();
    if (this.atKeyword("WHERE")) { this.keyword("WHERE"); this.condition(); }
    if (this.atKeyword("GROUP")) {
      this.keyword("GROUP"); this.keyword("BY"); this.commaList(() => this.column());
      if (this.atKeyword("HAVING")) { this.keyword("HAVING"); this.condition(); }
    }
    if (this.atKeyword("ORDER")) { this.keyword("ORDER"); this.keyword("BY"); this.commaList(() => this.orderItem()); }
    if (this.atKeyword("LIMIT")) { this.keyword("LIMIT"); this.number(); }
    if (this.i < this.tokens.length) throw new Invalid("unexpected text after the end of the query");
  }
}

function check(schema, question, text, final = false) {  // "complete", "viable" or "invalid"
  try {
    const [tokens, growing] = lex(text);
    new Parser(schema, question, tokens, growing && !final).query();
  } catch (err) {
    if (err instanceof Incomplete) return "viable";
    if (err instanceof Invalid) return "invalid";
    throw err;
  }
  return "complete";
}

const DistillSqlGrammar = { Schema, check, lex, allowedNumbers };
if (typeof module !== "undefined") module.exports = DistillSqlGrammar;

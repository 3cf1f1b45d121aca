// Text to SQL (distill/tasks/sql.py's predict): the scratch decoder writes the query token by token,
// each token allowed only if the text stays a prefix of the grammar (sql_grammar.js), and it may stop
// only at a whole query that SQLite prepares against the Recipe's schema. SQLite here is sql.js (the
// same engine compiled to WebAssembly), given the schema's tables, as sql.py's database has them.
"use strict";

const SG = typeof DistillSqlGrammar !== "undefined" ? DistillSqlGrammar : require("./sql_grammar.js");
const SD = typeof DistillDecoding !== "undefined" ? DistillDecoding : require("./decoding.js");
const ST = typeof DistillTasks !== "undefined" ? DistillTasks : require("./tasks.js");
const OUTPUT_RESERVE = 64;  // sql.OUTPUT_RESERVE: tokens kept free for the query

const studentPrompt = (text) => `question: ${text}\nsql:`;
const encodePrompt = (spirit, prompt) => [spirit.special.bos, ...spirit.tokenizer.encode(prompt).ids];
const columnType = (c) => (c.type === "integer" ? "INTEGER" : c.type === "number" ? "REAL" : "TEXT");

function database(spirit) {  // sql.create_database's tables (rows do not change what prepares)
  if (!spirit.sqlite) {
    spirit.sqlite = new spirit.SQL.Database();
    for (const table of spirit.recipe.task.tables) {
      spirit.sqlite.run(`CREATE TABLE ${table.name} (${table.columns.map((c) => `${c.name} ${columnType(c)}`).join(", ")})`);
    }
  }
  return spirit.sqlite;
}

function prepares(db, query) {  // sqlite3's execute("EXPLAIN " + query) succeeds
  try {
    db.prepare(`EXPLAIN ${query}`).free();
    return true;
  } catch {
    return false;
  }
}

ST.TASKS.sql = {
  budget: (spirit) => spirit.maxLength - OUTPUT_RESERVE - encodePrompt(spirit, studentPrompt("")).length,
  async predict(spirit, chars) {
    const task = spirit.recipe.task, question = chars.join("");
    const schema = spirit.sqlSchema || (spirit.sqlSchema = new SG.Schema(task)), db = database(spirit);
    const valid = (output) => SG.check(schema, question, output) !== "invalid";
    const complete = (output) => SG.check(schema, question, output, true) === "complete" && prepares(db, output);
    const ids = encodePrompt(spirit, studentPrompt(question));
    const query = ST.pyStrip([...await SD.generate(spirit, ids, valid, complete)]).join("");
    return { sql: complete(` ${query}`) ? query : `SELECT COUNT(*) FROM ${task.tables[0].name}` };
  },
};

const DistillTextToSql = { database, prepares };
if (typeof module !== "undefined") module.exports = DistillTextToSql;

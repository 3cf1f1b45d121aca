"""Text-to-SQL: a question about one database schema -> a SQLite query.

Proof: exact match after normalisation (parse and re-render with sqlglot). Also reported:
execution accuracy — gold and predicted queries run on an SQLite database built from the schema
and filled with generated rows, and their result sets compared. The student is a decoder that writes the query under the
grammar of sql_grammar.py, or an encoder that chooses its parts and tags its values (sql_tagger.py)."""
import random
import re
import sqlite3

from . import Rejected
from .base import every_shard_alike, present_as_is, unique_names
from .common import normalised_text, text_items

PROOF_METRIC = "exact match (normalised SQL)"
HEADS = {"llama": "causal_lm", "bert": "token"}  # a decoder writes the query; an encoder chooses it (sql_tagger.py)
DEFAULT_ARCH = "llama"
ENCODING_VERSION = 2  # in the Still key: bump it when encode() changes what the student learns
DECODING_VERSION = 10  # in the notes key: bump it when predict() answers differently, so proofs are re-measured
shard_size = every_shard_alike
DEFAULT_INIT = "scratch"  # student.init: auto
QUERY_KINDS = ["select", "filter", "lookup", "count", "aggregate", "distinct", "group_by", "order_limit", "join",
               "join_two", "subquery"]
present = present_as_is


def output_names(task: dict) -> list[str]:
    """An encoder student's outputs (a decoder has none)."""
    from .sql_tagger import output_names as tagger_outputs

    return tagger_outputs(task)


def num_labels(task: dict) -> int:
    return len(output_names(task))


def check(task: dict):
    yield from unique_names(task["tables"], ["tables"], "table")
    tables = {t["name"]: {c["name"] for c in t["columns"]} for t in task["tables"]}
    for i, table in enumerate(task["tables"]):
        yield from unique_names(table["columns"], ["tables", i, "columns"], "column")
        for j, column in enumerate(table["columns"]):
            ref = column.get("references")
            if ref:
                target, _, col = ref.partition(".")
                if target not in tables or col not in tables[target]:
                    yield ["tables", i, "columns", j, "references"], f"'{ref}' is not a table.column of this schema"
            if column["type"] == "text" and not column.get("key") and not column.get("references") and not column.get("values"):
                yield ["tables", i, "columns", j], "a text column needs 'values' (what the rows may hold)"
    for k, kind in enumerate(task["query_kinds"]):
        if kind not in QUERY_KINDS:
            yield ["query_kinds", k], f"'{kind}' is not a query kind; valid: {', '.join(QUERY_KINDS)}"


def categories(task: dict):
    """One Mash shard per query kind (a slice of what the schema can be asked)."""
    return [(kind, {"kind": kind}) for kind in task["query_kinds"]]


def schema_text(task: dict) -> str:
    """Compact DDL-like description, given to teachers (and to anyone reading the Spirit)."""
    parts = []
    for table in task["tables"]:
        cols = ", ".join(c["name"] + (f"->{c['references']}" if c.get("references") else "") for c in table["columns"])
        parts.append(f"{table['name']}({cols})")
    return "; ".join(parts)


# ---------------------------------------------------------------- the database


def create_database(task: dict, seed: int) -> sqlite3.Connection:
    """An in-memory SQLite database with the schema and deterministic generated rows."""
    db = sqlite3.connect(":memory:")
    rng = random.Random(seed)
    ids = {}
    for table in task["tables"]:
        cols = ", ".join(f"{c['name']} {'INTEGER' if c['type'] == 'integer' else 'REAL' if c['type'] == 'number' else 'TEXT'}"
                         for c in table["columns"])
        db.execute(f"CREATE TABLE {table['name']} ({cols})")
        n = task["rows_per_table"]
        ids[table["name"]] = list(range(1, n + 1))
        for row in range(1, n + 1):
            values = [_cell(rng, c, row, ids) for c in table["columns"]]
            db.execute(f"INSERT INTO {table['name']} VALUES ({', '.join('?' * len(values))})", values)
    return db


def _cell(rng, column, row, ids):
    if column.get("key"):
        return row
    if column.get("references"):
        return rng.choice(ids[column["references"].split(".")[0]])
    if column.get("values"):
        return rng.choice(column["values"])
    lo, hi = column.get("minimum", 1), column.get("maximum", 1000)
    return rng.randint(int(lo), int(hi)) if column["type"] == "integer" else round(rng.uniform(lo, hi), 2)


def run_query(db, sql: str):
    try:
        return db.execute(sql).fetchall(), None
    except sqlite3.Error as err:
        return None, str(err)


# ---------------------------------------------------------------- teacher requests

INPUTS_SCHEMA = {"type": "object", "required": ["questions"],
                 "properties": {"questions": {"type": "array", "items": {"type": "object", "required": ["text"]}}}}
TARGET_SCHEMA = {"type": "object", "required": ["sql"], "properties": {"sql": {"type": "string"}}}


def inputs_request(task, category, spec, count):
    prompt = (f"Write {count} different questions a business user could ask about this SQLite database that need a "
              f"'{spec['kind']}' query. Use concrete values that exist in such data. Do not write SQL.\n\n"
              f"Schema: {schema_text(task)}\n\n" 'Answer with JSON: {"questions": [{"text": "..."}]}')
    return {"step": "inputs", "category": category, "prompt": prompt, "schema": INPUTS_SCHEMA,
            "spec": {"kind": spec["kind"], "task": task, "count": count}}


def target_request(task, category, item, origin):
    prompt = (f"Write one SQLite query that answers the question.\n\nSchema: {schema_text(task)}\n\n"
              f"Question: {item['text']}\n\n" 'Answer with JSON: {"sql": "SELECT ..."}')
    return {"step": "targets", "category": category, "prompt": prompt, "schema": TARGET_SCHEMA,
            "spec": {"text": item["text"], "origin": origin}}


def parse_inputs(answer: dict) -> list[dict]:
    return text_items(answer, "questions")


def parse_target(answer, item, task, category):
    sql = " ".join(str(answer.get("sql", "")).split()).rstrip(";")
    if not sql.upper().startswith("SELECT"):
        raise Rejected("schema violation", "not a SELECT query")
    rows, error = run_query(_database(task), sql)
    if error:
        raise Rejected("schema violation", f"query fails on the schema: {error}")
    if normalise(sql).lower() in item["text"].lower():
        raise Rejected("leakage", "the question contains its query")
    return {"sql": normalise(sql)}


def field_target(row: dict, task: dict) -> dict:
    """A field example's query must be a SELECT that runs on the Recipe's database."""
    query = " ".join(str(row.get("sql", "")).split()).rstrip(";")
    if not query.upper().startswith("SELECT"):
        raise ValueError('"sql" must be a SELECT query')
    _, error = run_query(_database(task), query)
    if error:
        raise ValueError(f'"sql" does not run on the Recipe\'s schema: {error}')
    return {"sql": normalise(query)}


_DATABASES = {}


def _database(task, seed=0):
    from ..hashing import canonical_json, digest

    key = digest(canonical_json([task, seed]).encode())
    if key not in _DATABASES:
        _DATABASES[key] = create_database(task, seed)
    return _DATABASES[key]


# ---------------------------------------------------------------- cuts


def input_text(example):
    return example["input"]["text"]


def skeleton(example):
    text = input_text(example)
    for literal in re.findall(r"'([^']*)'|\b(\d+(?:\.\d+)?)\b", example["target"]["sql"]):
        value = literal[0] or literal[1]
        if value:
            text = re.sub(re.escape(value), "<v>", text, flags=re.I)
    return normalised_text(text)


def near_duplicate_text(example):
    return normalised_text(input_text(example))


def tail_reason(example):
    text = input_text(example).lower()
    for literal in re.findall(r"'([^']*)'", example["target"]["sql"]):
        if literal.lower() not in text:
            return f"ungrounded value {literal!r} (not in the question)"
    return None


def category_of(target):
    return clause_kinds(target["sql"])[0] if clause_kinds(target["sql"]) else "select"


def clause_kinds(sql: str) -> list[str]:
    upper = f" {sql.upper()} "
    kinds = [name for name, marker in (("join", " JOIN "), ("aggregate", "("), ("filter", " WHERE "),
                                       ("group_by", " GROUP BY "), ("order_limit", " ORDER BY "))
             if marker in upper and (name != "aggregate" or re.search(r"\b(COUNT|SUM|AVG|MIN|MAX)\(", upper))]
    return kinds or ["select"]


# ---------------------------------------------------------------- student


def example_context(example):
    return None


def student_prompt(context, text):
    # One Spirit serves one schema, so the schema is not repeated in every prompt.
    return f"question: {text}\nsql:"


def student_target(target):
    return f" {target['sql']}"


def tokenizer_text(example, task):
    return student_prompt(None, input_text(example)) + student_target(example["target"])


def encode(tokenizer, example, task, student: dict):
    from ..student import encode_example

    if student["arch"] == "bert":
        from . import sql_tagger

        return sql_tagger.encode(tokenizer, example, task, student)
    prompt = student_prompt(None, input_text(example))
    return encode_example(tokenizer, prompt, student_target(example["target"]), student["max_length"])


def output_validator(task: dict, question: str):
    """Decoding's check on a partial query: a prefix of the grammar's SQL (sql_grammar.py) with
    names from the schema and literals and numbers from the question."""
    from .sql_grammar import check

    schema = _schema(task)

    def valid(output: str) -> bool:
        return check(schema, question, output) != "invalid"

    return valid


def output_complete(task: dict, question: str):
    """Where decoding may stop: a whole query of the grammar that SQLite prepares on the schema
    (so every column is in scope and none is ambiguous)."""
    from .sql_grammar import check

    schema, db = _schema(task), _database(task)

    def complete(output: str) -> bool:
        return check(schema, question, output, final=True) == "complete" and _prepares(db, output)

    return complete


_SCHEMAS = {}


def _schema(task: dict):
    from ..hashing import canonical_json, digest
    from .sql_grammar import Schema

    key = digest(canonical_json(task["tables"]).encode())
    if key not in _SCHEMAS:
        _SCHEMAS[key] = Schema(task)
    return _SCHEMAS[key]


OUTPUT_RESERVE = 64  # tokens kept free for the query


def text_budget(spirit, context=None) -> int:
    from ..student import encode_prompt
    from .sql_tagger import FRAME

    if spirit.recipe["student"]["arch"] == "bert":
        return spirit.max_length - len(FRAME) - 2  # the frame's markers, then the question
    return spirit.max_length - OUTPUT_RESERVE - len(encode_prompt(spirit.tokenizer, student_prompt(None, "")))


def predict(spirit, text, context=None):
    from ..student import encode_prompt

    task = spirit.recipe["task"]
    if spirit.recipe["student"]["arch"] == "bert":
        from . import sql_tagger

        query = sql_tagger.predict(spirit, text)
        return {"sql": query if _prepares(_database(task), query) else fallback_query(task)}
    ids = encode_prompt(spirit.tokenizer, student_prompt(None, text))
    query = spirit.generate(ids, output_validator(task, text), output_complete(task, text)).strip()
    return {"sql": query if output_complete(task, text)(" " + query) else fallback_query(task)}


def _prepares(db, query: str) -> bool:
    """Whether SQLite prepares the query against the schema (every column in scope, none ambiguous)."""
    try:
        db.execute("EXPLAIN " + query)
        return True
    except sqlite3.Error:
        return False


def fallback_query(task: dict) -> str:
    """What a Spirit answers when decoding found no whole query in its budget (it always answers SQL)."""
    return f"SELECT COUNT(*) FROM {task['tables'][0]['name']}"


# ---------------------------------------------------------------- proof


def normalise(sql: str) -> str:
    """Parse and re-render, so spacing, case of keywords, quoting and the order of a join's two
    sides ("ON a.x = b.y" or "ON b.y = a.x") do not count as errors."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
        for join in tree.find_all(exp.Join):
            on = join.args.get("on")
            if isinstance(on, exp.EQ) and on.this.sql() > on.expression.sql():
                join.set("on", exp.EQ(this=on.expression, expression=on.this))
        return tree.sql(dialect="sqlite")
    except Exception:  # noqa: BLE001 - an unparseable prediction is simply not a match
        return " ".join(sql.split())


def same_result(db, gold_sql, pred_sql) -> bool:
    gold, _ = run_query(db, gold_sql)
    pred, error = run_query(db, pred_sql)
    if error or gold is None:
        return False
    if " ORDER BY " in gold_sql.upper():
        return gold == pred
    return sorted(map(repr, gold)) == sorted(map(repr, pred))


def verdict(gold, pred, db=None):
    if normalise(pred.get("sql", "")) == normalise(gold["sql"]):
        return "correct"
    if db is not None and same_result(db, gold["sql"], pred.get("sql", "")):
        return "equivalent result"
    return "wrong"


def proof(golds, preds, task=None):
    n = len(golds)
    exact = sum(normalise(p.get("sql", "")) == normalise(g["sql"]) for g, p in zip(golds, preds))
    result = {"metric": PROOF_METRIC, "value": exact / n if n else 0.0, "n": n}
    if task is not None:
        db = _database(task)
        ok = sum(same_result(db, g["sql"], p.get("sql", "")) for g, p in zip(golds, preds))
        result["execution_accuracy"] = ok / n if n else 0.0
    return result


def extra_notes(texts, golds, preds, task, folder):
    db = _database(task)
    by_kind = {}
    for gold, pred in zip(golds, preds):
        ok = same_result(db, gold["sql"], pred.get("sql", ""))
        for kind in clause_kinds(gold["sql"]):
            row = by_kind.setdefault(kind, {"n": 0, "execution_correct": 0})
            row["n"] += 1
            row["execution_correct"] += ok
    for row in by_kind.values():
        row["execution_accuracy"] = row["execution_correct"] / row["n"]
    return {"per_clause_kind": dict(sorted(by_kind.items())), "pictures": []}

"""The encoder design for text to SQL: a pretrained encoder reads the question once and answers
the query's structure as a set of choices, the way the schema allows them, while the literal
values are tagged where the question says them.

The window is [CLS], eight marker tokens, [SEP], the question, [SEP]. Each of the first nine
positions makes one choice over labels the schema defines: the tables (a join path along the
foreign keys), up to three selected expressions, GROUP BY, ORDER BY, HAVING, a subquery condition
("never ordered", "above average") and LIMIT. Every question token is tagged with the WHERE
condition its words are the value of ("where:orders.year >="), or the LIMIT or HAVING number. The
query is then rendered from the choices (render()), so it always parses and names only the
schema; a choice that does not fit the chosen tables is never made (decoding picks the best one
that fits). Conditions combine what no single training query had ("count shipped orders since
2024" needs only a count, one equality and one >=), which is what lets a few thousand teacher
questions cover the queries people write.
"""
import functools
import re

FRAME = ("from", "select1", "select2", "select3", "group", "order", "having", "subquery", "limit")
SELECTS = FRAME[1:4]
MARKER_WORDS = ("select", "also", "and", "group", "order", "having", "where", "limit")  # one per position after [CLS]
AGGREGATES = ("SUM", "AVG", "MIN", "MAX")
TEXT_OPS = ("=", "!=", "LIKE")
NUMBER_OPS = ("=", "!=", ">", "<", ">=", "<=", "BETWEEN")
HAVING_OPS = (">", "<", ">=", "<=", "=")
NONE = "none"
TABLE_REF = re.compile(r"\b([a-z_][a-z0-9_]*)\.(?:[a-z_][a-z0-9_]*|\*)", re.I)  # the table of "t.col" or "t.*"
MAX_PATHS = 5_000  # join paths a schema may have (the shipped one has 16)


# ---------------------------------------------------------------- what the schema allows


class Schema:
    """Tables, qualified columns and the join paths along the foreign keys."""

    def __init__(self, task: dict):
        self.tables = [t["name"] for t in task["tables"]]
        # what a question calls each table, in mentions()'s shape (the name, a phrase, other words)
        self.table_words = {t["name"]: {"name": t["name"], "phrase": t.get("phrase"),
                                        "synonyms": [w for w in (t.get("singular"), *t.get("synonyms", [])) if w]}
                            for t in task["tables"]}
        self.columns = {f"{t['name']}.{c['name']}": c for t in task["tables"] for c in t["columns"]}
        self.links = {}  # (table, table) -> the ON condition joining them
        for t in task["tables"]:
            for c in t["columns"]:
                if c.get("references"):
                    parent, key = c["references"].split(".")
                    self.links[(t["name"], parent)] = f"{t['name']}.{c['name']} = {parent}.{key}"
                    self.links[(parent, t["name"])] = f"{parent}.{key} = {t['name']}.{c['name']}"
        self.paths = self._paths()

    @functools.cached_property
    def outputs(self) -> list[str]:
        """The head's outputs (output_names), built once per schema: encoding and pouring ask each time."""
        tags = ["O"] + [f"{p}-{kind}" for kind in tag_kinds(self) for p in ("B", "I")]
        return tags + [f"{slot}:{label}" for slot in FRAME for label in choices(self, slot)]

    @functools.cached_property
    def position(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.outputs)}

    @functools.cached_property
    def slot_labels(self) -> dict[str, list[tuple[int, str]]]:
        """Per frame position, (output index, label) of every label it can take."""
        return {slot: [(self.position[f"{slot}:{label}"], label) for label in choices(self, slot)] for slot in FRAME}

    def _paths(self) -> list[tuple]:
        """Every join path of up to four tables. Counted as it grows: a schema read from a Spirit
        is data, and a densely linked one would otherwise ask for tables**4 labels."""
        from ..errors import DistillError

        paths, frontier = [], [(t,) for t in self.tables]
        while frontier:
            paths += frontier
            grown = []
            for p in frontier:
                for t in self.tables:
                    if t not in p and (p[-1], t) in self.links and len(p) < 4:
                        grown.append(p + (t,))
                        if len(paths) + len(grown) > MAX_PATHS:
                            raise DistillError(f"task.tables: more than {MAX_PATHS:,} join paths along the foreign keys; "
                                               "the SQL encoder design chooses among them, so link fewer tables")
            frontier = grown
        return paths

    def numeric(self, column: str) -> bool:
        return self.columns[column]["type"] in ("integer", "number")

    def of(self, tables) -> list[str]:
        return [c for c in self.columns if c.split(".")[0] in tables]


@functools.lru_cache(maxsize=16)
def _schema(tables_json: str) -> Schema:
    import json

    return Schema({"tables": json.loads(tables_json)})


def schema_of(task: dict) -> Schema:
    import json

    return _schema(json.dumps(task["tables"], sort_keys=True))


def expressions(schema: Schema, tables) -> list[str]:
    """What a query may select, order or group by over these tables."""
    out = ["*", "COUNT(*)"] + [f"{t}.*" for t in tables]
    for column in schema.of(tables):
        out += [column, f"DISTINCT {column}", f"COUNT(DISTINCT {column})"]
        if schema.numeric(column):
            out += [f"{agg}({column})" for agg in AGGREGATES]
    return out


def choices(schema: Schema, slot: str) -> list[str]:
    """Every label one frame position can take (the whole schema's; render() checks the fit)."""
    everything = schema.tables
    numeric = [c for c in schema.columns if schema.numeric(c)]
    measures = ["COUNT(*)"] + [f"{agg}({c})" for c in numeric for agg in AGGREGATES]
    if slot == "from":
        return [">".join(p) for p in schema.paths]
    if slot.startswith("select"):
        return [NONE] + expressions(schema, everything)
    if slot == "group":
        return [NONE] + list(schema.columns)
    if slot == "order":
        return [NONE] + [f"{e} {d}" for e in measures + list(schema.columns) for d in ("ASC", "DESC")]
    if slot == "having":
        return [NONE] + [f"{m} {op}" for m in measures for op in HAVING_OPS]
    if slot == "subquery":
        keyed = [f"{a.split(' = ')[0]} {neg}IN {a.split(' = ')[1]}" for a in schema.links.values()
                 for neg in ("", "NOT ")]
        return [NONE] + keyed + [f"{c} {op} AVG" for c in numeric for op in (">", "<")]
    if slot == "limit":
        return [NONE, "1", "N"]
    raise KeyError(slot)


def tag_kinds(schema: Schema) -> list[str]:
    kinds = ["limit", "having"]
    for column in schema.columns:
        kinds += [f"where:{column} {op}" for op in (NUMBER_OPS if schema.numeric(column) else TEXT_OPS)]
    return kinds


def output_names(task: dict) -> list[str]:
    """The head's outputs: "O", B-/I- per tag kind, then every frame position's labels."""
    return list(schema_of(task).outputs)


# ---------------------------------------------------------------- a query as choices


class Unrepresentable(ValueError):
    """A query outside the shapes this design writes (it is left out of training)."""


def decompose(sql: str, task: dict) -> dict:
    """The choices and condition values that render() turns back into this query."""
    import sqlglot
    from sqlglot import exp

    schema = schema_of(task)
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.ParseError as err:
        raise Unrepresentable(str(err)) from err
    if not isinstance(tree, exp.Select) or tree.args.get("with"):
        raise Unrepresentable("not a plain SELECT")
    path = tuple([tree.args["from_"].this.name] + [j.this.name for j in tree.args.get("joins") or []])
    if ">".join(path) not in choices(schema, "from"):
        raise Unrepresentable("tables joined off the foreign keys")
    names = _Names(schema, path)
    frame = {"from": ">".join(path), "conditions": [], "limit_value": None, "having_value": None}
    selected = [names.expression(e) for e in tree.expressions]
    if tree.args.get("distinct"):
        if len(selected) != 1:
            raise Unrepresentable("DISTINCT over several columns")
        selected = [f"DISTINCT {selected[0]}"]
    if len(selected) > 3:
        raise Unrepresentable("more than three selected expressions")
    for i in range(3):
        frame[f"select{i + 1}"] = selected[i] if i < len(selected) else NONE
    frame["group"] = _one(names, tree.args.get("group"), "GROUP BY")
    frame["order"] = _order(names, tree.args.get("order"))
    frame["having"] = NONE
    if tree.args.get("having"):
        frame["having"], frame["having_value"] = _having(names, tree.args["having"].this)
    frame["subquery"] = NONE
    for condition in _conjuncts(tree.args["where"].this) if tree.args.get("where") else []:
        _condition(names, condition, frame)
    frame["limit"] = NONE
    if tree.args.get("limit"):
        frame["limit"], frame["limit_value"] = "N", _literal(tree.args["limit"].expression)
    return frame


class _Names:
    """Columns and expressions qualified with their table, in the label spelling."""

    def __init__(self, schema: Schema, path: tuple):
        self.schema, self.path = schema, path

    def column(self, node) -> str:
        from sqlglot import exp

        if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
            raise Unrepresentable(f"not a column: {node.sql()}")
        tables = [node.table] if node.table else [t for t in self.path if f"{t}.{node.name}" in self.schema.columns]
        if len(tables) != 1 or f"{tables[0]}.{node.name}" not in self.schema.columns or tables[0] not in self.path:
            raise Unrepresentable(f"column {node.sql()} is not one of the chosen tables'")
        return f"{tables[0]}.{node.name}"

    def expression(self, node) -> str:
        from sqlglot import exp

        if isinstance(node, exp.Star):
            return "*"
        if isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
            return f"{node.table}.*"
        if isinstance(node, exp.Count):
            inner = node.this
            if isinstance(inner, exp.Star):
                return "COUNT(*)"
            if isinstance(inner, exp.Distinct) and len(inner.expressions) == 1:
                return f"COUNT(DISTINCT {self.column(inner.expressions[0])})"
            raise Unrepresentable(f"count of {inner.sql()}")
        for agg, kind in (("SUM", exp.Sum), ("AVG", exp.Avg), ("MIN", exp.Min), ("MAX", exp.Max)):
            if isinstance(node, kind):
                return f"{agg}({self.column(node.this)})"
        return self.column(node)


def _one(names, clause, what) -> str:
    if not clause:
        return NONE
    if len(clause.expressions) != 1:
        raise Unrepresentable(f"{what} over several columns")
    return names.column(clause.expressions[0])


def _order(names, clause) -> str:
    if not clause:
        return NONE
    if len(clause.expressions) != 1:
        raise Unrepresentable("ORDER BY over several expressions")
    ordered = clause.expressions[0]
    return f"{names.expression(ordered.this)} {'DESC' if ordered.args.get('desc') else 'ASC'}"


def _having(names, node):
    op = _comparison(node)
    if op not in HAVING_OPS:
        raise Unrepresentable(f"HAVING {node.sql()}")
    return f"{names.expression(node.this)} {op}", _literal(node.expression)


def _conjuncts(node) -> list:
    from sqlglot import exp

    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _comparison(node) -> str | None:
    from sqlglot import exp

    return {exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.LT: "<", exp.GTE: ">=", exp.LTE: "<="}.get(type(node))


def _condition(names, node, frame):
    """One WHERE conjunct: a value condition, or the frame's subquery condition."""
    from sqlglot import exp

    negated = isinstance(node, exp.Not)
    inner = node.this if negated else node
    if isinstance(inner, exp.In) and inner.args.get("query"):
        select = inner.args["query"].this if isinstance(inner.args["query"], exp.Subquery) else inner.args["query"]
        child = select.args["from_"].this.name
        frame["subquery"] = f"{names.column(inner.this)} {'NOT ' if negated else ''}IN {child}.{select.expressions[0].name}"
        return _check_subquery(names, frame)
    if isinstance(inner, exp.In):
        values = [_literal(v) for v in inner.expressions]
        return frame["conditions"].append((names.column(inner.this), "!=" if negated else "=", values))
    if negated:
        raise Unrepresentable(f"NOT {inner.sql()}")
    if isinstance(inner, exp.Between):
        return frame["conditions"].append((names.column(inner.this), "BETWEEN",
                                           [_literal(inner.args["low"]), _literal(inner.args["high"])]))
    if isinstance(inner, exp.Like):
        pattern = _literal(inner.expression)
        return frame["conditions"].append((names.column(inner.this), "LIKE", [str(pattern).strip("%")]))
    op = _comparison(inner)
    if op and isinstance(inner.expression, exp.Subquery):
        frame["subquery"] = f"{names.column(inner.this)} {op} AVG"
        return _check_subquery(names, frame)
    if op is None:
        raise Unrepresentable(f"condition {inner.sql()}")
    frame["conditions"].append((names.column(inner.this), op, [_literal(inner.expression)]))


def _check_subquery(names, frame):
    if frame["subquery"] not in choices(names.schema, "subquery"):
        raise Unrepresentable(f"subquery {frame['subquery']}")


def _literal(node):
    from sqlglot import exp

    if isinstance(node, exp.Neg):
        value = _literal(node.this)
        return -value
    if not isinstance(node, exp.Literal):
        raise Unrepresentable(f"not a literal: {node.sql()}")
    if node.is_string:
        return node.this
    number = float(node.this)
    return int(number) if number == int(number) else number


# ---------------------------------------------------------------- choices -> SQL


def render(frame: dict, task: dict) -> str:
    """The query the choices describe; names are qualified only when tables are joined."""
    schema = schema_of(task)
    path = frame["from"].split(">")
    short = (lambda text: re.sub(rf"\b{re.escape(path[0])}\.", "", text)) if len(path) == 1 else (lambda text: text)
    selected = [frame[s] for s in ("select1", "select2", "select3") if frame.get(s, NONE) != NONE] or ["*"]
    if selected[0].startswith("DISTINCT "):
        head = "SELECT DISTINCT " + ", ".join([selected[0][9:]] + selected[1:])
    else:
        head = "SELECT " + ", ".join(selected)
    sql = head + f" FROM {path[0]}" + "".join(f" JOIN {b} ON {schema.links[(a, b)]}" for a, b in zip(path, path[1:]))
    where = [_render_condition(*c) for c in _grouped(frame["conditions"])]
    if frame.get("subquery", NONE) != NONE:
        where.append(_render_subquery(frame["subquery"]))
    if where:
        sql += " WHERE " + " AND ".join(where)
    if frame.get("group", NONE) != NONE:
        sql += f" GROUP BY {frame['group']}"
    if frame.get("having", NONE) != NONE and frame.get("having_value") is not None:
        sql += f" HAVING {frame['having']} {_sql_literal(frame['having_value'])}"
    if frame.get("order", NONE) != NONE:
        sql += f" ORDER BY {frame['order']}"
        if frame.get("limit", NONE) != NONE:
            sql += f" LIMIT {frame['limit_value'] if frame['limit'] == 'N' and frame.get('limit_value') else 1}"
    return short(sql)


def _grouped(conditions) -> list:
    """Equalities (and inequalities) on one column are one IN (NOT IN) list; a range's two ends,
    tagged apart, are one BETWEEN."""
    out = []
    for column, op, values in conditions:
        same = next((c for c in out if c[0] == column and c[1] == op and op in ("=", "!=", "BETWEEN")), None)
        if same:
            same[2].extend(v for v in values if v not in same[2])
        else:
            out.append((column, op, list(values)))
    return out


def _render_condition(column, op, values) -> str:
    if op == "BETWEEN":
        low, high = sorted(values[:2]) if len(values) >= 2 else (values[0], values[0])
        return f"{column} BETWEEN {_sql_literal(low)} AND {_sql_literal(high)}"
    if op == "LIKE":
        return f"{column} LIKE {_sql_literal('%' + str(values[0]) + '%')}"
    if len(values) > 1:
        listed = ", ".join(_sql_literal(v) for v in values)
        return f"{column} {'NOT IN' if op == '!=' else 'IN'} ({listed})"
    return f"{column} {'<>' if op == '!=' else op} {_sql_literal(values[0])}"


def _render_subquery(label: str) -> str:
    if label.endswith(" AVG"):
        column, op, _ = label.split(" ")
        return f"{column} {op} (SELECT AVG({column.split('.')[1]}) FROM {column.split('.')[0]})"
    column, rest = label.split(" ", 1)
    negated = rest.startswith("NOT ")
    child_table, child_column = rest.split(" ")[-1].split(".")
    return f"{'NOT ' if negated else ''}{column} IN (SELECT {child_column} FROM {child_table})"


def _sql_literal(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(int(value)) if float(value) == int(value) else str(value)


# ---------------------------------------------------------------- training examples

NUMBER_RE = re.compile(r"[$€£]?\d[\d,]*(?:\.\d+)?(?:\s?k\b)?|\b(?:(?:zero|one|two|three|four|five|six|seven|eight|nine|"
                       r"ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
                       r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|dozen)[\s-]*)+\b", re.I)


def window(tokenizer, text: str, max_length: int):
    """(ids, ranges): [CLS], the frame's markers, [SEP], the question's tokens, [SEP]."""
    from ..student import special_ids
    from .common import token_ranges

    special = special_ids(tokenizer)
    fallback = next((i for i in (tokenizer.token_to_id("[MASK]"), tokenizer.token_to_id("<mask>")) if i is not None),
                    special["eos"])
    markers = [tokenizer.token_to_id(word) for word in MARKER_WORDS]  # a word the base knows starts each apart
    ids, ranges = token_ranges(tokenizer, text)
    keep = max_length - len(FRAME) - 2
    head = [special["bos"]] + [fallback if m is None else m for m in markers] + [special["eos"]]
    return head + ids[:keep] + [special["eos"]], ranges[:keep]


def value_spans(text: str, frame: dict) -> list[tuple[int, int, str]]:
    """(start, end, kind) where the question says each value of the query."""
    taken, spans = [], []
    wanted = [(f"where:{column} {op}", value) for column, op, values in frame["conditions"] for value in values]
    wanted += [("having", frame["having_value"])] if frame.get("having_value") is not None else []
    wanted += [("limit", frame["limit_value"])] if frame.get("limit_value") is not None else []
    for kind, value in wanted:
        found = _locate(text, value, taken)
        if found:
            taken.append(found)
            spans.append((*found, kind))
    return spans


def _locate(text: str, value, taken) -> tuple[int, int] | None:
    """The first place, not yet claimed, where the question says this value."""
    from .common import first_free
    from .normalise import number

    if isinstance(value, str):
        return first_free(text, value, taken)
    for match in NUMBER_RE.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in " -":
            end -= 1
        if not any(a < end and start < b for a, b in taken) and number(text[start:end]) == value:
            return start, end
    return None


def encode(tokenizer, example, task, student: dict):
    """(ids, labels): each frame position's choice, a BIO tag on every question token. A query
    this design cannot write teaches nothing (every label ignored)."""
    text, index = example["input"]["text"], schema_of(task).position
    ids, ranges = window(tokenizer, text, student["max_length"])
    try:
        frame = decompose(example["target"]["sql"], task)
    except Unrepresentable:
        return ids, [-100] * len(ids)
    spans = value_spans(text, frame)
    said = {kind for _, _, kind in spans}
    if frame["limit"] == "N" and "limit" not in said:
        frame["limit"] = "1" if frame["limit_value"] == 1 else None  # "the cheapest" says no number
    labels = [index[f"{slot}:{frame[slot]}"] if frame[slot] else -100 for slot in FRAME] + [-100]
    for start, end in ranges:
        tag = "O"
        for a, b, kind in spans:
            if a <= start < b and end > start:
                tag = ("B-" if start <= a else "I-") + kind
        labels.append(index[tag] if end > start else -100)
    return ids, labels + [-100]


# ---------------------------------------------------------------- pouring


def predict(spirit, text: str) -> str:
    """The query the student reads in this question."""
    import numpy as np

    ids, ranges = window(spirit.tokenizer, text, spirit.max_length)
    logits = np.asarray(spirit.forward(ids), dtype=np.float32)
    return query_from_logits(spirit.recipe["task"], text, ranges, logits)


def query_from_logits(task: dict, text: str, ranges, logits) -> str:
    """The best choice at each frame position that fits the chosen tables, read against the
    question's own words and what SQL means, with the values tagged in the question; rendered by
    render()."""
    schema = schema_of(task)
    frame = _choose(schema, logits)
    tables = frame["from"].split(">")
    _read_stated(text, frame, schema, tables)
    question = logits[len(FRAME) + 1:len(FRAME) + 1 + len(ranges)]
    read = _read_values(text, ranges, question, schema, tables, frame, lambda: _runner_up_having(text, logits, frame, schema, tables))
    stated_values(text, frame, schema, tables, read)
    misspelt_values(text, ranges, frame, schema, tables, read)
    stated_group(text, frame, schema, tables)
    stated_measure(text, frame, schema, tables)
    unmeasured_group(frame)
    grouped_selects(frame, schema)
    shown_ranking(text, frame)
    known_column(frame, tables)
    asked_rows(text, frame, schema, tables)
    measures_alone(frame, tables)
    unused_tables(frame)
    if frame["limit"] == "N" and frame["limit_value"] is None:
        frame["limit"] = "1"
    return render(frame, task)


def _choose(schema: Schema, logits) -> dict:
    """Each position's best label: the tables first, then the group (the selects depend on it)."""
    frame = {"conditions": [], "limit_value": None, "having_value": None}
    frame["from"] = _best(logits[0], schema.slot_labels["from"], lambda label: True)
    fits = _fits(schema, frame["from"].split(">"))
    frame["group"] = _best(logits[FRAME.index("group")], schema.slot_labels["group"], fits)
    for position, slot in enumerate(FRAME[1:], start=1):
        if slot != "group":
            frame[slot] = _best(logits[position], schema.slot_labels[slot], _unchosen(frame, slot, fits))
    return frame


def _read_stated(text: str, frame: dict, schema: Schema, tables) -> None:
    """What the question's words state outright overrides the guessed labels."""
    for slot in (*SELECTS, "group", "order", "having", "subquery"):
        moved = stated_column(text, frame[slot], schema)
        if moved not in _measured(frame):  # a group (or a column shown beside it) is not the column a measure reads
            frame[slot] = moved
    stated_list(text, frame, schema, tables)
    unnamed_column(text, frame, schema, tables)
    stated_count(text, frame)
    how_much(text, frame, schema, tables)
    frame["order"] = stated_scale(text, frame["order"], schema, tables)
    frame["order"] = stated_direction(text, frame["order"])
    frame["order"] = stated_ranking(text, frame["order"])
    unsaid_average(text, frame)
    for slot in SELECTS:
        frame[slot] = stated_aggregate(text, frame[slot], frame["order"])
    frame["having"] = stated_having(text, frame["having"])


def _runner_up_having(text: str, logits, frame: dict, schema: Schema, tables) -> str:
    """The HAVING a breakdown compares when the head chose none: the measure the question names
    ("an average price", "total stock"), else the head's best that fits, read as a chosen one is
    (its column, an unsaid average, its aggregate)."""
    fits = _fits(schema, tables)
    best = _best(logits[FRAME.index("having")], schema.slot_labels["having"], lambda label: label != NONE and fits(label))
    measure, _, op = best.rpartition(" ")
    said = said_measure(text, schema, tables, frame["group"])
    if said:
        return f"{said} {op}"
    return stated_having(text, f"{as_said_average(text, stated_column(text, measure, schema))} {op}")


def stated_having(text: str, label: str) -> str:
    """A HAVING label's aggregate as the question names it ("an average price above 150")."""
    measure, _, op = label.rpartition(" ")
    return f"{stated_aggregate(text, measure, NONE)} {op}" if measure else label


def _measured(frame: dict) -> set:
    """The columns the frame's measures (SUM(...), ORDER BY AVG(...), ...) read."""
    labels = [frame.get(s, NONE) for s in (*SELECTS, "order", "having")]
    return {m for label in labels for m in re.findall(r"(?:SUM|AVG|MIN|MAX)\(([^)]+)\)", label)}


def _best(row, labels, fits) -> str:
    return max((row[i], label) for i, label in labels if fits(label))[1]


def _unchosen(frame: dict, slot: str, fits):
    """A selected expression is not selected twice, nor a measure of the column the rows are
    grouped by (each group holds one value of it)."""
    if not slot.startswith("select"):
        return fits
    taken = {frame[s] for s in SELECTS if s in frame} - {NONE}
    group = frame["group"]
    if group != NONE:
        taken |= {f"{fn}({group})" for fn in AGGREGATES} | {f"COUNT(DISTINCT {group})"}
    return lambda label: label not in taken and fits(label)


def _fits(schema: Schema, tables):
    """Whether a label names only columns of the chosen tables."""
    def fits(label: str) -> bool:
        if label == "*" and len(tables) > 1:
            return False  # joined rows: the query says whose columns it lists (t.*)
        mentioned = TABLE_REF.findall(label)
        head = label.split(" ")[0]
        if label.endswith(" AVG") or " IN " in label:  # a subquery condition: its outer column decides
            mentioned = [head.split(".")[0]]
        return all(t in tables for t in mentioned)
    return fits


def _read_values(text, ranges, logits, schema, tables, frame, runner_up=lambda: NONE):
    """The tagged words, read as the value of the condition (or LIMIT, HAVING) their tag names;
    returns where each value was read, (start, end, condition index or None). A number tagged as
    HAVING's, in a breakdown the head gave none, compares the best HAVING that fits (runner_up(),
    asked only then): "categories whose total stock is over 3000"."""
    from .common import bio_viterbi
    from .ner import decode_tags, merge_adjacent, trim_punctuation
    from .normalise import number

    kinds = ["limit", "having"] + [k for k in tag_kinds(schema) if k.startswith("where:")
                                   and k[6:].split(".")[0] in tables]
    allowed = ["O"] + [f"{p}-{kind}" for kind in kinds for p in ("B", "I")]
    columns = [schema.position[n] for n in allowed]
    tags = bio_viterbi(text, ranges, logits[:, columns], allowed) if len(ranges) else []
    read = []
    for span in trim_punctuation(text, merge_adjacent(text, decode_tags(text, ranges, tags))):
        kind, words = span["type"], span["text"]
        read.append((span["start"], span["end"], None))
        if kind in ("limit", "having"):
            if kind == "having" and frame["having"] == NONE and frame["group"] != NONE:
                frame["having"] = runner_up()
            if frame[f"{kind}_value"] is None:
                frame[f"{kind}_value"] = number(words)
                if kind == "having" and frame["having"] != NONE:  # its operator, as the words around the number say it
                    measure, guess = frame["having"].rsplit(" ", 1)
                    op = stated_operator(text, span["start"], span["end"], guess, True)
                    frame["having"] = f"{measure} {op if op in HAVING_OPS else guess}"
            continue
        column, op = kind[6:].split(" ", 1)
        op = stated_operator(text, span["start"], span["end"], op, schema.numeric(column))
        value = number(words) if schema.numeric(column) else _text_value(schema.columns[column], words, text, span)
        if value is not None:
            read[-1] = (span["start"], span["end"], len(frame["conditions"]))
            frame["conditions"].append((column, op, [value]))
    stated_range(text, frame, schema, read)
    return read


RANGE_JOINERS = r"\s*(?:to|through|thru|until|till|-|–)\s*"


def stated_range(text: str, frame: dict, schema: Schema, read) -> None:
    """"From 2020 to 2022", "2020 through 2022", "2020-2022": two numbers of one column joined
    by "to" are the ends of one range (BETWEEN, inclusive), whatever each end was read as alone."""
    conditions = frame["conditions"]
    placed = [(start, end, i) for start, end, i in read if i is not None]
    for (_, end, i), (start, _, j) in zip(placed, placed[1:]):
        if conditions[i] is None:  # already the upper end of a range ("2019 to 2020 to 2021")
            continue
        (column, _, low), (other, _, high) = conditions[i], conditions[j]
        if column == other and schema.numeric(column) and re.fullmatch(RANGE_JOINERS, text[end:start].lower()):
            conditions[i] = (column, "BETWEEN", low + high)
            conditions[j] = None
    frame["conditions"] = [c for c in conditions if c is not None]


def stated_values(text: str, frame: dict, schema: Schema, tables, read) -> None:
    """A value a column declares, said in the question ("all the backpacks", "delivered orders")
    but read by no tag, filters that column when its table is queried and no condition holds it."""
    lowered = text.lower()
    for name in schema.of(tables):
        if schema.numeric(name) or any(c == name for c, _, _ in frame["conditions"]):
            continue
        for value in schema.columns[name].get("values", []):
            pattern = rf"(?<!\w){re.escape(value.lower())}(?:s|es)?(?!\w)"
            said = next((m.span() for m in re.finditer(pattern, lowered)
                         if not any(a < m.end() and m.start() < b for a, b, _ in read)), None)
            if said:
                frame["conditions"].append((name, stated_operator(text, *said, "=", False), [value]))


SLIP_MIN = 5  # shorter values are too near other words ("Lima", "home") to read a slip of them


def misspelt_values(text: str, ranges, frame: dict, schema: Schema, tables, read) -> None:
    """A declared value written with one slip ("pendng", "hedphones", "tornto") filters its column
    as one said right does (stated_values). Only where a word of it is one the tokenizer splits: a
    word it knows whole ("spending") is a word of its own, not a slip of "pending"."""
    words = [(m.start(), m.end(), m.group().lower()) for m in re.finditer(r"\w+", text) if m.group().isalpha()]
    split = [sum(start <= a and b <= end for a, b in ranges) > 1 for start, end, _ in words]
    for name in schema.of(tables):
        if schema.numeric(name) or any(c == name for c, _, _ in frame["conditions"]):
            continue
        for value in schema.columns[name].get("values", []):
            said = _slipped(words, split, value.lower(), read) if len(value) >= SLIP_MIN else None
            if said:
                frame["conditions"].append((name, stated_operator(text, *said, "=", False), [value]))
                break


def _slipped(words, split, value: str, read) -> tuple[int, int] | None:
    """Where a run of the question's words, one of them split by the tokenizer and none read by a
    tag, is one slip away from this value."""
    n = len(value.split())
    for i in range(len(words) - n + 1):
        start, end = words[i][0], words[i + n - 1][1]
        if any(split[i:i + n]) and one_slip(" ".join(w for _, _, w in words[i:i + n]), value) \
                and not any(a < end and start < b for a, b, _ in read):
            return start, end
    return None


def _slip_of(declared: list[str], words: str) -> str | None:
    """The one declared value (of SLIP_MIN letters or more) these words are a slip of, if one."""
    slipped = [v for v in declared if len(v) >= SLIP_MIN and one_slip(words.lower(), v.lower())]
    return slipped[0] if len(slipped) == 1 else None


def one_slip(said: str, meant: str) -> bool:
    """Whether two spellings differ by one letter dropped, added or changed, or two neighbours swapped."""
    if said == meant or abs(len(said) - len(meant)) > 1:
        return False
    if len(said) == len(meant):
        diff = [i for i in range(len(said)) if said[i] != meant[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and said[diff[0]] == meant[diff[1]] and said[diff[1]] == meant[diff[0]])
    short, long = sorted((said, meant), key=len)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1:]


def grouped_selects(frame: dict, schema: Schema) -> None:
    """Grouped rows show the column they are grouped by: a plain column beside a measure names
    no one row of its group ("total, SUM(total) ... GROUP BY year" shows the year). A group by
    a key keeps the columns of that key's row ("name, SUM(total) ... GROUP BY customers.id")."""
    group = frame["group"]
    if group == NONE or group not in schema.columns or schema.columns[group].get("key") \
            or schema.columns[group].get("references"):
        return
    shown = False
    for slot in SELECTS:
        if frame[slot] in schema.columns:  # a plain column, the group's own included: shown once, as the group
            frame[slot] = NONE if shown else group
            shown = True
    _show(frame, _chosen(frame))


def unmeasured_group(frame: dict) -> None:
    """Groups are for measuring them: a GROUP BY that nothing counts, sums, ranks or filters
    merges rows, and is dropped ("orders with a total above the average ... GROUP BY total") —
    unless the group alone is shown, which lists each of its values once, as DISTINCT would."""
    group = frame["group"]
    if group == NONE or _chosen(frame) == [group]:
        return
    if not any(MEASURE.match(frame[s]) for s in (*SELECTS, "order", "having")):
        frame["group"] = NONE


def shown_ranking(text: str, frame: dict) -> None:
    """Ranked groups show the measure they are ranked by when the question asks for it as well
    ("which city has the most customers and how many", "top 3 customer ids by spend, with how
    much they spent")."""
    measure = frame["order"].rpartition(" ")[0]
    if frame["group"] == NONE or not MEASURE.match(measure) or measure in _chosen(frame):
        return
    free = [slot for slot in SELECTS if frame[slot] == NONE]
    if free and _says(text, "how many" if measure == "COUNT(*)" else "how much"):
        frame[free[0]] = measure


# Comparison words right before (or after) a value say its operator outright; the tag's operator
# is the model's guess, learned from fewer examples per column than these words have in English.
OPERATOR_BEFORE = [
    ("<=", r"(?:at most|no more than|not more than|or less than|up to|a maximum of|<=)"),
    (">=", r"(?:at least|no less than|not less than|or more than|a minimum of|since|in or after|>=)"),
    ("<", r"(?:under|below|less than|lower than|fewer than|cheaper than|smaller than|before|prior to|<)"),
    (">", r"(?:over|above|more than|greater than|higher than|bigger than|larger than|pricier than|exceeding|after|>)"),
    ("=", r"(?:in|during|exactly|equal to|from)"),
]
OPERATOR_AFTER = [(">=", r"(?:or more|or above|and up|and above|or higher|or later|onwards|or after|\+)"),
                  ("<=", r"(?:or less|or below|or fewer|or lower|or earlier|or before)")]
NEGATION_BEFORE = r"(?:(?<!\w)(?:not|except|other than|excluding|outside(?: of)?|neither|nor|besides|apart from)|n't)(?: in| the| from)?"


def stated_operator(text: str, start: int, end: int, guess: str, numeric: bool) -> str:
    """The operator the words around a value state, else the tagger's guess. A range (BETWEEN)
    and a text value's list keep theirs; a text value is negated only by a word right before it."""
    before, after = text[max(0, start - 30):start].lower(), text[end:end + 20].lower()
    if not numeric:
        negated = re.search(rf"{NEGATION_BEFORE}\s*$", before)
        return "!=" if negated else ("=" if guess == "!=" else guess)
    if guess == "BETWEEN":
        return guess
    for op, words in OPERATOR_AFTER:
        if re.match(rf"\s*{words}(?!\w)", after):
            return op
    for op, words in OPERATOR_BEFORE:
        if re.search(rf"(?<!\w){words}\s*(?:\$|€|£)?\s*$", before):
            return op
    return guess


# Superlatives and aggregate words say a direction or a function outright, the same way whatever
# the column; the frame's labels pair each with a column and are learned per pair.
DIRECTION_WORDS = {
    "ASC": r"(?:lowest|(?<!at )least|fewest|smallest|cheapest|earliest|oldest|bottom|minimum|ascending)",
    "DESC": r"(?:highest|(?<!at )most|largest|biggest|priciest|greatest|newest|latest|top|maximum|descending)",
}
AGGREGATE_WORDS = {
    "AVG": r"(?:avg|av[ae]?r[ae]?ge|mean|typical)",  # and its usual misspellings: avrage, averge, avarage
    "MIN": r"(?:min|minimum|lowest|smallest|(?<!at )least|earliest|oldest|cheapest)",
    "MAX": r"(?:max|maximum|highest|largest|biggest|latest|newest|most recent|priciest)",
}


def mentioned(text: str, column: dict) -> bool:
    """Whether the question names this column (its name, phrase or a synonym, or their plural)."""
    return bool(mentions(text, column))


def mentions(text: str, column: dict) -> list[tuple[int, int]]:
    """Where the question names this column: its name, phrase or a synonym, or their plural."""
    words = [column["name"].replace("_", " "), column.get("phrase"), *column.get("synonyms", [])]
    lowered = text.lower()
    found = []
    for w in filter(None, words):
        stem = re.escape(w.lower())
        plural = rf"{stem[:-1]}(?:y|ies)" if stem.endswith("y") else rf"{stem}(?:s|es)?"
        found += [m.span() for m in re.finditer(rf"(?<!\w){plural}(?!\w)", lowered)]
    return found


def stated_column(text: str, label: str, schema: Schema) -> str:
    """A chosen expression's column, moved to the one other column of its table the question
    names when it never names the chosen one ("the smallest total" is not ordered by year). An
    aggregate or an ordering keeps to numeric columns."""
    refs = re.findall(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b", label, re.I)
    if len(refs) != 1:
        return label
    table, name = refs[0]
    chosen = f"{table}.{name}"
    if mentioned(text, schema.columns[chosen]):
        return label
    numeric_only = bool(re.match(r"(SUM|AVG|MIN|MAX)\(", label)) or label.endswith((" ASC", " DESC", " AVG"))
    named = [c for c in schema.of([table]) if c != chosen and mentioned(text, schema.columns[c])
             and (schema.numeric(c) if numeric_only else True)]
    return label.replace(chosen, named[0]) if len(named) == 1 else label


def _chosen(frame: dict) -> list[str]:
    return [frame[s] for s in SELECTS if frame[s] != NONE]


def _show(frame: dict, labels: list[str]) -> None:
    """The selected expressions, in order: the first three labels, the rest of the slots none."""
    for slot, label in zip(SELECTS, labels + [NONE] * len(SELECTS)):
        frame[slot] = label


def _rows(table: str, tables) -> str:
    """The label that selects a table's whole rows: * alone, t.* when tables are joined."""
    return "*" if len(tables) == 1 else f"{table}.*"


LIST_JOINERS = r"\s*(?:,\s*(?:and|&|plus)?|and|&|plus|as well as|/)\s*"
PLAIN = re.compile(r"(?:[a-z_][a-z0-9_]*\.)?(?:[a-z_][a-z0-9_]*|\*)", re.I)


def stated_list(text: str, frame: dict, schema: Schema, tables) -> None:
    """The columns a question lists ("name, price and stock") are the ones selected, in its
    order, when the frame selects plain columns: each select position learns its own label, and a
    list names them all outright."""
    chosen = _chosen(frame)
    if frame["group"] != NONE or not all(PLAIN.fullmatch(label) for label in chosen):
        return
    owner = next((label.split(".")[0] for label in chosen if "." in label), tables[0])
    spots = sorted((start, -end, column) for column in schema.of([owner])
                   for start, end in mentions(text, schema.columns[column]))
    runs, last_end = [], -1
    for start, negative_end, column in spots:
        if start < last_end:
            continue  # inside a longer mention ("order year" holds "year")
        if runs and re.fullmatch(LIST_JOINERS, text[last_end:start]) and column not in runs[-1]:
            runs[-1].append(column)
        else:
            runs.append([column])
        last_end = -negative_end
    longest = max(runs, key=len, default=[])
    if len(longest) >= 2:
        _show(frame, longest)


def unnamed_column(text: str, frame: dict, schema: Schema, tables) -> None:
    """A lone selected column the question never names, nor any other column of its table, is
    a guess: the question asks for the rows ("yoga mats", "which orders did Ravi place")."""
    chosen = _chosen(frame)
    if frame["group"] != NONE or len(chosen) != 1 or chosen[0] not in schema.columns:
        return
    table = chosen[0].split(".")[0]
    if not any(mentioned(text, schema.columns[c]) for c in schema.of([table])):
        frame["select1"] = _rows(table, tables)


def known_column(frame: dict, tables) -> None:
    """A lone selected column that a condition already fixes to one value ("silver tier customers"
    selecting tier = 'silver') tells nothing: the question asks for the rows."""
    chosen = _chosen(frame)
    fixed = {column for column, op, values in _grouped(frame["conditions"]) if op == "=" and len(values) == 1}
    if frame["group"] == NONE and len(chosen) == 1 and chosen[0] in fixed:
        frame["select1"] = _rows(chosen[0].split(".")[0], tables)


def asked_rows(text: str, frame: dict, schema: Schema, tables) -> None:
    """"Which product has the most stock" asks for the product, its rows, not the column that
    ranks them: a lone plain column of the table that "which" (or "what") names is the rows,
    unless a column of it follows the table's word ("which product names")."""
    chosen = _chosen(frame)
    if frame["group"] != NONE or len(chosen) != 1 or chosen[0] not in schema.columns:
        return
    table = chosen[0].split(".")[0]
    lowered = text.lower()
    columns = [span for c in schema.of([table]) for span in mentions(text, schema.columns[c])]
    for start, end in mentions(text, schema.table_words[table]):
        asked = re.search(r"(?<!\w)(?:which|what)\s+$", lowered[:start])
        then = re.match(r"(?:'s|’s)?\s*", lowered[end:]).end() + end
        if asked and not any(c_start == then for c_start, _ in columns):
            frame["select1"] = _rows(table, tables)
            return


MEASURE = re.compile(r"(?:COUNT|SUM|AVG|MIN|MAX)\(")


def measures_alone(frame: dict, tables) -> None:
    """Without GROUP BY a measure makes one row of all rows: shown beside it, a plain column is
    an arbitrary row's value ("total, COUNT(*)"), and ranked with ORDER BY ... LIMIT, the question
    asks for rows ("which order had the smallest total"), not a measure."""
    chosen = _chosen(frame)
    measures = [label for label in chosen if MEASURE.match(label)]
    if frame["group"] != NONE or not measures or len(measures) == len(chosen) and frame["order"] == NONE:
        return
    _show(frame, measures if frame["order"] == NONE else [_rows(tables[0], tables)])


def unused_tables(frame: dict) -> None:
    """A table at either end of the join path that nothing in the query reads is dropped: joining
    it only repeats or loses rows ("silver tier customers" joined to their orders). COUNT(*)
    counts the path's first table ("how many orders include a notebook")."""
    path = frame["from"].split(">")
    labels = [frame[s] for s in (*SELECTS, "group", "order", "having", "subquery")]
    text = " ".join(labels + [column for column, _, _ in frame["conditions"]])
    used = set(TABLE_REF.findall(text))
    if "COUNT(*)" in text:
        used.add(path[0])
    while len(path) > 1 and path[-1] not in used:
        path.pop()
    while len(path) > 1 and path[0] not in used:
        path.pop(0)
    frame["from"] = ">".join(path)


COUNT_WORDS = r"(?:how many|number of|count of|count the|headcount|head count)"
SUM_WORDS = r"(?:totals?|in total|sum|summed|combined|altogether|in all|overall)"


def how_much(text: str, frame: dict, schema: Schema, tables) -> None:
    """"How much" asks for an amount, not a count: a lone COUNT(*) becomes the one numeric column
    the question names (summed when it says so: "how much stock in total"). "How many" with a
    sum word counts the units a column holds ("how many units in stock, all products combined")."""
    if frame["group"] != NONE or [frame[s] for s in SELECTS] != ["COUNT(*)", NONE, NONE]:
        return
    summed, asked = _says(text, SUM_WORDS), _says(text, "how much")
    if not asked and not summed:
        return
    if not asked:  # the sum word itself ("in total") names no column
        text = re.sub(rf"(?<!\w){SUM_WORDS}(?!\w)", " ", text.lower())
    filtered = {column for column, _, _ in frame["conditions"]}
    named = [c for c in schema.of(tables[:1]) if schema.numeric(c) and c not in filtered
             and mentioned(text, schema.columns[c])]
    if len(named) == 1:
        frame["select1"] = f"SUM({named[0]})" if summed else named[0]


EACH_WORDS = r"(?:per|for each|for every|in each|broken down by|grouped by|split by)"


def stated_group(text: str, frame: dict, schema: Schema, tables) -> None:
    """"Total sales for every year" is a breakdown: with no group chosen and no ranking, a column
    the question names right after "per", "for each", "for every" ... groups the rows and is shown
    first (stated_measure then reads the measure the question names)."""
    if frame["group"] != NONE or frame["order"] != NONE:
        return
    lowered = text.lower()
    grouped = [c for c in schema.of(tables) if not schema.columns[c].get("key")
               and any(re.search(rf"(?<!\w){EACH_WORDS}\s+(?:the\s+)?$", lowered[:start])
                       for start, _ in mentions(text, schema.columns[c]))]
    if len(grouped) != 1:
        return
    group = grouped[0]
    frame["group"] = group
    _show(frame, [group] + [label for label in _chosen(frame) if label != group and MEASURE.match(label)])


def stated_measure(text: str, frame: dict, schema: Schema, tables) -> None:
    """A breakdown shows the measure its question names: one aggregate word and one numeric
    column besides the group ("stock totals by category", "per tier, the earliest signup year")
    replace or complete the guessed measure. Rankings and HAVING keep theirs, a count said
    outright stays a count, and a column the question compares to a number is a filter."""
    group = frame["group"]
    if group == NONE or frame["order"] != NONE or frame["having"] != NONE:
        return
    measure = said_measure(text, schema, tables, group, {column for column, _, _ in frame["conditions"]})
    slots = [s for s in SELECTS if MEASURE.match(frame[s])] or [s for s in SELECTS if frame[s] == NONE]
    if measure and slots:
        frame[slots[0]] = measure


def said_measure(text: str, schema: Schema, tables, group: str, filtered=()) -> str | None:
    """The measure a breakdown's question names, if one: one aggregate word and one numeric column
    besides the group and the filtered ones; none when it asks how many."""
    if _says(text, COUNT_WORDS):
        return None
    said = _named(text, {**AGGREGATE_WORDS, "SUM": SUM_WORDS})
    named = [c for c in schema.of(tables) if c != group and schema.numeric(c) and mentioned(text, schema.columns[c])
             and c not in filtered]
    return f"{said.pop()}({named[0]})" if len(said) == 1 and len(named) == 1 else None


def stated_count(text: str, frame: dict) -> None:
    """A question that asks how many, with no group, ranking or measure chosen, counts rows."""
    chosen = _chosen(frame)
    if frame["group"] != NONE or frame["order"] != NONE or not all(PLAIN.fullmatch(label) for label in chosen):
        return
    if _says(text, COUNT_WORDS):
        frame.update(select1="COUNT(*)", select2=NONE, select3=NONE)


def _says(text: str, words: str) -> bool:
    """Whether the question says these words (a pattern), as whole words in any case."""
    return bool(re.search(rf"(?<!\w){words}(?!\w)", text.lower()))


def _named(text: str, table: dict) -> set:
    return {key for key, words in table.items() if _says(text, words)}


SIZE_WORDS = r"(?:biggest|largest|smallest|priciest|cheapest|(?:most|least) expensive)"
TIME_WORDS = r"(?:most recent(?:ly)?|newest|latest|oldest|earliest)"


def _in_years(column: dict) -> bool:
    return "year" in column["name"] or "year" in column.get("phrase", "")


def stated_scale(text: str, order: str, schema: Schema, tables) -> str:
    """A superlative of size ranks by an amount and one of time by a year: an ORDER BY column the
    question never names moves to the one measured column of the chosen tables on the scale its
    superlative says ("our three biggest orders" by total, not by year)."""
    match = re.fullmatch(r"([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*) (ASC|DESC)", order, re.I)
    if not match or mentioned(text, schema.columns[match.group(1)]):
        return order
    size, time = _says(text, SIZE_WORDS), _says(text, TIME_WORDS)
    if size == time:
        return order
    measured = [c for c in schema.of(tables) if schema.numeric(c) and not schema.columns[c].get("key")
                and not schema.columns[c].get("references") and _in_years(schema.columns[c]) == time]
    return f"{measured[0]} {match.group(2)}" if len(measured) == 1 else order


def stated_direction(text: str, order: str) -> str:
    """ORDER BY's direction as the question's superlatives say it, when they all say one."""
    if order == NONE:
        return order
    said = _named(text, DIRECTION_WORDS)
    return f"{order.rsplit(' ', 1)[0]} {said.pop()}" if len(said) == 1 else order


def stated_ranking(text: str, order: str) -> str:
    """A ranking by an aggregate uses the average when the question says one ("top 2 categories by
    average price"). Only the average: "highest" or "lowest" beside a ranking say its direction."""
    match = re.fullmatch(r"(SUM|MIN|MAX)\((.+)\) (ASC|DESC)", order)
    if not match or _named(text, AGGREGATE_WORDS) != {"AVG"}:
        return order
    return f"AVG({match.group(2)}) {match.group(3)}"


def unsaid_average(text: str, frame: dict) -> None:
    """People say "average" when they mean one: an average no word of the question names is the
    sum ("top 3 customer ids by spend")."""
    for slot in (*SELECTS, "order", "having"):
        frame[slot] = as_said_average(text, frame[slot])


def as_said_average(text: str, label: str) -> str:
    """One label's average, kept only when a word of the question names one (unsaid_average)."""
    return label if "AVG" in _named(text, AGGREGATE_WORDS) else re.sub(r"^AVG\(", "SUM(", label)


def stated_aggregate(text: str, selected: str, order: str) -> str:
    """A selected aggregate's function as the question names it, when it names one (and no
    ORDER BY, whose superlatives are about ranking, is chosen)."""
    match = re.fullmatch(r"(SUM|AVG|MIN|MAX)\((.+)\)", selected)
    if not match or order != NONE:
        return selected
    said = _named(text, AGGREGATE_WORDS)
    return f"{said.pop()}({match.group(2)})" if len(said) == 1 else selected


def _text_value(column: dict, words: str, text: str = "", span: dict | None = None) -> str:
    """A text value in the database's spelling when the column declares it (a plural names it
    too: "desk lamps", and so does one slip of it: "pendng"), or a declared value the question
    writes across the tagged words ("Liam" tagged in "Liam Chen's"), else as written."""
    words = re.sub(r"^(?:the|a|an)\s+", "", words.strip(), flags=re.I)
    declared = column.get("values", [])
    same = next((v for v in declared if v.lower() == words.lower()), None) or next(
        (v for v in declared if _singular(v) == _singular(words)), None) or _slip_of(declared, words)
    if same or span is None:
        return same or words
    around = [v for v in declared for m in re.finditer(rf"(?<!\w){re.escape(v.lower())}(?!\w)", text.lower())
              if m.start() < span["end"] and span["start"] < m.end()]
    return max(around, key=len, default=words)


def _singular(words: str) -> str:
    return re.sub(r"(?:es|s)$", "", words.lower())

"""Built-in teacher for text-to-SQL: question/query pairs drawn from the schema itself — selects,
filters, aggregates, joins along foreign keys, group-bys and order/limit — with values taken
from each column's declared values or range, and questions worded several ways."""
from .tool_call import ENDINGS, _noisy, _rng

OPENERS = ["", "", "", "show me ", "list ", "can you find ", "I need ", "give me ", "please show "]


def _phrase(thing):
    return thing.get("phrase", thing["name"].replace("_", " "))


def _singular(table):
    return table.get("singular", _phrase(table).rstrip("s"))


def _text_columns(table):
    return [c for c in table["columns"] if c.get("values")]


def _number_columns(table):
    return [c for c in table["columns"] if c["type"] in ("integer", "number") and not c.get("key") and not c.get("references")]


def _literal(value):
    return f"'{value}'" if isinstance(value, str) else str(value)


def _number(rng, column):
    lo, hi = column.get("minimum", 1), column.get("maximum", 1000)
    return rng.randint(int(lo), int(hi))


def q_select(rng, task):
    table = rng.choice(task["tables"])
    cols = [c for c in table["columns"] if not c.get("key") and not c.get("references")]
    picked = rng.sample(cols, min(len(cols), rng.choice([1, 1, 2])))
    names = " and ".join(_phrase(c) for c in picked)
    question = rng.choice([f"the {names} of every {_singular(table)}", f"{names} for all {_phrase(table)}",
                           f"what are the {names} of the {_phrase(table)}", f"all {_phrase(table)} with their {names}"])
    return question, f"SELECT {', '.join(c['name'] for c in picked)} FROM {table['name']}"


def _condition(rng, table):
    texts, numbers = _text_columns(table), _number_columns(table)
    if texts and (not numbers or rng.random() < 0.6):
        column = rng.choice(texts)
        value = rng.choice(column["values"])
        words = rng.choice([f"whose {_phrase(column)} is {value}", f"with {_phrase(column)} {value}",
                            f"where the {_phrase(column)} is {value}"])
        return words, f"{column['name']} = {_literal(value)}"
    column = rng.choice(numbers)
    value = _number(rng, column)
    op, word = rng.choice([(">", "more than"), (">", "above"), ("<", "less than"), ("<", "below")])
    return f"with {_phrase(column)} {word} {value}", f"{column['name']} {op} {value}"


def q_filter(rng, task):
    table = rng.choice([t for t in task["tables"] if _text_columns(t) or _number_columns(t)])
    words, condition = _condition(rng, table)
    question = rng.choice([f"which {_phrase(table)} {words}", f"{_phrase(table)} {words}",
                           f"find the {_phrase(table)} {words}"])
    return question, f"SELECT * FROM {table['name']} WHERE {condition}"


def q_aggregate(rng, task):
    table = rng.choice(task["tables"])
    numbers = _number_columns(table)
    if numbers and rng.random() < 0.6:
        column = rng.choice(numbers)
        fn, word = rng.choice([("AVG", "average"), ("SUM", "total"), ("MAX", "highest"), ("MIN", "lowest")])
        return (rng.choice([f"what is the {word} {_phrase(column)} of the {_phrase(table)}",
                            f"{word} {_phrase(column)} across all {_phrase(table)}"]),
                f"SELECT {fn}({column['name']}) FROM {table['name']}")
    if (_text_columns(table) or numbers) and rng.random() < 0.5:
        words, condition = _condition(rng, table)
        return (rng.choice([f"how many {_phrase(table)} are there {words}", f"count the {_phrase(table)} {words}"]),
                f"SELECT COUNT(*) FROM {table['name']} WHERE {condition}")
    return (rng.choice([f"how many {_phrase(table)} are there", f"count all {_phrase(table)}",
                        f"number of {_phrase(table)}"]), f"SELECT COUNT(*) FROM {table['name']}")


def _links(task):
    by_name = {t["name"]: t for t in task["tables"]}
    return [(child, column, by_name[column["references"].split(".")[0]])
            for child in task["tables"] for column in child["columns"] if column.get("references")]


def q_join(rng, task):
    child, fk, parent = rng.choice(_links(task))
    parent_text = _text_columns(parent)
    child_cols = _number_columns(child) + _text_columns(child)
    if not parent_text or not child_cols:
        return q_filter(rng, task)
    filter_col, shown = rng.choice(parent_text), rng.choice(child_cols)
    value = rng.choice(filter_col["values"])
    question = rng.choice([f"the {_phrase(shown)} of {_phrase(child)} from {_phrase(parent)} whose {_phrase(filter_col)} is {value}",
                           f"{_phrase(child)} {_phrase(shown)} for {_phrase(parent)} with {_phrase(filter_col)} {value}"])
    ref_col = fk["references"].split(".")[1]
    sql = (f"SELECT {child['name']}.{shown['name']} FROM {child['name']} JOIN {parent['name']} "
           f"ON {child['name']}.{fk['name']} = {parent['name']}.{ref_col} "
           f"WHERE {parent['name']}.{filter_col['name']} = {_literal(value)}")
    return question, sql


def q_group_by(rng, task):
    table = rng.choice([t for t in task["tables"] if _text_columns(t)])
    group = rng.choice(_text_columns(table))
    numbers = _number_columns(table)
    if numbers and rng.random() < 0.5:
        column = rng.choice(numbers)
        fn, word = rng.choice([("SUM", "total"), ("AVG", "average")])
        return (rng.choice([f"{word} {_phrase(column)} per {_phrase(group)}", f"{word} {_phrase(column)} of {_phrase(table)} by {_phrase(group)}"]),
                f"SELECT {group['name']}, {fn}({column['name']}) FROM {table['name']} GROUP BY {group['name']}")
    return (rng.choice([f"how many {_phrase(table)} per {_phrase(group)}", f"number of {_phrase(table)} for each {_phrase(group)}"]),
            f"SELECT {group['name']}, COUNT(*) FROM {table['name']} GROUP BY {group['name']}")


def q_order_limit(rng, task):
    table = rng.choice([t for t in task["tables"] if _number_columns(t)])
    column = rng.choice(_number_columns(table))
    k = rng.randint(2, 10)
    if rng.random() < 0.5:
        return (rng.choice([f"top {k} {_phrase(table)} by {_phrase(column)}", f"the {k} {_phrase(table)} with the highest {_phrase(column)}"]),
                f"SELECT * FROM {table['name']} ORDER BY {column['name']} DESC LIMIT {k}")
    return (rng.choice([f"the {k} {_phrase(table)} with the lowest {_phrase(column)}", f"bottom {k} {_phrase(table)} by {_phrase(column)}"]),
            f"SELECT * FROM {table['name']} ORDER BY {column['name']} ASC LIMIT {k}")


KINDS = {"select": q_select, "filter": q_filter, "aggregate": q_aggregate, "join": q_join,
         "group_by": q_group_by, "order_limit": q_order_limit}


def plan(kind, task, seed, temperature, sample, item):
    rng = _rng("sql", seed, kind, sample, item)
    question, sql = KINDS[kind](rng, task)
    question = _noisy(rng, rng.choice(OPENERS) + question, 0.03 * temperature) + rng.choice(ENDINGS)
    if rng.random() < 0.5:
        question = question[0].upper() + question[1:]
    return {"text": question, "target": {"sql": sql}}


def inputs(request, seed, temperature):
    spec = request["spec"]
    return {"questions": [{"text": plan(spec["kind"], spec["task"], seed, temperature, request["sample"], i)["text"]}
                          for i in range(spec["count"])]}


def replan(origin, seed, temperature):
    return plan(origin["kind"], origin["task"], seed, temperature, origin["sample"], origin["item"])

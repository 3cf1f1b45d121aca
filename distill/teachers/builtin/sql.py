"""Built-in teacher for text-to-SQL: question/query pairs drawn from the schema itself, in the
shapes people ask about a database — listings, filters with one or two conditions, lookups of
one attribute, counts, totals and averages, distinct values, breakdowns per group (with HAVING),
top and bottom N, questions that need a join along the foreign keys (one or two hops), and
"never" / "above average" questions that need a subquery — each worded many ways and written in
the registers of voice.py. Values come from each column's declared values, from its range, or
(for text columns people name things in) from outside the Recipe's lists.

Every query follows one canonical style, the one the field sets' conventions describe: SELECT *
for "which/list/show", the asked attributes in the order asked, COUNT(*), GROUP BY the group
column first, ORDER BY ... LIMIT for top/bottom N, JOIN ... ON child.key = parent.id, keywords in
capitals, text values in the database's spelling.
"""
from . import plan_rng as _rng
from .lexicon import CITIES, FIRST_NAMES, LAST_NAMES
from .voice import dress, join

VERSION = 6  # 6: no measure of the group column, no column an equality fixes, superlatives that name their column
# 5: "which X is the most ..." selects *, rows through a link table by number, groups per parent, min and max
# 4: lookups by key, rows by a parent's number, columns with conditions, NOT IN, "or more", group measures

OPENERS = ["", "", "", "", "show me ", "list ", "can you find ", "I need ", "give me ", "please show ", "get ",
           "find ", "pull up ", "quick q: ", "for the report: ", "I'd like to see ", "could you list "]
FILLERS = ["", "", "", "", " please", " thanks", " asap", " for me", " in the database", " right now"]
COMPARE = {  # operator -> ways to say it before a number
    ">": ["more than", "over", "above", "greater than", "higher than", "bigger than", "exceeding"],
    "<": ["less than", "under", "below", "lower than", "smaller than"],
    ">=": ["at least", "or more than", "no less than", "a minimum of"],
    "<=": ["at most", "no more than", "up to", "a maximum of"],
    "=": ["exactly", "equal to", "of"],
}
YEAR_COMPARE = {">=": ["since", "in or after"], ">": ["after"], "<": ["before", "prior to"], "=": ["in", "from", "during"]}
AFTER_NUMBER = {">=": [" or more", " or above", " and up", " or higher"], "<=": [" or less", " or below", " or fewer"]}
YEAR_AFTER = {">=": [" or later", " onwards", " or after"], "<=": [" or earlier", " or before"]}
SUPERLATIVE = {("DESC", "money"): ["most expensive", "priciest", "biggest", "largest", "highest"],
               ("ASC", "money"): ["cheapest", "smallest", "lowest"],
               ("DESC", "count"): ["most", "highest", "largest"], ("ASC", "count"): ["fewest", "lowest", "smallest"],
               ("DESC", "year"): ["most recent", "newest", "latest"], ("ASC", "year"): ["oldest", "earliest"],
               ("DESC", "number"): ["highest", "largest", "top"], ("ASC", "number"): ["lowest", "smallest", "bottom"]}
AGG_WORDS = {"SUM": ["total", "sum of the", "combined", "sum of", "overall"], "AVG": ["average", "mean", "typical", "avg"],
             "MAX": ["highest", "largest", "maximum", "biggest", "max"], "MIN": ["lowest", "smallest", "minimum", "min"]}
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 10: "ten"}
ASKING = {"which", "what", "what's", "how", "list", "show", "find", "all", "every", "count", "number", "tell", "where"}


# ---------------------------------------------------------------- the schema, read for wording


class Schema:
    def __init__(self, task):
        self.tables = task["tables"]
        self.by_name = {t["name"]: t for t in self.tables}

    def phrase(self, thing, rng=None) -> str:
        names = [thing.get("phrase", thing["name"].replace("_", " "))] + thing.get("synonyms", [])
        return rng.choice(names) if rng and len(names) > 1 and rng.random() < 0.35 else names[0]

    def singular(self, table) -> str:
        return table.get("singular", self.phrase(table).rstrip("s"))

    def texts(self, table):
        return [c for c in table["columns"] if c.get("values")]

    def numbers(self, table):
        return [c for c in self.attributes(table) if c["type"] in ("integer", "number")]

    def attributes(self, table):
        """The columns a question asks to see: neither the key nor a foreign key."""
        return [c for c in table["columns"] if not c.get("key") and not c.get("references")]

    def label(self, table):
        """The column people name a row by (a "name" or "title" text column)."""
        return next((c for c in table["columns"] if c["name"] in ("name", "title", "label") and c.get("values")), None)

    def links(self):
        """(child, foreign key column, parent, parent key) for every foreign key."""
        out = []
        for child in self.tables:
            for column in child["columns"]:
                if column.get("references"):
                    parent, key = column["references"].split(".")
                    out.append((child, column, self.by_name[parent], key))
        return out


def plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def kind_of(column) -> str:
    name = column["name"]
    if "year" in name:
        return "year"
    if name in ("price", "total", "amount", "cost", "revenue", "balance", "salary", "value"):
        return "money"
    if name in ("stock", "quantity", "count", "seats", "units"):
        return "count"
    return "number"


def literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'" if isinstance(value, str) else str(value)


class Words:
    """A question being written: plain words and values (values are never misspelt by voice.py)."""

    def __init__(self):
        self.segments = []

    def say(self, *parts):
        for part in parts:
            if isinstance(part, Value):
                self.segments.append((part.text, "VALUE"))
            elif part:
                self.segments.append((part, None))
        return self


class Value:
    def __init__(self, text):
        self.text = str(text)


def text_value(rng, column, fresh_share=0.25):
    """A declared value, or now and then one the Recipe never listed (the student must copy it)."""
    if rng.random() < fresh_share:
        if column["name"] in ("city", "town"):
            return rng.choice(CITIES)
        if _people(column):
            return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return rng.choice(column["values"])


def _people(column) -> bool:
    """A column of people's names: its declared values look like "Maya Okafor"."""
    values = column.get("values", [])
    return bool(values) and all(len(v.split()) >= 2 and all(w[:1].isupper() for w in v.split()) for v in values)


def number_value(rng, column) -> int:
    lo, hi = column.get("minimum", 1), column.get("maximum", 1000)
    value = rng.randint(int(lo), int(hi))
    if kind_of(column) == "money" and rng.random() < 0.6:
        value = max(int(lo), round(value, -1 if value < 200 else -2))
    return value


def say_number(rng, column, value) -> str:
    if kind_of(column) == "money" and rng.random() < 0.5:
        return f"${value}"
    return str(value)


def condition(rng, schema, table, qualify=False) -> tuple[list, str]:
    """One condition on a table's column, as (words, SQL)."""
    prefix = f"{table['name']}." if qualify else ""
    texts, numbers = schema.texts(table), schema.numbers(table)
    refs = [c for c in table["columns"] if c.get("references")]
    if refs and not qualify and rng.random() < 0.12:  # "in order 41": the rows of one parent, by its number
        column = rng.choice(refs)
        parent = schema.by_name[column["references"].split(".")[0]]
        n = rng.randint(1, 60)
        words = rng.choice([["in ", schema.singular(parent), " ", Value(n)], ["for ", schema.singular(parent), " ", Value(n)],
                            ["of ", schema.singular(parent), " #", Value(n)], ["from ", schema.singular(parent), " id ", Value(n)]])
        return words, f"{prefix}{column['name']} = {n}"
    if texts and (not numbers or rng.random() < 0.55):
        column = rng.choice(texts)
        value = text_value(rng, column)
        phrase = schema.phrase(column, rng)
        roll = rng.random()
        if roll < 0.12 and len(column["values"]) > 2:
            other = rng.choice([v for v in column["values"] if v != value])
            words = rng.choice([["with ", phrase, " ", Value(value), " or ", Value(other)],
                                ["that are ", Value(value), " or ", Value(other)]])
            return words, f"{prefix}{column['name']} IN ({literal(value)}, {literal(other)})"
        if roll < 0.17 and len(column["values"]) > 2:
            other = rng.choice([v for v in column["values"] if v != value])
            words = rng.choice([["neither ", Value(value), " nor ", Value(other)], ["not ", Value(value), " or ", Value(other)],
                                ["excluding ", Value(value), " and ", Value(other)]])
            return words, f"{prefix}{column['name']} NOT IN ({literal(value)}, {literal(other)})"
        if roll < 0.27:
            words = rng.choice([["not ", Value(value)], ["whose ", phrase, " is not ", Value(value)],
                                ["except the ", Value(value), " ones"], ["other than ", Value(value)],
                                ["that aren't ", Value(value)], ["excluding ", Value(value)],
                                ["outside ", Value(value)] if column["name"] in ("city", "country") else ["not ", Value(value)]])
            return words, f"{prefix}{column['name']} != {literal(value)}"
        words = rng.choice([["whose ", phrase, " is ", Value(value)], ["with ", phrase, " ", Value(value)],
                            ["where the ", phrase, " is ", Value(value)], ["in ", Value(value)] if column["name"] in
                            ("city", "country", "category") else ["that are ", Value(value)], [Value(value)]])
        return words, f"{prefix}{column['name']} = {literal(value)}"
    column = rng.choice(numbers)
    phrase, kind = schema.phrase(column, rng), kind_of(column)
    value = number_value(rng, column)
    if rng.random() < 0.15:
        high = min(int(column.get("maximum", value + 10)), value + rng.randint(1, 5 if kind == "year" else 200))
        low = min(value, high)
        return ([phrase, " between ", Value(say_number(rng, column, low)), " and ", Value(say_number(rng, column, high))],
                f"{prefix}{column['name']} BETWEEN {low} AND {high}")
    if rng.random() < 0.15:
        op = rng.choice([">=", "<="])
        after = rng.choice((YEAR_AFTER if kind == "year" else AFTER_NUMBER)[op])
        lead = rng.choice([["in "], ["from "]]) if kind == "year" else [phrase, " of "]
        return lead + [Value(say_number(rng, column, value)), after], f"{prefix}{column['name']} {op} {value}"
    if kind == "year":
        op = rng.choice(list(YEAR_COMPARE))
        return ([rng.choice(YEAR_COMPARE[op]), " ", Value(value)] if rng.random() < 0.7 else
                ["with ", phrase, " ", rng.choice(YEAR_COMPARE[op]), " ", Value(value)]), f"{prefix}{column['name']} {op} {value}"
    op = rng.choice([">", ">", "<", "<", ">=", "<="])
    comparison = rng.choice(COMPARE[op])
    amount = Value(say_number(rng, column, value))
    words = rng.choice([["with ", phrase, " ", comparison, " ", amount], ["where ", phrase, " is ", comparison, " ", amount],
                        [phrase, " ", comparison, " ", amount]])
    return words, f"{prefix}{column['name']} {op} {value}"


def conditions(rng, schema, table, qualify=False) -> tuple[list, str]:
    words, sql = condition(rng, schema, table, qualify)
    if rng.random() < 0.3:
        more_words, more_sql = condition(rng, schema, table, qualify)
        if more_sql.split()[0] != sql.split()[0]:
            return words + [rng.choice([" and ", " and also ", ", "])] + more_words, f"{sql} AND {more_sql}"
    return words, sql


# ---------------------------------------------------------------- the shapes


def q_list(rng, schema):
    table = rng.choice(schema.tables)
    if rng.random() < 0.4:
        return [rng.choice(["all ", "every ", "list all ", "show all the ", ""]), schema.phrase(table, rng)], \
            f"SELECT * FROM {table['name']}"
    cols = schema.attributes(table)
    picked = rng.sample(cols, min(len(cols), rng.choice([1, 1, 2, 2, 3])))
    names = [schema.phrase(c, rng) for c in picked]
    listing = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    columns = ", ".join(c["name"] for c in picked)
    if (schema.texts(table) or schema.numbers(table)) and rng.random() < 0.4:
        cond_words, cond = conditions(rng, schema, table)
        if fixes(cond, picked):  # "the categories of kitchen products" asks for the products
            return _rows_where(rng, schema, table, cond_words, cond)
        words = rng.choice([[listing, " of ", schema.phrase(table, rng), " "], ["the ", listing, " of all ", schema.phrase(table), " "],
                            [schema.phrase(table, rng), " ", listing, " "]])
        return words + cond_words, f"SELECT {columns} FROM {table['name']} WHERE {cond}"
    words = rng.choice([["the ", listing, " of every ", schema.singular(table)], [listing, " for all ", schema.phrase(table)],
                        ["what are the ", listing, " of the ", schema.phrase(table)], [schema.phrase(table), " ", listing]])
    return words, f"SELECT {columns} FROM {table['name']}"


def fixes(cond: str, columns, prefix="") -> bool:
    """Whether a condition sets one of these columns to a single value (selecting it tells nothing)."""
    return any(f"{prefix}{c['name']} = " in cond for c in columns)


def _rows_where(rng, schema, table, cond_words, cond):
    noun = schema.phrase(table, rng)
    words = rng.choice([["which ", noun, " are "], ["", noun, " "], ["find the ", noun, " "], ["all ", noun, " "],
                        ["list ", noun, " "]]) + cond_words
    return words, f"SELECT * FROM {table['name']} WHERE {cond}"


def q_filter(rng, schema):
    table = rng.choice([t for t in schema.tables if schema.texts(t) or schema.numbers(t)])
    cond_words, cond = conditions(rng, schema, table)
    return _rows_where(rng, schema, table, cond_words, cond)


def q_lookup(rng, schema):
    keyed = [t for t in schema.tables if any(c.get("key") for c in t["columns"])]
    if keyed and rng.random() < 0.35:
        return _lookup_by_key(rng, schema, rng.choice(keyed))
    table = rng.choice([t for t in schema.tables if schema.label(t)])
    label = schema.label(table)
    shown = rng.choice([c for c in schema.attributes(table) if c is not label])
    who = Value(text_value(rng, label, 0.15))
    phrase = schema.phrase(shown, rng)
    words = rng.choice([["what is the ", phrase, " of ", who], ["what ", phrase, " is ", who], [who, " ", phrase],
                        ["which ", phrase, " does ", who, " have"], ["", phrase, " for ", who],
                        ["tell me the ", phrase, " of the ", schema.singular(table), " ", who]])
    if shown["name"] == "city" and rng.random() < 0.5:
        words = rng.choice([["which city is ", who, " from"], ["where does ", who, " live"]])
    return words, f"SELECT {shown['name']} FROM {table['name']} WHERE {label['name']} = {literal(who.text)}"


def _lookup_by_key(rng, schema, table):
    """"whats the status of order 23": one row by its number."""
    key = next(c for c in table["columns"] if c.get("key"))
    shown = schema.attributes(table)
    picked = rng.sample(shown, min(len(shown), rng.choice([1, 1, 1, 2]))) if shown else [key]
    n = rng.randint(1, 60)
    noun = schema.singular(table)
    listing = " and ".join(schema.phrase(c, rng) for c in picked)
    words = rng.choice([["what's the ", listing, " of ", noun, " ", Value(n)], [noun, " ", Value(n), " ", listing],
                        [listing, " for ", noun, " #", Value(n)], ["what is the ", listing, " on ", noun, " ", Value(n)]])
    if rng.random() < 0.2:
        return [noun, " ", Value(n)], f"SELECT * FROM {table['name']} WHERE {key['name']} = {n}"
    return words, f"SELECT {', '.join(c['name'] for c in picked)} FROM {table['name']} WHERE {key['name']} = {n}"


def q_count(rng, schema):
    table = rng.choice(schema.tables)
    noun = schema.phrase(table, rng)
    if rng.random() < 0.3 or not (schema.texts(table) or schema.numbers(table)):
        return rng.choice([["how many ", noun, " are there"], ["number of ", noun], ["count all ", noun],
                           ["how many ", noun, " do we have"], ["total number of ", noun]]), \
            f"SELECT COUNT(*) FROM {table['name']}"
    cond_words, cond = conditions(rng, schema, table)
    words = rng.choice([["how many ", noun, " are "], ["count the ", noun, " "], ["number of ", noun, " "],
                        ["how many ", noun, " "]]) + cond_words
    return words, f"SELECT COUNT(*) FROM {table['name']} WHERE {cond}"


def q_aggregate(rng, schema):
    table = rng.choice([t for t in schema.tables if schema.numbers(t)])
    column = rng.choice(schema.numbers(table))
    fn = rng.choice(["MAX", "MIN"] if kind_of(column) == "year" else ["SUM", "AVG", "MAX", "MIN"])
    words = [rng.choice(AGG_WORDS[fn]), " ", schema.phrase(column, rng)]
    tail = rng.choice([[" of all ", schema.phrase(table)], [" across ", schema.phrase(table)], [""], [" of the ", schema.phrase(table)]])
    if rng.random() < 0.15:  # "price range: min and max"
        phrase = schema.phrase(column, rng)
        words = rng.choice([["min and max ", phrase], ["lowest and highest ", phrase], [phrase, " range, min and max"],
                            ["smallest and largest ", phrase]])
        fn = f"MIN({column['name']}), MAX"
    if (schema.texts(table) or len(schema.numbers(table)) > 1) and rng.random() < 0.5:
        cond_words, cond = conditions(rng, schema, table)
        return words + [" of ", schema.phrase(table), " "] + cond_words, f"SELECT {fn}({column['name']}) FROM {table['name']} WHERE {cond}"
    return rng.choice([["what is the "], [""], ["what's the "]]) + words + tail, f"SELECT {fn}({column['name']}) FROM {table['name']}"


def q_distinct(rng, schema):
    table = rng.choice([t for t in schema.tables if schema.texts(t)])
    column = rng.choice(schema.texts(table))
    phrase = schema.phrase(column, rng)
    if rng.random() < 0.4:
        words = rng.choice([["how many different ", plural(phrase), " are there"],
                            ["number of distinct ", plural(phrase), " among ", schema.phrase(table)],
                            ["how many unique ", plural(phrase)]])
        return words, f"SELECT COUNT(DISTINCT {column['name']}) FROM {table['name']}"
    return rng.choice([["which ", plural(phrase), " do we have"], ["list the different ", plural(phrase)],
                       ["all distinct ", plural(phrase)], ["what ", plural(phrase), " are there among the ", schema.phrase(table)],
                       ["unique ", phrase, " values"]]), \
        f"SELECT DISTINCT {column['name']} FROM {table['name']}"


def q_group_by(rng, schema):
    if schema.links() and rng.random() < 0.25:
        return _group_by_parent(rng, schema)
    table = rng.choice([t for t in schema.tables if schema.texts(t)])
    years = [c for c in schema.numbers(table) if kind_of(c) == "year"]
    group = rng.choice([c for c in schema.texts(table) if c is not schema.label(table)] or schema.texts(table))
    if years and rng.random() < 0.2:
        group = rng.choice(years)
    gphrase, noun = schema.phrase(group, rng), schema.phrase(table, rng)
    numbers = [c for c in schema.numbers(table) if c is not group]  # each group holds one value of its own column
    roll = rng.random()
    if roll < 0.2:
        n = rng.randint(2, 12)
        return rng.choice([["which ", plural(gphrase), " have more than ", Value(n), " ", noun],
                           [plural(gphrase), " with over ", Value(n), " ", noun]]), \
            f"SELECT {group['name']} FROM {table['name']} GROUP BY {group['name']} HAVING COUNT(*) > {n}"
    if roll < 0.35:
        direction = rng.choice(["DESC", "ASC"])
        word = "the most" if direction == "DESC" else "the fewest"
        words = rng.choice([[f"which {gphrase} has {word} ", noun],
                            [f"the {'most' if direction == 'DESC' else 'least'} common ", gphrase, " among ", noun],
                            [f"which {gphrase} comes up {'most' if direction == 'DESC' else 'least'} often"]])
        return words, \
            f"SELECT {group['name']} FROM {table['name']} GROUP BY {group['name']} ORDER BY COUNT(*) {direction} LIMIT 1"
    if numbers and roll < 0.45:
        return _group_measure(rng, schema, table, group, gphrase, numbers)
    if numbers and roll < 0.7:
        column, fn = rng.choice(numbers), rng.choice(["SUM", "AVG", "SUM", "MAX", "MIN"])
        words = [rng.choice(AGG_WORDS[fn]), " ", schema.phrase(column, rng),
                 rng.choice([" per ", " by ", " for each ", " for every ", " in each "]), gphrase]
        return words, f"SELECT {group['name']}, {fn}({column['name']}) FROM {table['name']} GROUP BY {group['name']}"
    words = rng.choice([["how many ", noun, " per ", gphrase], ["number of ", noun, " for each ", gphrase],
                        ["count of ", noun, " by ", gphrase], [noun, " per ", gphrase], [gphrase, " counts"],
                        ["breakdown of ", noun, " by ", gphrase]])
    if rng.random() < 0.3:
        cond_words, cond = condition(rng, schema, table)
        if not cond.startswith(group["name"] + " "):
            return words + [" "] + cond_words, \
                f"SELECT {group['name']}, COUNT(*) FROM {table['name']} WHERE {cond} GROUP BY {group['name']}"
    return words, f"SELECT {group['name']}, COUNT(*) FROM {table['name']} GROUP BY {group['name']}"


def _group_by_parent(rng, schema):
    """A child table's rows per parent, by the foreign key: "how many lines does each order have",
    "total spend per customer id", "top 3 customer ids by spend"."""
    child, fk, parent, _ = rng.choice(schema.links())
    noun, one = schema.phrase(child, rng), schema.singular(parent)
    each = rng.choice([["each ", one], ["every ", one], ["each ", schema.phrase(fk)], ["per ", one]])
    numbers = [c for c in schema.numbers(child) if kind_of(c) != "year"]  # nobody sums years
    if not numbers or rng.random() < 0.35:
        words = rng.choice([["how many ", noun, " does each ", one, " have"],
                            ["number of ", noun, " "] + each, ["count of ", noun, " "] + each])
        return words, f"SELECT {fk['name']}, COUNT(*) FROM {child['name']} GROUP BY {fk['name']}"
    column, fn = rng.choice(numbers), rng.choice(["SUM", "SUM", "AVG", "MAX"])
    measure = [rng.choice(AGG_WORDS[fn]), " ", schema.phrase(column, rng)]
    if rng.random() < 0.35:
        direction, k = rng.choice(["DESC", "ASC"]), rng.choice([1, 3, 5])
        top = ("top " if direction == "DESC" else "bottom ") + (f"{k} " if k > 1 else "")
        ids = plural(schema.phrase(fk)) if k > 1 else schema.phrase(fk)
        shown = rng.random() < 0.5
        words = [top, ids, " by "] + measure + ([rng.choice([", with the ", " and their ", " with the "])] + measure
                                                if shown else [])
        select = f"{fk['name']}, {fn}({column['name']})" if shown else fk["name"]
        return words, (f"SELECT {select} FROM {child['name']} GROUP BY {fk['name']} "
                       f"ORDER BY {fn}({column['name']}) {direction} LIMIT {k}")
    return measure + [" "] + each, f"SELECT {fk['name']}, {fn}({column['name']}) FROM {child['name']} GROUP BY {fk['name']}"


def _group_measure(rng, schema, table, group, gphrase, numbers):
    """Groups ranked or filtered by a measure: "top 2 categories by average price", "categories
    with an average price above 150"."""
    column, fn = rng.choice(numbers), rng.choice(["SUM", "AVG", "MAX", "MIN"])
    measure = [rng.choice(AGG_WORDS[fn]), " ", schema.phrase(column, rng)]
    if rng.random() < 0.5:
        direction = rng.choice(["DESC", "ASC"])
        k = rng.choice([1, 2, 3, 5])
        top = ("top " if direction == "DESC" else "bottom ") + (str(k) + " " if k > 1 else "")
        words = [top, plural(gphrase) if k > 1 else gphrase, " by "] + measure
        return words, (f"SELECT {group['name']} FROM {table['name']} GROUP BY {group['name']} "
                       f"ORDER BY {fn}({column['name']}) {direction} LIMIT {k}")
    op = rng.choice([">", "<"])
    value = number_value(rng, column)
    words = [plural(gphrase), " with ", rng.choice(["an ", "a "]) if fn == "AVG" else "a ", *measure, " ",
             rng.choice(COMPARE[op]), " ", Value(say_number(rng, column, value))]
    return words, f"SELECT {group['name']} FROM {table['name']} GROUP BY {group['name']} HAVING {fn}({column['name']}) {op} {value}"


def q_order_limit(rng, schema):
    table = rng.choice([t for t in schema.tables if schema.numbers(t)])
    column = rng.choice(schema.numbers(table))
    direction = rng.choice(["DESC", "ASC"])
    k = rng.choice([1, 1, 2, 3, 3, 5, 5, 10, rng.randint(2, 20)])
    superlative = rng.choice(SUPERLATIVE[(direction, kind_of(column))])
    # "the 3 smallest products" could be price or stock: such a superlative names its column
    ambiguous = any(superlative in SUPERLATIVE[(direction, kind_of(c))] for c in schema.numbers(table) if c is not column)
    most = "highest" if direction == "DESC" else "lowest"
    named = [" with the ", most, " ", schema.phrase(column, rng)]
    noun = schema.phrase(table, rng)
    count = Value(NUMBER_WORDS[k] if k in NUMBER_WORDS and rng.random() < 0.3 else k)
    label = schema.label(table)
    where, cond_sql = [], ""
    if rng.random() < 0.25 and schema.texts(table):
        where, cond = condition(rng, schema, table)
        where, cond_sql = [" "] + where, f" WHERE {cond}"
    if k == 1 and (ambiguous or rng.random() < 0.6):  # "which X ..." asks for the row; "the name of ..." for one column
        options = [["which ", schema.singular(table), " has the ", most, " ", schema.phrase(column, rng)],
                   ["the ", schema.singular(table)] + named]
        words = rng.choice(options if ambiguous else options + [["which ", schema.singular(table), " is the ", superlative]])
        if label and rng.random() < 0.3 and not fixes(cond_sql, [label]):
            one = [superlative, " ", schema.singular(table)] if not ambiguous else [schema.singular(table)] + named
            return ["the ", schema.phrase(label), " of the "] + one + where, \
                f"SELECT {label['name']} FROM {table['name']}{cond_sql} ORDER BY {column['name']} {direction} LIMIT 1"
        return words + where, f"SELECT * FROM {table['name']}{cond_sql} ORDER BY {column['name']} {direction} LIMIT 1"
    if k == 1:
        return ["the ", superlative, " ", schema.singular(table)] + where, \
            f"SELECT * FROM {table['name']}{cond_sql} ORDER BY {column['name']} {direction} LIMIT 1"
    shown = schema.attributes(table)
    picked = rng.sample(shown, min(len(shown), rng.choice([1, 2]))) if shown else []
    if picked and rng.random() < 0.25 and not fixes(cond_sql, picked):  # "names and prices of the 3 cheapest products"
        listing = " and ".join(plural(schema.phrase(c, rng)) for c in picked)
        ranked = [noun] + named if ambiguous else [superlative, " ", noun]
        return [listing, " of the ", count, " "] + ranked + where, \
            (f"SELECT {', '.join(c['name'] for c in picked)} FROM {table['name']}{cond_sql} "
             f"ORDER BY {column['name']} {direction} LIMIT {k}")
    top = "top" if direction == "DESC" else "bottom"
    options = [[top, " ", count, " ", noun, " by ", schema.phrase(column, rng)], [count, " ", noun] + named]
    words = rng.choice(options if ambiguous else options + [["the ", count, " ", superlative, " ", noun]])
    return words + where, f"SELECT * FROM {table['name']}{cond_sql} ORDER BY {column['name']} {direction} LIMIT {k}"


def _join_sql(child, fk, parent, key) -> str:
    return f"JOIN {parent['name']} ON {child['name']}.{fk['name']} = {parent['name']}.{key}"


def q_join(rng, schema):
    """A child table's rows filtered (or counted, summed, broken down) by its parent's columns."""
    options = [link for link in schema.links() if schema.texts(link[2])]
    child, fk, parent, key = rng.choice(options)
    cond_words, cond = condition(rng, schema, parent, qualify=True) if schema.texts(parent) else ([], "")
    join_sql = f"FROM {child['name']} {_join_sql(child, fk, parent, key)}"
    noun, pnoun = schema.phrase(child, rng), schema.phrase(parent, rng)
    roll = rng.random()
    numbers = schema.numbers(child)
    if roll < 0.3:
        return rng.choice([[noun, " from ", pnoun, " "], [noun, " of ", pnoun, " "], ["", noun, " placed by ", pnoun, " "]]) + cond_words, \
            f"SELECT {child['name']}.* {join_sql} WHERE {cond}"
    if roll < 0.4 and (schema.texts(child) or schema.numbers(child)):  # "customers with a delivered order"
        child_words, child_cond = condition(rng, schema, child, qualify=True)
        both = f"{cond} AND {child_cond}" if cond and rng.random() < 0.5 else child_cond
        lead = cond_words + [" "] if both != child_cond else []
        shown = schema.attributes(parent)
        head, words = f"{parent['name']}.*", [pnoun, " "]
        picked = rng.sample(shown, min(len(shown), rng.choice([1, 1, 2]))) if shown else []
        if picked and rng.random() < 0.35 and not fixes(both, picked, f"{parent['name']}."):  # "names of customers who ordered in 2025"
            head = ", ".join(f"{parent['name']}.{c['name']}" for c in picked)
            words = [" and ".join(plural(schema.phrase(c)) for c in picked), " of ", pnoun, " "]
        return words + lead + [rng.choice(["who placed ", "with ", "that have "]), noun, " "] + child_words, \
            f"SELECT {head} FROM {parent['name']} {_join_sql(parent, {'name': key}, child, fk['name'])} WHERE {both}"
    if roll < 0.5:
        return ["how many ", noun, " come from ", pnoun, " "] + cond_words, f"SELECT COUNT(*) {join_sql} WHERE {cond}"
    if numbers and roll < 0.7:
        column, fn = rng.choice(numbers), rng.choice(["SUM", "AVG", "MAX"])
        return [rng.choice(AGG_WORDS[fn]), " ", schema.phrase(column, rng), " of ", noun, " by ", pnoun, " "] + cond_words, \
            f"SELECT {fn}({child['name']}.{column['name']}) {join_sql} WHERE {cond}"
    if numbers and roll < 0.85:
        group = rng.choice(schema.texts(parent))
        column = rng.choice(numbers)
        return [rng.choice(["total ", "sum of "]), schema.phrase(column, rng), " per ", pnoun[:-1] if pnoun.endswith("s") else pnoun, " ",
                schema.phrase(group, rng)], \
            f"SELECT {parent['name']}.{group['name']}, SUM({child['name']}.{column['name']}) {join_sql} GROUP BY {parent['name']}.{group['name']}"
    label = schema.label(parent)
    shown = rng.choice(numbers or schema.texts(child) or [fk])
    measures = [c for c in numbers if kind_of(c) != "year"]
    if measures and rng.random() < 0.3:  # "which city's customers spent the most": groups of parents ranked by a child measure
        group = rng.choice(schema.texts(parent))
        column, direction = rng.choice(measures), rng.choice(["DESC", "ASC"])
        most = "highest" if direction == "DESC" else "lowest"
        words = rng.choice([["which ", schema.phrase(group), " has the ", most, " total ", schema.phrase(column, rng)],
                            ["the ", schema.phrase(group), " whose ", pnoun, " have the ", most, " total ", schema.phrase(column, rng)]])
        return words, (f"SELECT {parent['name']}.{group['name']} {join_sql} GROUP BY {parent['name']}.{group['name']} "
                       f"ORDER BY SUM({child['name']}.{column['name']}) {direction} LIMIT 1")
    if label and rng.random() < 0.4:  # "Ravi Patel's orders", "orders of Liam Chen that aren't delivered"
        who = Value(text_value(rng, label, 0.15))
        words = rng.choice([[who, "'s ", noun], [noun, " of ", who], [noun, " by ", who], ["which ", noun, " did ", who, " have"]])
        where = f"{parent['name']}.{label['name']} = {literal(who.text)}"
        if (schema.texts(child) or numbers) and rng.random() < 0.5:
            child_words, child_cond = condition(rng, schema, child, qualify=True)
            return words + [" "] + child_words, f"SELECT {child['name']}.* {join_sql} WHERE {where} AND {child_cond}"
        return words, f"SELECT {child['name']}.* {join_sql} WHERE {where}"
    if label:
        who = Value(text_value(rng, label, 0.15))
        return [schema.phrase(shown, rng), " of the ", noun, " of ", who], \
            f"SELECT {child['name']}.{shown['name']} {join_sql} WHERE {parent['name']}.{label['name']} = {literal(who.text)}"
    return [noun, " from ", pnoun, " "] + cond_words, f"SELECT {child['name']}.* {join_sql} WHERE {cond}"


def q_two_hops(rng, schema):
    """Through a link table (e.g. orders -> order_items -> products)."""
    links = schema.links()
    hops = [(a, b) for a in links for b in links if a[0] is b[0] and a[2] is not b[2] and schema.label(b[2])]
    if not hops:
        return q_join(rng, schema)
    (link, fk_a, left, key_a), (_, fk_b, right, key_b) = rng.choice(hops)
    label = schema.label(right)
    who = Value(text_value(rng, label, 0.1))
    sql_join = (f"FROM {left['name']} JOIN {link['name']} ON {left['name']}.{key_a} = {link['name']}.{fk_a['name']} "
                f"JOIN {right['name']} ON {link['name']}.{fk_b['name']} = {right['name']}.{key_b}")
    quantity = next((c for c in schema.numbers(link)), None)
    if quantity and rng.random() < 0.4:
        return rng.choice([["how many ", Value(who.text), " were sold"], ["total ", schema.phrase(quantity), " of ", who, " ordered"]]), \
            (f"SELECT SUM({link['name']}.{quantity['name']}) FROM {link['name']} JOIN {right['name']} ON "
             f"{link['name']}.{fk_b['name']} = {right['name']}.{key_b} WHERE {right['name']}.{label['name']} = {literal(who.text)}")
    if rng.random() < 0.35:
        return _through_link(rng, schema, link, fk_a, left, fk_b, right, key_b)
    where = f"WHERE {right['name']}.{label['name']} = {literal(who.text)}"
    if rng.random() < 0.5:
        return ["how many ", schema.phrase(left), " include ", who], f"SELECT COUNT(*) {sql_join} {where}"
    return [schema.phrase(left), " containing ", who], f"SELECT {left['name']}.* {sql_join} {where}"


def _through_link(rng, schema, link, fk_a, left, fk_b, right, key_b):
    """"products in order 19": one side's rows that a link table pairs with a row of the other, by its number."""
    n, one = rng.randint(1, 60), schema.singular(left)
    head, words = f"{right['name']}.*", [schema.phrase(right, rng)]
    shown = schema.attributes(right)
    if shown and rng.random() < 0.4:
        picked = rng.sample(shown, min(len(shown), rng.choice([1, 2])))
        head = ", ".join(f"{right['name']}.{c['name']}" for c in picked)
        words = [" and ".join(plural(schema.phrase(c)) for c in picked), " of the ", schema.phrase(right, rng)]
    words += rng.choice([[" in ", one, " ", Value(n)], [" on ", one, " ", Value(n)], [" included in ", one, " #", Value(n)],
                         [" that are part of ", one, " ", Value(n)], [" from ", one, " number ", Value(n)]])
    if head.endswith(".*") and rng.random() < 0.2:
        words = ["what did ", one, " ", Value(n), " contain"]
    return words, (f"SELECT {head} FROM {right['name']} JOIN {link['name']} ON {right['name']}.{key_b} = "
                   f"{link['name']}.{fk_b['name']} WHERE {link['name']}.{fk_a['name']} = {n}")


def q_subquery(rng, schema):
    """"never" (NOT IN a child's foreign keys) and "above/below average" questions."""
    links = schema.links()
    if links and rng.random() < 0.5:
        child, fk, parent, key = rng.choice(links)
        noun = schema.phrase(parent, rng)
        sub = f"SELECT {fk['name']} FROM {child['name']}"
        if rng.random() < 0.5:
            return rng.choice([["how many ", noun, " have no ", schema.phrase(child)],
                               ["how many ", noun, " never appear in ", schema.phrase(child)]]), \
                f"SELECT COUNT(*) FROM {parent['name']} WHERE {key} NOT IN ({sub})"
        return rng.choice([[noun, " with no ", schema.phrase(child)], [noun, " without any ", schema.phrase(child)]]), \
            f"SELECT * FROM {parent['name']} WHERE {key} NOT IN ({sub})"
    table = rng.choice([t for t in schema.tables if schema.numbers(t)])
    column = rng.choice(schema.numbers(table))
    op, word = rng.choice([(">", "above"), (">", "higher than the"), ("<", "below"), ("<", "less than the")])
    return [schema.phrase(table, rng), " with ", schema.phrase(column, rng), " ", word, " average"], \
        f"SELECT * FROM {table['name']} WHERE {column['name']} {op} (SELECT AVG({column['name']}) FROM {table['name']})"


KINDS = {"select": q_list, "filter": q_filter, "lookup": q_lookup, "count": q_count, "aggregate": q_aggregate,
         "distinct": q_distinct, "group_by": q_group_by, "order_limit": q_order_limit, "join": q_join,
         "join_two": q_two_hops, "subquery": q_subquery}


def plan(kind, task, seed, temperature, sample, item):
    rng = _rng("sql", seed, kind, sample, item)
    words, sql = KINDS[kind](rng, Schema(task))
    first = next((w for w in words if isinstance(w, str) and w.strip()), "")
    opener = "" if first.split()[:1] and first.split()[0].lower() in ASKING else rng.choice(OPENERS)
    question = Words().say(opener, *words, rng.choice(FILLERS))
    segments = [(text, kind) for text, kind in question.segments]
    segments, register = dress(rng, segments, temperature * 0.8, register=rng.choice(
        ["plain", "plain", "plain", "terse", "lower", "lower", "typos", "polite", "context", "texting"]), sign_name=False)
    text, _ = join(segments)
    if register not in ("lower", "texting") and rng.random() < 0.5:
        text = text[:1].upper() + text[1:]
    if rng.random() < 0.4 and text[-1:].isalnum():
        text += "?" if text.lower().startswith(("how", "what", "which", "who", "where")) else rng.choice([".", "?", ""])
    return {"text": text, "target": {"sql": sql}}


def inputs(request, seed, temperature):
    spec = request["spec"]
    return {"questions": [{"text": plan(spec["kind"], spec["task"], seed, temperature, request["sample"], i)["text"]}
                          for i in range(spec["count"])]}


def replan(origin, seed, temperature):
    return plan(origin["kind"], origin["task"], seed, temperature, origin["sample"], origin["item"])

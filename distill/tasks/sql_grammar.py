"""The SQL a text-to-SQL Spirit may write: a grammar of the supported query shapes, checked on
every prefix while decoding, so no input can produce something that is not SQL.

    query    := SELECT [DISTINCT] items FROM table join* [WHERE cond]
                [GROUP BY column (, column)* [HAVING cond]] [ORDER BY order (, order)*] [LIMIT number]
    items    := * | item (, item)*          item := table.* | aggregate | column
    join     := JOIN table ON column = column
    cond     := term ((AND | OR) term)*     term := [NOT] ( cond ) | predicate
    predicate:= operand (op value | [NOT] IN ( values | subquery ) | [NOT] BETWEEN value AND value
                | [NOT] LIKE string | IS [NOT] NULL)
    operand  := column | aggregate          aggregate := COUNT|SUM|AVG|MIN|MAX ( [DISTINCT] column | * )
    value    := number | string | column | ( subquery )
    subquery := SELECT [DISTINCT] (column | aggregate) FROM table join* [WHERE cond]
    order    := (column | aggregate) [ASC | DESC]

Names come from the schema only (a column as `name` or `table.name`). A quoted literal must be
found in the question (case aside), written as there or as one of the column's declared values
("toronto" in the question may be written 'Toronto'); a LIKE pattern's text likewise. A value
declared for other columns only is never compared with a column ('silver' is a tier, not a
city), and an IN list names each value once. A number
must be in the question (as digits or a number word) unless it is 0 or 1. A finished query must
also prepare in SQLite against the schema (every column in scope, none ambiguous).
"""
import functools
import re

KEYWORDS = {"SELECT", "DISTINCT", "FROM", "JOIN", "ON", "WHERE", "AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "IS",
            "NULL", "GROUP", "BY", "HAVING", "ORDER", "ASC", "DESC", "LIMIT"}
AGGREGATES = {"COUNT", "SUM", "AVG", "MIN", "MAX"}
OPERATORS = ("<=", ">=", "<>", "!=", "=", "<", ">")
NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
                "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100, "dozen": 12, "a thousand": 1000}
TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*'?)|(\d+(?:\.\d*)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|<>|!=|[=<>(),.*])|(\S))")


class Invalid(Exception):
    """The text cannot be extended into a query of the grammar."""


class Incomplete(Exception):
    """The text ended where the grammar wants more: valid so far."""


def lex(text: str) -> tuple[list[tuple[str, str]], bool]:
    """(kind, text) tokens and whether the last one may still grow (no space or delimiter after it)."""
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            break
        string, number, word, symbol, other = match.groups()
        if other:
            raise Invalid(f"unexpected {other!r}")
        if string is not None:
            tokens.append(("string", string))
        elif number is not None:
            tokens.append(("number", number))
        elif word is not None:
            tokens.append(("word", word))
        elif symbol is not None:
            tokens.append(("symbol", symbol))
        pos = match.end()
    trailing_space = text[-1:].isspace() if text else True
    growing = bool(tokens) and not trailing_space and tokens[-1][0] in ("word", "number", "string") or \
        (bool(tokens) and not trailing_space and tokens[-1][1] in ("<", ">", "!"))
    return tokens, growing


class Schema:
    """Names a query may use, and the literals and numbers one question allows."""

    def __init__(self, task: dict):
        self.tables = {t["name"]: [c["name"] for c in t["columns"]] for t in task["tables"]}
        self.columns = {c for cols in self.tables.values() for c in cols}
        # by column name, the values of every table's column of that name (customers.name, products.name)
        self.declared: dict[str, list[str]] = {}
        for table in task["tables"]:
            for c in table["columns"]:
                self.declared.setdefault(c["name"], []).extend(str(v) for v in c.get("values", []))
        # a declared value (lower case) -> the columns that declare it, read on every prefix while decoding
        self.owners: dict[str, set[str]] = {}
        for column, values in self.declared.items():
            for v in values:
                self.owners.setdefault(v.lower(), set()).add(column)
        self._asked: dict[tuple, list[str]] = {}

    def literals(self, column: str | None, question: str) -> list[str]:
        """The declared values (of `column`, or of any column) that the lower-cased question names;
        remembered per question, since decoding asks on every prefix."""
        key = (column, question)
        if key not in self._asked:
            if len(self._asked) > 4096:
                self._asked.clear()
            declared = self.declared.get(column, []) if column else [v for values in self.declared.values() for v in values]
            self._asked[key] = [v for v in declared if v.lower() in question]
        return self._asked[key]


@functools.lru_cache(maxsize=64)  # asked on every prefix decoding checks, for the same few questions
def allowed_numbers(question: str) -> frozenset[str]:
    found = set(re.findall(r"\d+(?:\.\d+)?", question)) | {"0", "1"}
    lowered = f" {question.lower()} "
    for word, value in NUMBER_WORDS.items():
        if re.search(rf"\b{word}\b", lowered):
            found.add(str(value))
    return frozenset(found)


class Parser:
    """Recursive descent over one prefix. Raises Incomplete at the end of a viable prefix,
    Invalid at the first token that cannot be there; returns when the query is whole."""

    def __init__(self, schema: Schema, question: str, tokens, growing: bool):
        self.schema, self.tokens, self.growing, self.i = schema, tokens, growing, 0
        self.question = question.lower()
        self.numbers = allowed_numbers(question)

    # ------------------------------------------------------------ the token stream

    def _peek(self):
        if self.i >= len(self.tokens):
            raise Incomplete
        return self.tokens[self.i]

    def _is_last_growing(self) -> bool:
        return self.growing and self.i == len(self.tokens) - 1

    def _take(self):
        token = self._peek()
        self.i += 1
        return token

    def keyword(self, *names: str) -> str:
        """Keywords are written in capitals (the schema's names are lower case: no ambiguity)."""
        kind, text = self._peek()
        upper = text
        if kind == "word" and upper in names:
            self.i += 1
            if self._was_growing_prefix(upper, names):
                raise Incomplete
            return upper
        if kind == "word" and self._is_last_growing() and any(n.startswith(upper) for n in names):
            raise Incomplete
        raise Invalid(f"expected {' or '.join(names)}, got {text!r}")

    def _was_growing_prefix(self, upper: str, names) -> bool:
        """A last word that is a whole keyword but could still grow into another (e.g. "IN" -> "INNER")."""
        return self.growing and self.i == len(self.tokens) and any(n != upper and n.startswith(upper) for n in names)

    def at_keyword(self, *names: str) -> bool:
        """Whether the next token is (or, last and growing, may become) one of these keywords."""
        if self.i >= len(self.tokens):
            return False
        kind, text = self.tokens[self.i]
        if kind != "word":
            return False
        return text in names or (self._is_last_growing() and any(n.startswith(text) for n in names))

    def symbol(self, *symbols: str) -> str:
        kind, text = self._peek()
        if kind == "symbol" and text in symbols:
            self.i += 1
            return text
        if self._is_last_growing() and any(s.startswith(text) for s in symbols):
            raise Incomplete
        raise Invalid(f"expected {' or '.join(symbols)}, got {text!r}")

    def at_symbol(self, *symbols: str) -> bool:
        return self.i < len(self.tokens) and self.tokens[self.i][0] == "symbol" and self.tokens[self.i][1] in symbols

    # ------------------------------------------------------------ names and values

    def table(self) -> str:
        kind, text = self._peek()
        if kind == "word" and text in self.schema.tables:
            self.i += 1
            if self._is_prefix_of_longer(text, self.schema.tables):
                raise Incomplete
            return text
        if kind == "word" and self._is_last_growing() and any(t.startswith(text) for t in self.schema.tables):
            raise Incomplete
        raise Invalid(f"{text!r} is not a table")

    def _is_prefix_of_longer(self, text: str, names) -> bool:
        return self.growing and self.i == len(self.tokens) and any(n != text and n.startswith(text) for n in names)

    def column(self) -> str:
        """column or table.column; returns the column's name."""
        kind, text = self._peek()
        if kind != "word":
            raise Invalid(f"expected a column, got {text!r}")
        following = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
        if following == ("symbol", "."):
            self.table()
            self.symbol(".")
            kind, name = self._peek()
            columns = self.schema.tables[text]
            if kind == "word" and name in columns:
                self.i += 1
                if self._is_prefix_of_longer(name, columns):
                    raise Incomplete
                return name
            if kind == "word" and self._is_last_growing() and any(c.startswith(name) for c in columns):
                raise Incomplete
            raise Invalid(f"{name!r} is not a column of {text}")
        names = self.schema.columns | set(self.schema.tables)  # a table name may start table.column
        if text in self.schema.columns:
            self.i += 1
            if self._is_prefix_of_longer(text, names):
                raise Incomplete
            return text
        if self._is_last_growing() and any(n.startswith(text) for n in names):
            raise Incomplete
        if text in self.schema.tables and following is None:
            self.i += 1
            raise Incomplete  # "customers" may become "customers.name"
        raise Invalid(f"{text!r} is not a column")

    def number(self):
        kind, text = self._peek()
        if kind != "number":
            raise Invalid(f"expected a number, got {text!r}")
        self.i += 1
        if self.growing and self.i == len(self.tokens):
            if not any(n.startswith(text) for n in self.numbers):
                raise Invalid(f"{text} is not a number in the question")
            raise Incomplete
        if text.rstrip(".") not in self.numbers and text not in self.numbers:
            raise Invalid(f"{text} is not a number in the question")

    def string(self, column: str | None, pattern: bool = False):
        kind, text = self._peek()
        if kind != "string":
            raise Invalid(f"expected a quoted value, got {text!r}")
        self.i += 1
        closed = len(text) >= 2 and text.endswith("'") and not text.endswith("''") or text == "''"
        body = (text[1:-1] if closed else text[1:]).replace("''", "'")
        core = body.strip("%")
        # % is a LIKE pattern's, once at either end: elsewhere it would let a value the grammar
        # refuses to close ('silver' as a city) run on as 'silver%%%%...' until the length limit
        if "%" in body and not pattern:
            raise Invalid("% belongs to LIKE patterns only")
        if "%" in core or body.startswith("%%") or body.endswith("%%"):
            raise Invalid("a pattern's % stands once at either end")
        candidates = self._literals(column)
        if not closed:
            if not any(c.startswith(body) for c in candidates) and core.lower() not in self.question:
                raise Invalid(f"'{body}...' is not from the question")
            raise Incomplete
        if not core or (body not in candidates and core.lower() not in self.question):
            raise Invalid(f"'{body}' is not from the question")
        if core.lower() not in self.question:  # a declared spelling must still be asked for
            raise Invalid(f"'{body}' is not in the question")
        if not pattern and column and self._belongs_elsewhere(core, column):
            raise Invalid(f"'{body}' is a value of another column, not of {column}")

    def _belongs_elsewhere(self, value: str, column: str) -> bool:
        """A value declared for other columns only ('silver' is a tier) is never compared with this one."""
        owners = self.schema.owners.get(value.lower(), set())
        return bool(owners) and column not in owners

    def _distinct_values(self, column: str | None):
        """An IN list's item reader that refuses a value already in the list ('shipped', 'shipped')."""
        seen = set()

        def item():
            first = self._peek()
            self.value(column)
            if first[0] in ("string", "number"):
                if first[1] in seen:
                    raise Invalid(f"{first[1]} is already in the list")
                seen.add(first[1])
        return item

    def _literals(self, column: str | None) -> list[str]:
        return self.schema.literals(column, self.question)

    def value(self, column: str | None):
        kind, text = self._peek()
        if kind == "number":
            return self.number()
        if kind == "string":
            return self.string(column)
        if kind == "symbol" and text == "(":
            self.i += 1
            self.subquery()
            self.symbol(")")
            return None
        self.column()
        return None

    # ------------------------------------------------------------ clauses

    def aggregate(self) -> str:
        name = self.keyword(*AGGREGATES)
        self.symbol("(")
        if self.at_keyword("DISTINCT"):
            self.keyword("DISTINCT")
        if self.at_symbol("*"):
            if name != "COUNT":
                raise Invalid(f"{name}(*) is not SQL; only COUNT(*)")
            self.symbol("*")
        else:
            self.column()
        self.symbol(")")
        return name

    def operand(self) -> str | None:
        if self.at_keyword(*AGGREGATES):
            self.aggregate()
            return None
        return self.column()

    def select_item(self):
        if self.at_keyword(*AGGREGATES):
            return self.aggregate()
        if self._next_is(".") and self._after_dot_is("*"):
            self.table()
            self.symbol(".")
            self.symbol("*")
            return None
        return self.column()

    def _next_is(self, symbol: str) -> bool:
        return self.i + 1 < len(self.tokens) and self.tokens[self.i + 1] == ("symbol", symbol)

    def _after_dot_is(self, symbol: str) -> bool:
        return self.i + 2 < len(self.tokens) and self.tokens[self.i + 2] == ("symbol", symbol)

    def select_list(self):
        if self.at_symbol("*"):
            self.symbol("*")
            return
        self.comma_list(self.select_item)

    def from_clause(self):
        self.keyword("FROM")
        self.table()
        while self.at_keyword("JOIN"):
            self.keyword("JOIN")
            self.table()
            self.keyword("ON")
            self.column()
            self.symbol("=")
            self.column()

    def predicate(self):
        column = self.operand()
        if self.at_keyword("IS"):
            self.keyword("IS")
            if self.at_keyword("NOT"):
                self.keyword("NOT")
            self.keyword("NULL")
            return
        negated = self.at_keyword("NOT")
        if negated:
            self.keyword("NOT")
        if self.at_keyword("IN", "BETWEEN", "LIKE") or negated:
            word = self.keyword("IN", "BETWEEN", "LIKE")
            if word == "IN":
                self.symbol("(")
                if self.at_keyword("SELECT"):
                    self.subquery()
                else:
                    self.comma_list(self._distinct_values(column))
                self.symbol(")")
            elif word == "BETWEEN":
                self.value(column)
                self.keyword("AND")
                self.value(column)
            else:
                self.string(column, pattern=True)
            return
        self.symbol(*OPERATORS)
        self.value(column)

    def term(self):
        if self.at_keyword("NOT"):
            self.keyword("NOT")
        if self.at_symbol("("):
            self.symbol("(")
            self.condition()
            self.symbol(")")
            return
        self.predicate()

    def condition(self):
        self.term()
        while self.at_keyword("AND", "OR"):
            self.keyword("AND", "OR")
            self.term()

    def subquery(self):
        self.keyword("SELECT")
        if self.at_keyword("DISTINCT"):
            self.keyword("DISTINCT")
        self.operand()
        self.from_clause()
        if self.at_keyword("WHERE"):
            self.keyword("WHERE")
            self.condition()

    def order_item(self):
        self.operand()
        if self.at_keyword("ASC", "DESC"):
            self.keyword("ASC", "DESC")

    def comma_list(self, item):
        """One item, then more after each comma."""
        item()
        while self.at_symbol(","):
            self.symbol(",")
            item()

    def query(self):
        self.keyword("SELECT")
        if self.at_keyword("DISTINCT"):
            self.keyword("DISTINCT")
        self.select_list()
        self.from_clause()
        if self.at_keyword("WHERE"):
            self.keyword("WHERE")
            self.condition()
        if self.at_keyword("GROUP"):
            self.keyword("GROUP")
            self.keyword("BY")
            self.comma_list(self.column)
            if self.at_keyword("HAVING"):
                self.keyword("HAVING")
                self.condition()
        if self.at_keyword("ORDER"):
            self.keyword("ORDER")
            self.keyword("BY")
            self.comma_list(self.order_item)
        if self.at_keyword("LIMIT"):
            self.keyword("LIMIT")
            self.number()
        if self.i < len(self.tokens):
            raise Invalid(f"unexpected {self.tokens[self.i][1]!r} after the end of the query")


def check(schema: Schema, question: str, text: str, final: bool = False) -> str:
    """"complete", "viable" (a prefix of some query) or "invalid". `final`: the text ends here (its
    last word is whole), as when decoding wants to stop."""
    try:
        tokens, growing = lex(text)
        Parser(schema, question, tokens, growing and not final).query()
    except Incomplete:
        return "viable"
    except Invalid:
        return "invalid"
    return "complete"

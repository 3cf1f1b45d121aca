"""The browser bottle's JavaScript against the Python it ports, without a browser: node runs the
same files the page embeds (tokenizer, value rules, SQL grammar) on awkward inputs, and every
answer must equal Python's. Also: the files share one script scope in the page, so no two may
declare the same top-level name (a duplicate function silently replaces the first)."""
import datetime as dt
import json
import re
import shutil
import subprocess

import pytest

from distill.formats import wasm
from tests.conftest import ROOT

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="needs node (apt-get install -y nodejs), as .ci/run does")
AWKWARD = ["Hello, World! It's 6:15pm — café naïve ÉCOLE İstanbul straße", "e-mail maya@example.com +44 (0)20 7946 0958",
           "4111 1111 1111 1111 ½ ² ٣ ७ 日本語テキスト 한국어 Привет мир 😀👍🏽 x\u00a0y\ttab\nnew  double",
           "[SEP] [CLS] </s> <s> word" + "a" * 120, "ﬁ ﬂ ＡＢＣ１２３ \u200bzero\u200dwidth \x07bell", "don't we'll I'M y'all", ""]


def _node(script: str, data) -> object:
    """main(data) of a script run by node beside the page's files; data goes in on stdin."""
    code = f"{script}\nprocess.stdout.write(JSON.stringify(main(JSON.parse(require('fs').readFileSync(0, 'utf8')))));"
    result = subprocess.run([NODE, "-e", code], input=json.dumps(data), capture_output=True, text=True, timeout=60,
                            cwd=wasm.browser_folder())
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_top_level_names_are_unique_across_the_page():
    seen = {}
    for name in wasm.CODE_FILES:
        text = (wasm.browser_folder() / name).read_text()
        for declared in re.findall(r"^(?:async )?(?:function\*?|const|let|class) ?([A-Za-z_$][\w$]*)", text, re.M):
            assert declared not in seen, f"{declared} is declared in {seen.get(declared)} and {name}"
            seen[declared] = name


@needs_node
def test_tokenizers_match_hugging_face():
    from distill.bases import resolve
    from distill.student import train_tokenizer

    texts = AWKWARD + ["SELECT name FROM customers WHERE city = 'Lisbon' 2061 times"]
    for tokenizer in (resolve("minilm-l6", None).tokenizer(), train_tokenizer(texts * 3, 300)):
        expected = [[e.ids, [list(o) for o in e.offsets]] for e in (tokenizer.encode(t, add_special_tokens=False) for t in texts)]
        got = _node("const {Tokenizer} = require('./tokenizer.js');\nfunction main(d) { const t = new Tokenizer(d.json);"
                    " return d.texts.map((x) => { const e = t.encode(x); return [e.ids, e.offsets]; }); }",
                    {"json": tokenizer.to_str(), "texts": texts})
        assert got == expected


@needs_node
def test_value_rules_match_normalise():
    from distill.recipe import load_recipe
    from distill.tasks.normalise import value

    tools = load_recipe(ROOT / "recipes" / "needle.yaml")["task"]["tools"]
    params = [p for tool in tools for p in tool["parameters"].values()] + \
        [{"type": "integer", "unit": "celsius"}, {"type": "number", "unit": "celsius"}, {"type": "number", "unit": "fahrenheit"},
         {"type": "integer", "words": {"closed": 0, "halfway": 50, "all the way": 100, "mute": 0}},
         {"type": "number", "words": {"half": 0.5, "a pinch": 0.25}}]
    surfaces = ["next friday", "an hour and a half", "1h30", "50 bucks", "$1,200.50", "twenty five", "2k", "2.675", "0.125",
                "quarter past eight in the morning", "half past 7pm", "at 7", "3rd of December", "the 31st", "in ٣ days",
                "tomorrow at 3pm", "www.Example.com/Path?q=1.", "maya@ex.com.", "the groceries", "japanese yen", "quid",
                "not urgent", "shuffle", "03.12.2026", "29 feb", "noon", "tomorow at 9am", "tommorrow", "2moro", "tonite",
                "day after tommorow", "dimmed", "killed", "shuffled songs", "Euros", "yens", "swiss franc", "dollarss",
                "offer", "celsiused", "forecasting", "lowered", "muting", "pounding", "68F", "68 °F", "20 degrees celsius",
                "21C", "-4F", "70 f", "68F or 20C", "seventy fahrenheit", "19.5 c", "100 centigrade",
                "close them halfway", "all the way open", "muted", "a pinch of salt", "half", "2 pinches", "40 percent", "15 pct",
                "christmas eve", "on New Year's Eve", "valentines day", "xmas", "this halloween", "christmas party"]
    today = dt.date(2026, 11, 30)
    cases = [{"param": p, "surface": s} for p in params for s in surfaces]
    expected = [value(c["param"], c["surface"], today) for c in cases]
    got = _node("const N = require('./normalise.js');\n"
                "function main(d) { return d.map((c) => N.value(c.param, c.surface, '2026-11-30')); }", cases)
    assert got == expected


@needs_node
def test_sql_grammar_matches_on_every_prefix():
    from distill.recipe import load_recipe
    from distill.tasks.sql_grammar import Schema, check

    task = load_recipe(ROOT / "recipes" / "sql.yaml")["task"]
    question = "how many gold customers in Lisbon ordered more than 3 items, top five by total"
    queries = ["SELECT COUNT(*) FROM customers WHERE city = 'Lisbon' AND tier = 'gold'",
               "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE quantity > 3) ORDER BY name DESC LIMIT 5",
               "SELECT city, COUNT(*) FROM customers GROUP BY city HAVING COUNT(*) >= 2", "SELECT nme FROM", "SELECT * FROM orders;",
               "SELECT name FROM customers WHERE city IN ('Lisbon', 'Lisbon')", "SELECT name FROM customers WHERE city = 'gold'",
               "SELECT name FROM customers WHERE tier LIKE '%gold%'", "SELECT name FROM customers WHERE city IN ('gold%%'",
               "SELECT name FROM customers WHERE tier LIKE '%%gold%%'"]
    cases = [(" " + q[:end], final) for q in queries for end in range(len(q) + 1) for final in (False, True)]
    schema = Schema(task)
    expected = [check(schema, question, text, final) for text, final in cases]
    got = _node("const G = require('./sql_grammar.js');\nfunction main(d) { const s = new G.Schema(d.task);"
                " return d.cases.map(([t, f]) => G.check(s, d.q, t, f)); }", {"task": task, "q": question, "cases": cases})
    assert got == expected


@needs_node
def test_sql_tagger_reads_the_same_query_from_the_same_logits():
    """Random scores over the encoder design's outputs, on questions with values to tag: Python
    and the page render the same query (labels, fits, BIO path, values, rendering)."""
    import numpy as np

    from distill.recipe import load_recipe
    from distill.tasks import sql_tagger

    task = load_recipe(ROOT / "recipes" / "sql.yaml")["task"]
    names = sql_tagger.output_names(task)
    questions = ["how many gold customers in Lisbon or Osaka signed up after 2019",
                 "top 3 products by price under $250, not in the kitchen category",
                 "orders between 2020 and 2023 with a total of at least 1,500", "categories with more than two products",
                 "Customers called Ravi Patel?", "categories with an average price of 150 or more",
                 "orders with a total above the average", "all the backpacks and delivered orders from bronze clients",
                 "total sales by year for shipped orders", "orders from 2019 to 2021 to 2023, 2024 - 2025",
                 "categories whose total stock is over 3000", "statuses with more than 5 orders", ""]
    rng, cases = np.random.default_rng(5), []
    year = [names.index("B-where:orders.year ="), names.index("B-where:orders.year >")]
    for q in questions * 8:
        ranges = [m.span() for m in re.finditer(r"\w+|[^\w\s]", q)]
        logits = rng.normal(0, 3, (len(sql_tagger.FRAME) + 1 + len(ranges), len(names))).astype(np.float32)
        for (start, end), row in zip(ranges, logits[len(sql_tagger.FRAME) + 1:]):  # tags mostly O, some words strongly tagged
            row[0] += 6
            if rng.random() < 0.3:
                row[rng.integers(1, names.index("from:" + task["tables"][0]["name"]))] += 12
            if q[start:end].isdigit() and rng.random() < 0.7:  # years a range may join
                row[year[rng.integers(2)]] += 20
        cases.append({"q": q, "ranges": ranges, "logits": logits.tolist()})
    expected = [sql_tagger.query_from_logits(task, c["q"], c["ranges"], np.asarray(c["logits"], dtype=np.float32))
                for c in cases]
    got = _node("require('./tasks.js'); const Q = require('./sql_tagger.js');\nfunction main(d) {"
                " return d.cases.map((c) => Q.queryFromLogits(d.task, [...c.q], c.ranges, c.logits)); }",
                {"task": task, "cases": cases})
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { return Q.outputNames(d); }", task) == names
    assert got == expected
    assert len(set(expected)) > 20 and any(" WHERE " in q for q in expected)
    said = [("products under $20", 16), ("orders over 1500", 12), ("stock of 300 or more", 9), ("since 2022", 6),
            ("at most 5 units", 8), ("customers outside of Toronto", 21), ("orders that aren't delivered", 19),
            ("neither cancelled nor returned", 8), ("returned orders in 2020", 19), ("price between 5 and 9", 14), ("shipped in 2024 or later", 11)]
    cases = [(text, at, len(text) if at != 14 else 15, guess, numeric) for text, at in said
             for guess in ("=", "!=", "BETWEEN") for numeric in (True, False)]
    stated = [sql_tagger.stated_operator(*case) for case in cases]
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) {"
                 " return d.map(([t, s, e, g, n]) => Q.statedOperator([...t], s, e, g, n)); }", cases) == stated
    assert {"<", ">", ">=", "<=", "!=", "="} <= set(stated)
    texts = ["the 3 cheapest products", "top 5 orders by total", "lowest and highest price", "at least 3 of the most recent",
             "avg price of office items", "min signup year per tier", "what is the average and the max", "plain words",
             "top 2 categories by avrage price", "which city has the most customers and how many", "how much did they spend"]
    labels = [("products.price DESC", "SUM(products.price)", "none"), ("none", "MAX(orders.total)", "none"),
              ("COUNT(*) ASC", "COUNT(*)", "orders.total DESC"), ("MAX(products.price) DESC", "AVG(products.price)", "none"),
              ("SUM(orders.total) ASC", "none", "none")]
    cases = [(t, *label) for t in texts for label in labels]

    def stated_frame(t, order, selected, later):
        frame = {"select1": selected, "select2": "none", "select3": "none", "order": order, "having": "none",
                 "group": "customers.city"}
        sql_tagger.unsaid_average(t, frame)
        sql_tagger.unmeasured_group(frame)
        sql_tagger.shown_ranking(t, frame)
        return frame

    chosen = [[sql_tagger.stated_direction(t, order), sql_tagger.stated_aggregate(t, selected, later),
               sql_tagger.stated_ranking(t, order), stated_frame(t, order, selected, later)] for t, order, selected, later in cases]
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { return d.map(([t, o, s, l]) => {"
                 " const f = { select1: s, select2: 'none', select3: 'none', order: o, having: 'none', group: 'customers.city' };"
                 " Q.unsaidAverage(t, f); Q.unmeasuredGroup(f); Q.shownRanking(t, f);"
                 " return [Q.statedDirection(t, o), Q.statedAggregate(t, s, l), Q.statedRanking(t, o), f]; }); }", cases) == chosen
    assert sum(r != o for (_, o, _, _), (_, _, r, _) in zip(cases, chosen)) >= 3
    texts = ["which order had the smallest total", "bottom 5 home products by stock", "stock and price", "order values by year",
             "units in stock per category", "names of customers", "nothing named"]
    labels = ["orders.year ASC", "SUM(products.price)", "products.price", "customers.city", "COUNT(*)", "orders.total DESC"]
    cases = [(t, label) for t in texts for label in labels]
    schema = sql_tagger.schema_of(task)
    moved = [sql_tagger.stated_column(t, label, schema) for t, label in cases]
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { const s = new Q.SqlSchema(d.task);"
                 " return d.cases.map(([t, l]) => Q.statedColumn(t, l, s)); }", {"task": task, "cases": cases}) == moved
    assert sum(m != label for m, (_, label) in zip(moved, cases)) >= 4


@needs_node
def test_sql_tagger_frame_overrides_match():
    """Listed columns, an unnamed lone column, a count and a declared value around the tagged
    words: the page moves the frame the way Python does."""
    from distill.recipe import load_recipe
    from distill.tasks import sql_tagger

    task = load_recipe(ROOT / "recipes" / "sql.yaml")["task"]
    schema = sql_tagger.schema_of(task)
    texts = ["Name, price and stock of every water bottle", "names and cities of gold customers", "yoga mats",
             "number of products in the kitchen categories", "order ids & totals, pending", "how many cities", "plain"]
    frames = [{"select1": "products.price", "select2": "products.name", "select3": "none", "group": "none", "order": "none"},
              {"select1": "customers.*", "select2": "none", "select3": "none", "group": "none", "order": "none"},
              {"select1": "orders.total", "select2": "none", "select3": "none", "group": "none", "order": "none"},
              {"select1": "COUNT(*)", "select2": "none", "select3": "none", "group": "products.category", "order": "none"}]
    cases = [(t, f, tables) for t in texts for f in frames for tables in (["products"], ["orders", "customers"])]

    def moved(text, frame, tables):
        frame = dict(frame)
        sql_tagger.stated_list(text, frame, schema, tables)
        sql_tagger.unnamed_column(text, frame, schema, tables)
        sql_tagger.stated_count(text, frame)
        return frame

    expected = [moved(*case) for case in cases]
    got = _node("const Q = require('./sql_tagger.js');\nfunction main(d) { const s = new Q.SqlSchema(d.task);"
                " return d.cases.map(([t, f, tables]) => { f = { ...f }; Q.statedList(t, f, s, tables);"
                " Q.unnamedColumn(t, f, s, tables); Q.statedCount(t, f); return f; }); }", {"task": task, "cases": cases})
    assert got == expected
    assert sum(e != f for e, (_, f, _) in zip(expected, cases)) >= 10
    conditions = [[], [["customers.tier", "=", ["gold"]]], [["customers.tier", "=", ["gold"]], ["customers.tier", "=", ["silver"]]],
                  [["customers.tier", "!=", ["gold"]]]]
    cases = [({"select1": label, "select2": "none", "select3": "none", "group": group, "conditions": c}, tables)
             for label in ("customers.tier", "customers.city", "*") for group in ("none", "customers.tier")
             for c in conditions for tables in (["customers"], ["customers", "orders"])]
    expected = []
    for frame, tables in cases:
        frame = {**frame, "conditions": [tuple(c) for c in frame["conditions"]]}
        sql_tagger.known_column(frame, tables)
        expected.append(frame["select1"])
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) {"
                 " return d.map(([f, tables]) => { f = { ...f }; Q.knownColumn(f, tables); return f.select1; }); }", cases) == expected
    assert expected.count("*") + expected.count("customers.*") >= 4
    frames = [{"from": path, "select1": first, "select2": second, "select3": "none", "group": group, "order": order,
               "having": "none", "subquery": "none", "conditions": conditions}
              for path, conditions in (("customers>orders", [["customers.tier", "=", ["gold"]]]), ("orders>customers", []),
                                       ("products>order_items", [["order_items.order_id", "=", [19]]]))
              for first, second in (("COUNT(*)", "none"), ("orders.total", "COUNT(*)"), ("SUM(orders.total)", "orders.year"),
                                    ("customers.*", "none"), ("MIN(products.price)", "none"))
              for group in ("none", "orders.year") for order in ("none", "orders.total DESC")]
    expected = []
    for frame in frames:
        frame = {**frame, "conditions": [tuple(c) for c in frame["conditions"]]}
        sql_tagger.measures_alone(frame, frame["from"].split(">"))
        sql_tagger.unused_tables(frame)
        expected.append([frame["from"], frame["select1"], frame["select2"]])
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { return d.map((f) => { f = { ...f };"
                 " Q.measuresAlone(f, f.from.split('>')); Q.unusedTables(f); return [f.from, f.select1, f.select2]; }); }",
                 frames) == expected
    assert sum(e != [f["from"], f["select1"], f["select2"]] for e, f in zip(expected, frames)) >= 20
    texts = ["How much does product 9 cost?", "how much stock in total", "how much is it", "how many products", "HOW MUCH PRICE",
             "how many units in stock, all products combined", "how many orders in total"]
    cases = [(t, tables, conditions) for t in texts for tables in (["products"], ["orders", "customers"])
             for conditions in ([], [["products.stock", ">", [5]]])]
    expected = []
    for t, tables, conditions in cases:
        frame = {"select1": "COUNT(*)", "select2": "none", "select3": "none", "group": "none", "conditions": conditions}
        sql_tagger.how_much(t, frame, schema, tables)
        expected.append(frame["select1"])
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { const s = new Q.SqlSchema(d.task);"
                 " return d.cases.map(([t, tables, c]) => { const f = { select1: 'COUNT(*)', select2: 'none', select3: 'none',"
                 " group: 'none', conditions: c }; Q.howMuch(t, f, s, tables); return f.select1; }); }",
                 {"task": task, "cases": cases}) == expected
    assert {"SUM(products.stock)", "products.price", "COUNT(*)"} <= set(expected)
    texts = ["show our three biggest orders", "the newest customers", "Toronto customers' two largest orders",
             "the 5 cheapest products", "latest orders by total", "plain words"]
    orders = ["orders.year DESC", "customers.signup_year DESC", "orders.total ASC", "products.stock ASC", "COUNT(*) DESC"]
    cases = [(t, order, tables) for t in texts for order in orders
             for tables in (["orders"], ["orders", "customers"], ["products"], ["customers"])]
    expected = [sql_tagger.stated_scale(t, order, schema, tables) for t, order, tables in cases]
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { const s = new Q.SqlSchema(d.task);"
                 " return d.cases.map(([t, o, tables]) => Q.statedScale(t, o, s, tables)); }", {"task": task, "cases": cases}) == expected
    assert sum(e != order for e, (_, order, _) in zip(expected, cases)) >= 8
    texts = ["Which product do we have the most stock of?", "which product names are in the kitchen category",
             "what customers’ cities", "in which categories can you find running shoes", "Which orders are pending?"]
    cases = [(t, label, group, tables) for t in texts for label in ("products.stock", "products.name", "customers.city",
                                                                    "orders.total", "COUNT(*)")
             for group in ("none", "products.category") for tables in (["products"], ["orders", "customers"])]
    expected = []
    for t, label, group, tables in cases:
        frame = {"select1": label, "select2": "none", "select3": "none", "group": group}
        sql_tagger.asked_rows(t, frame, schema, tables)
        expected.append(frame["select1"])
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { const s = new Q.SqlSchema(d.task);"
                 " return d.cases.map(([t, l, g, tables]) => { const f = { select1: l, select2: 'none', select3: 'none', group: g };"
                 " Q.askedRows(t, f, s, tables); return f.select1; }); }", {"task": task, "cases": cases}) == expected
    assert sum(e != label for e, (_, label, _, _) in zip(expected, cases)) >= 4
    texts = ["total sales for every year", "average price per category", "orders for each customer id", "top 5 orders by total",
             "the stock broken down by the category", "plain words"]
    cases = [(t, {"select1": first, "select2": second, "select3": "none", "group": group, "order": order}, tables)
             for t in texts for first, second in (("orders.year", "none"), ("SUM(orders.total)", "orders.status"), ("*", "none"))
             for group in ("none", "orders.status") for order in ("none", "orders.total DESC")
             for tables in (["orders"], ["products"], ["orders", "customers"])]
    expected = []
    for t, frame, tables in cases:
        frame = dict(frame)
        sql_tagger.stated_group(t, frame, schema, tables)
        expected.append([frame[k] for k in ("group", "select1", "select2")])
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { const s = new Q.SqlSchema(d.task);"
                 " return d.cases.map(([t, f, tables]) => { f = { ...f }; Q.statedGroup(t, f, s, tables);"
                 " return [f.group, f.select1, f.select2]; }); }", {"task": task, "cases": cases}) == expected
    assert sum(e[0] != f["group"] for e, (_, f, _) in zip(expected, cases)) >= 6
    texts = ["stock totals broken down by category", "average price for each category", "number of products, total stock",
             "the earliest signup year per tier", "price and stock"]
    frames = [{"select1": first, "select2": "COUNT(*)", "select3": "none", "group": group, "order": "none", "having": "none",
               "conditions": conditions} for first, group in (("products.category", "products.category"),
                                                              ("customers.tier", "customers.tier"), ("*", "none"))
              for conditions in ([], [["products.stock", "<", [5]]])]
    cases = [(t, f, tables) for t in texts for f in frames for tables in (["products"], ["customers"])]
    expected = []
    for t, frame, tables in cases:
        frame = {**frame, "conditions": [tuple(c) for c in frame["conditions"]]}
        sql_tagger.stated_measure(t, frame, schema, tables)
        expected.append([frame["select1"], frame["select2"]])
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { const s = new Q.SqlSchema(d.task);"
                 " return d.cases.map(([t, f, tables]) => { f = { ...f }; Q.statedMeasure(t, f, s, tables);"
                 " return [f.select1, f.select2]; }); }", {"task": task, "cases": cases}) == expected
    assert sum(e[1] != "COUNT(*)" for e in expected) >= 4
    column = schema.columns["customers.name"]
    spans = [("Liam Chen's orders", 0, 4), ("orders of liam chen", 10, 14), ("Liam's", 0, 4), ("Maya Okafor", 0, 11)]
    values = [sql_tagger._text_value(column, t[s:e], t, {"start": s, "end": e}) for t, s, e in spans]
    assert values == ["Liam Chen", "Liam Chen", "Liam", "Maya Okafor"]
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { return d.spans.map(([t, s, e]) =>"
                 " Q.sqlTextValue(d.column, [...t].slice(s, e).join(''), [...t], { start: s, end: e })); }",
                 {"column": column, "spans": spans}) == values


@needs_node
def test_spans_merge_alike():
    """Spans of one type side by side are one value, in Python and on the page."""
    from distill.tasks.ner import merge_adjacent

    def spans(text, pieces):
        out = []
        for piece, kind in pieces:
            start = text.index(piece)
            out.append({"start": start, "end": start + len(piece), "type": kind, "text": piece})
        return out

    cases = [("for an hour and a half", [("an hour", "minutes"), ("a half", "minutes")]),
             ("for an hour AND half", [("an hour", "minutes"), ("half", "minutes")]),
             ("an hour and a half", [("an hour", "minutes"), ("a half", "time")]),
             ("Tom and Jerry", [("Tom", "PERSON"), ("Jerry", "PERSON")]),
             ("Harold Jenkins", [("Harold", "PERSON"), ("Jenkins", "PERSON")]),
             ("1 Elm St, Leeds", [("1 Elm St", "ADDRESS"), ("Leeds", "ADDRESS")])]
    cases = [(text, spans(text, pieces)) for text, pieces in cases]
    expected = [merge_adjacent(text, found) for text, found in cases]
    assert [len(e) for e in expected] == [1, 1, 2, 2, 1, 1]
    assert _node("const T = require('./tasks.js');\nfunction main(d) { return d.map(([t, s]) => T.mergeAdjacent([...t], s)); }",
                 cases) == expected


@needs_node
def test_sql_tagger_reads_slips_alike():
    """Declared values written with one slip: the same conditions, spellings and verdicts."""
    from distill.recipe import load_recipe
    from distill.tasks import sql_tagger

    task = load_recipe(ROOT / "recipes" / "sql.yaml")["task"]
    schema = sql_tagger.schema_of(task)
    texts = ["how many orders are pendng", "total stock of all hedphones", "gold customers in tornto",
             "top customers by spending", "customers in Lina", "orders not delievred, the Osaak ones", "Mya Okafr's orders",
             "Zürich bakcpack cofee grinder", ""]
    cases = [(t, [m.span() for m in re.finditer(pieces, t)], tables) for t in texts for pieces in (r"\w+|[^\w\s]", r"\w{1,3}|[^\w\s]")
             for tables in (["orders"], ["products"], ["orders", "customers"])]
    expected = []
    for t, ranges, tables in cases:
        frame = {"conditions": []}
        sql_tagger.misspelt_values(t, ranges, frame, schema, tables, [])
        expected.append([list(c) for c in frame["conditions"]])
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { const s = new Q.SqlSchema(d.task);"
                 " return d.cases.map(([t, r, tables]) => { const f = { conditions: [] };"
                 " Q.misspeltValues([...t], r, f, s, tables, []); return f.conditions; }); }",
                 {"task": task, "cases": cases}) == expected
    assert sum(bool(e) for e in expected) >= 8
    pairs = [(a, b) for a in ("pendng", "pedning", "pendingg", "pnedngi", "zürihc", "pending") for b in ("pending", "zürich")]
    slips = [sql_tagger.one_slip(a, b) for a, b in pairs]
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { return d.map(([a, b]) => Q.oneSlip(a, b)); }",
                 pairs) == slips and sum(slips) == 4
    column = schema.columns["orders.status"]
    words = ["pendng", "shipepd", "returnd", "pend", "delivered"]
    assert _node("const Q = require('./sql_tagger.js');\nfunction main(d) { return d.words.map((w) => Q.sqlTextValue(d.column, w)); }",
                 {"column": column, "words": words}) == [sql_tagger._text_value(column, w) for w in words]


@needs_node
def test_shortlist_and_call_grammar_match():
    from distill.recipe import load_recipe
    from distill.tasks.call_grammar import CallGrammar
    from distill.tasks.shortlist import shortlist

    task = load_recipe(ROOT / "recipes" / "concierge.yaml")["task"]
    names = [t["name"] for t in task["tools"]]
    texts = ["book a table for two at Nopa tomorrow at 7pm", "open docs.python.org", "email maya@example.com about rent",
             "what's the weather in Lisbon", "turn the lights off in the kitchen", ""]
    expected_lists = [shortlist(task, text, names, 8) for text in texts]
    text = "remind me to call mom tomorrow at 3pm, it's urgent"
    shown = shortlist(task, text, names, 8)
    outputs = [f' {shown[0]} {{"{p}": "mom"}}' for p in list(task["tools"][names.index(shown[0])]["parameters"])[:2]]
    outputs += [" none", f" {shown[0]} {{}}", f" {shown[1]} {{", ' web_search {"query": "call mom"}']
    cases = [(o[:end], kind) for o in outputs for end in range(len(o) + 1) for kind in ("valid", "complete")]
    grammar = CallGrammar(task["tools"], shown, text)
    expected = [getattr(grammar, kind)(o) for o, kind in cases] + [grammar.call(o, dt.date(2026, 11, 30)) for o in outputs]
    got_lists = _node("const S = require('./shortlist.js');\n"
                      "function main(d) { return d.texts.map((t) => S.shortlist(d.task, t, d.names, 8)); }",
                      {"task": task, "texts": texts, "names": names})
    got = _node("require('./tasks.js'); const C = require('./call_grammar.js');\nfunction main(d) {"
                " const g = new C.CallGrammar(d.task.tools, d.shown, d.text);"
                " return d.cases.map(([o, k]) => g[k](o)).concat(d.outputs.map((o) => g.call(o, '2026-11-30'))); }",
                {"task": task, "shown": shown, "text": text, "cases": cases, "outputs": outputs})
    assert got_lists == expected_lists
    assert got == expected


@needs_node
def test_the_catalog_match_added_to_the_tool_scores_matches():
    """The BM25 of a request against each tool's words, added to the encoder design's tool scores."""
    import numpy as np

    from distill.recipe import load_recipe
    from distill.tasks.tool_tagger import catalog_match

    task = load_recipe(ROOT / "recipes" / "concierge.yaml")["task"]
    texts = ["mute the speaker in the bathroom", "pay PG&E", "open docs.python.org", "email maya@example.com", "",
             "café naïve ÉCOLE straße Sprinklers on in zone 3", "save this to the Recipes notebook: double the garlic"]
    expected = [catalog_match(task, text).tolist() for text in texts]
    got = _node("require('./tasks.js'); const T = require('./tool_tagger.js');\n"
                "function main(d) { return d.texts.map((t) => T.catalogMatch(d.task, t)); }", {"task": task, "texts": texts})
    assert np.allclose(got, expected, rtol=0, atol=1e-12) and max(map(max, expected)) > 1


@needs_node
def test_tool_tagger_reads_the_same_arguments_from_the_same_logits():
    """Random tag scores over needle's tools, on requests with misspelt and multi-piece words:
    Python and the page read the same arguments (tag path, required values from whole words)."""
    import numpy as np

    from distill.bases import resolve
    from distill.recipe import load_recipe
    from distill.tasks import tool_tagger
    from distill.tasks.common import token_ranges

    task = load_recipe(ROOT / "recipes" / "needle.yaml")["task"]
    tokenizer = resolve("minilm-l6", None).tokenizer()
    names = tool_tagger.output_names(task)
    texts = ["add team standup tomorow at 9am for 15 minutes", "can I get 2 bánh mì delivered from Saigon Deli",
             "convert 75 swiss francs to yen tmrw", "remind me to call the bank on friday", "weather in Reykjavík?",
             "pottery class tmrw 6 to 8 pm, lights dimmed pls", "mail jo@x.io about it now, the euros and the kitchen"]
    rng = np.random.default_rng(7)
    cases = []
    for text in texts:
        _, ranges = token_ranges(tokenizer, text)
        for tool in task["tools"]:
            logits = rng.normal(size=(len(ranges), len(names))).astype(np.float32)
            logits[:, names.index("O")] += 1.5  # mostly untagged: the required-value fallback runs
            cases.append({"text": text, "ranges": ranges, "logits": logits.tolist(), "tool": tool})
            kind = rng.choice(tool_tagger._param_kinds(tool))  # a run of words tagged as one value: read whole or in part
            start = int(rng.integers(len(ranges)))
            logits[start:start + int(rng.integers(2, 8)), names.index(f"I-{kind}")] += 6
            logits[start, names.index(f"B-{kind}")] += 12
            cases.append({"text": text, "ranges": ranges, "logits": logits.tolist(), "tool": tool})
    expected = [tool_tagger.read_arguments(c["text"], c["ranges"], np.asarray(c["logits"], dtype=np.float32), names,
                                           c["tool"], dt.date(2026, 11, 30)) for c in cases]
    got = _node("require('./tasks.js'); const T = require('./tool_tagger.js');\nfunction main(d) {"
                " return d.cases.map((c) => T.readArguments(Array.from(c.text), c.ranges, c.logits, d.names, c.tool,"
                " '2026-11-30')); }", {"cases": cases, "names": names})
    assert got == expected
    assert sum(e is not None for e in expected) > 5


def test_bottling_without_the_npm_packages_is_one_line(monkeypatch, tmp_path):
    from distill.errors import DistillError
    from distill.formats import format_of

    monkeypatch.setenv(wasm.ORT_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DistillError, match=r"onnxruntime-web is not installed .*run `npm ci --prefix .*distill/browser`"):
        wasm.runtime_files("classify")
    assert format_of("cellar/pii/pii.wasm.html") == "wasm" and format_of("x.WASM.HTML") == "wasm"
    with pytest.raises(DistillError, match=r"unknown Spirit format '\.html'; valid: \.pt, \.onnx, \.gguf, \.wasm\.html"):
        format_of("page.html")


@needs_node
def test_span_shapes_match():
    from distill.tasks.span_shapes import fit

    text = ("Mail a.farouk@farouklaw.ae. Emirates or call 555-0100; Grüße\nKlaus Wendt, Laura & Dev on 12/03 - 14/03, "
            "ID 2023-11-28, card 4111 1111 1111 1111, \"Maya Okafor\" (Lisbon, room ²3 😀 January")
    kinds = ["EMAIL", "PHONE", "PERSON", "DATE", "ID", "CARD_NUMBER", "ADDRESS", "OTHER"]
    spans = [{"start": a, "end": b, "type": kind, "text": text[a:b]}
             for a in range(0, len(text), 7) for b in (a + 5, a + 19, a + 40) if b <= len(text) for kind in kinds]
    card = text.index("4111")
    spans += [{"start": card, "end": card + 19, "type": kind, "text": text[card:card + 19]} for kind in kinds]
    types = sorted(set(kinds) - {"OTHER"})
    expected = fit(text, spans, types)
    got = _node("const S = require('./span_shapes.js');\n"
                "function main(d) { return S.fit([...d.text], d.spans, new Set(d.types)); }",
                {"text": text, "spans": spans, "types": types})
    assert got == expected and len(expected) > 50

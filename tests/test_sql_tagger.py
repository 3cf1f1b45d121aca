"""The encoder design for text to SQL (distill/tasks/sql_tagger.py): a query as frame choices and
tagged values, and back."""
import json
import re

import numpy as np
import pytest

from distill.recipe import load_recipe
from distill.tasks import sql, sql_tagger
from tests.conftest import ROOT

TASK = load_recipe(ROOT / "recipes" / "sql.yaml")["task"]


def _field_rows():
    lines = (ROOT / "recipes" / "field" / "sql.dev.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def test_the_field_queries_round_trip_through_their_choices():
    """Every query people asked (dev half) but four is a frame the design can write, and render()
    gives back the same result rows — mostly the same query, text for text. Outside it: arithmetic
    on columns, a comparison with a subquery's maximum, and OR across two columns."""
    db = sql._database(TASK)
    outside, same_text, same_rows = [], 0, 0
    for row in _field_rows():
        try:
            frame = sql_tagger.decompose(row["sql"], TASK)
        except sql_tagger.Unrepresentable:
            outside.append(row["sql"])
            continue
        query = sql_tagger.render(frame, TASK)
        same_text += sql.normalise(query) == sql.normalise(row["sql"])
        same_rows += sql.same_result(db, row["sql"], query)
    assert outside == ["SELECT SUM(price * stock) FROM products",
                       "SELECT * FROM customers WHERE signup_year = (SELECT MAX(signup_year) FROM customers)",
                       "SELECT SUM(price * stock) FROM products",
                       "SELECT * FROM customers WHERE tier = 'gold' OR signup_year = 2025"]
    assert same_rows == len(_field_rows()) - len(outside) and same_text == same_rows


def test_every_teacher_query_runs_and_round_trips_through_its_choices():
    """The built-in teacher writes only what the encoder can learn: each plan runs on the database
    and render(decompose(query)) gives back the same rows."""
    from distill.teachers.builtin import sql as teacher

    db = sql._database(TASK)
    for kind in teacher.KINDS:
        for item in range(40):
            query = teacher.plan(kind, TASK, 3, 0.9, 0, item)["target"]["sql"]
            assert sql.run_query(db, query)[1] is None, query
            assert sql.same_result(db, query, sql_tagger.render(sql_tagger.decompose(query, TASK), TASK)), query


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer

    from distill.bases import resolve

    tok = Tokenizer.from_file(str(resolve("minilm-l6", None).folder / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def _labels(tokenizer, text, query):
    names = sql_tagger.output_names(TASK)
    ids, labels = sql_tagger.encode(tokenizer, {"input": {"text": text}, "target": {"sql": query}}, TASK,
                                    {"max_length": 64})
    return ids, [names[i] if i >= 0 else None for i in labels]


def test_values_are_tagged_where_the_question_says_them(tokenizer):
    text = "top three Lisbon customers who joined since 2019 by signup year"
    ids, labels = _labels(tokenizer, text, "SELECT * FROM customers WHERE city = 'Lisbon' AND signup_year >= 2019 "
                                           "ORDER BY signup_year DESC LIMIT 3")
    assert len(ids) == len(labels) == len(sql_tagger.FRAME) + 2 + len(tokenizer.encode(text, add_special_tokens=False).ids)
    assert labels[:len(sql_tagger.FRAME)] == ["from:customers", "select1:*", "select2:none", "select3:none", "group:none",
                                              "order:customers.signup_year DESC", "having:none", "subquery:none", "limit:N"]
    tags = [t for t in labels[len(sql_tagger.FRAME) + 1:] if t]
    assert tags[:6] == ["O", "B-limit", "B-where:customers.city =", "O", "O", "O"]
    assert "B-where:customers.signup_year >=" in tags


def test_a_limit_the_question_never_says_is_one(tokenizer):
    _, labels = _labels(tokenizer, "the cheapest product", "SELECT * FROM products ORDER BY price ASC LIMIT 1")
    assert labels[len(sql_tagger.FRAME) - 1] == "limit:1"
    assert not any(t and t != "O" for t in labels[len(sql_tagger.FRAME):])


def test_a_query_outside_the_design_teaches_nothing(tokenizer):
    _, labels = _labels(tokenizer, "inventory worth", "SELECT SUM(price * stock) FROM products")
    assert set(labels) == {None}


def test_decoding_only_chooses_what_fits_the_chosen_tables():
    """The best select label names another table: decoding takes the best one that fits, and a
    tagged value is read in the database's spelling."""
    names = sql_tagger.output_names(TASK)
    text = "how many LISBON customers"
    ranges = [(0, 3), (4, 8), (9, 15), (16, 25)]
    logits = np.zeros((len(sql_tagger.FRAME) + 1 + len(ranges), len(names)), dtype=np.float32)
    for position, slot in enumerate(sql_tagger.FRAME):
        logits[position, names.index(f"{slot}:none" if slot != "from" else "from:customers")] = 5
    logits[1, names.index("select1:SUM(orders.total)")] = 9
    logits[1, names.index("select1:COUNT(*)")] = 8
    question = len(sql_tagger.FRAME) + 1
    logits[question:, names.index("O")] = 4
    logits[question + 2, names.index("B-where:customers.city =")] = 9
    query = sql_tagger.query_from_logits(TASK, text, ranges, logits)
    assert query == "SELECT COUNT(*) FROM customers WHERE city = 'Lisbon'"


@pytest.mark.parametrize("text, value, guess, numeric, stated", [
    ("products under 20 bucks", "20", ">", True, "<"),
    ("stock of 300 or more", "300", ">", True, ">="),
    ("signed up since 2022", "2022", "<", True, ">="),
    ("returned orders from 2020", "2020", "=", True, "="),  # no comparison word: the tagger's guess stands
    ("orders shipped in 2024", "2024", ">=", True, "="),
    ("orders shipped in 2024 or later", "2024", "=", True, ">="),
    ("prices between 100 and 150", "150", "BETWEEN", True, "BETWEEN"),
    ("customers outside of Toronto", "Toronto", "=", False, "!="),
    ("orders that aren't delivered", "delivered", "=", False, "!="),
    ("customers in Toronto", "Toronto", "!=", False, "="),  # a text value is negated only by a word before it
])
def test_comparison_words_state_the_operator(text, value, guess, numeric, stated):
    start = text.index(value)
    assert sql_tagger.stated_operator(text, start, start + len(value), guess, numeric) == stated


@pytest.mark.parametrize("text, order, stated", [
    ("the 3 cheapest products", "products.price DESC", "products.price ASC"),
    ("which city has the most customers", "COUNT(*) ASC", "COUNT(*) DESC"),
    ("orders of at least 100 with the lowest totals", "orders.total DESC", "orders.total ASC"),  # "at least" is not a superlative
    ("top 3 products by lowest price", "products.price DESC", "products.price DESC"),  # both directions: the tagger's choice
])
def test_superlatives_state_the_direction(text, order, stated):
    assert sql_tagger.stated_direction(text, order) == stated


@pytest.mark.parametrize("text, selected, order, stated", [
    ("avg price of office products", "SUM(products.price)", "none", "AVG(products.price)"),
    ("lowest signup year of the customers", "MAX(customers.signup_year)", "none", "MIN(customers.signup_year)"),
    ("the cheapest product's price", "MAX(products.price)", "products.price ASC", "MAX(products.price)"),  # a ranking's superlative
    ("average and highest price", "AVG(products.price)", "none", "AVG(products.price)"),  # two functions named
    ("avg price", "products.price", "none", "products.price"),  # only an aggregate's function is restated
])
def test_aggregate_words_state_the_function(text, selected, order, stated):
    assert sql_tagger.stated_aggregate(text, selected, order) == stated


@pytest.mark.parametrize("text, order, stated", [
    ("Top 2 categories by average price", "MAX(products.price) DESC", "AVG(products.price) DESC"),
    ("bottom 3 cities by avrage order total", "SUM(orders.total) ASC", "AVG(orders.total) ASC"),  # misspelt as people do
    ("top 2 categories by price", "MAX(products.price) DESC", "MAX(products.price) DESC"),  # no function named
    ("top category by average and max price", "SUM(products.price) DESC", "SUM(products.price) DESC"),  # two named
    ("the 3 cheapest products on average", "products.price ASC", "products.price ASC"),  # a column, not an aggregate
])
def test_a_ranking_by_an_average_says_so(text, order, stated):
    assert sql_tagger.stated_ranking(text, order) == stated


@pytest.mark.parametrize("text, frame, stated", [
    ("top 3 customer ids by spend", {"select1": "orders.customer_id", "order": "AVG(orders.total) DESC"},
     {"select1": "orders.customer_id", "order": "SUM(orders.total) DESC"}),
    ("typical order value per status", {"select1": "AVG(orders.total)", "order": "none"},
     {"select1": "AVG(orders.total)", "order": "none"}),  # "typical" names the average
    ("averge price per category", {"select1": "AVG(products.price)", "order": "none"},
     {"select1": "AVG(products.price)", "order": "none"}),
])
def test_an_average_no_word_names_is_a_sum(text, frame, stated):
    frame = {"select2": "none", "select3": "none", "having": "none", **frame}
    sql_tagger.unsaid_average(text, frame)
    assert frame == {"select2": "none", "select3": "none", "having": "none", **stated}


@pytest.mark.parametrize("selects, order, having, group", [
    (["orders.*", "none"], "none", "none", "none"),  # "orders above the average total ... GROUP BY total" merged rows
    (["orders.status", "orders.total"], "none", "none", "none"),
    (["orders.status", "COUNT(*)"], "none", "none", "orders.status"),  # counted
    (["orders.status", "none"], "SUM(orders.total) DESC", "none", "orders.status"),  # ranked
    (["orders.status", "none"], "none", "COUNT(*) >", "orders.status"),  # filtered
    (["orders.status", "none"], "none", "none", "orders.status"),  # each status once, as DISTINCT
])
def test_a_group_nothing_measures_is_dropped(selects, order, having, group):
    frame = {"select1": selects[0], "select2": selects[1], "select3": "none", "order": order, "having": having,
             "group": "orders.status"}
    sql_tagger.unmeasured_group(frame)
    assert frame["group"] == group


@pytest.mark.parametrize("text, selects, order, shown", [
    ("which city has the most customers and how many", ["customers.city", "none"], "COUNT(*) DESC",
     ["customers.city", "COUNT(*)"]),
    ("top 3 customer ids by spend, with how much they spent", ["orders.customer_id", "none"], "SUM(orders.total) DESC",
     ["orders.customer_id", "SUM(orders.total)"]),
    ("which city has the most customers", ["customers.city", "none"], "COUNT(*) DESC", ["customers.city", "none"]),  # not asked
    ("which city has the most customers and how many", ["customers.city", "COUNT(*)"], "COUNT(*) DESC",
     ["customers.city", "COUNT(*)"]),  # shown once
    ("top 3 customer ids by spend, and how much", ["orders.customer_id", "none"], "COUNT(*) DESC",
     ["orders.customer_id", "none"]),  # a count is asked with "how many"
])
def test_ranked_groups_show_their_measure_when_asked(text, selects, order, shown):
    frame = {"select1": selects[0], "select2": selects[1], "select3": "none", "order": order,
             "group": "customers.city" if "city" in text else "orders.customer_id"}
    sql_tagger.shown_ranking(text, frame)
    assert [frame["select1"], frame["select2"]] == shown


@pytest.mark.parametrize("text, label, stated", [
    ("which order had the smallest total", "orders.year ASC", "orders.total ASC"),
    ("stock totals broken down by category", "SUM(products.price)", "SUM(products.stock)"),
    ("How many customers share each name?", "customers.signup_year", "customers.name"),
    ("names and prices of the cheapest items", "products.price ASC", "products.price ASC"),  # the chosen column is named
    ("largest orders", "orders.year DESC", "orders.year DESC"),  # no column named: the tagger's choice
    ("category and price", "AVG(products.stock)", "AVG(products.price)"),  # an aggregate moves to the numeric one
])
def test_a_column_the_question_never_names_gives_way_to_the_one_it_does(text, label, stated):
    assert sql_tagger.stated_column(text, label, sql_tagger.schema_of(TASK)) == stated


def _frame(*selected, group="none", order="none"):
    return dict(zip(sql_tagger.SELECTS, [*selected, "none", "none", "none"]), group=group, order=order)


@pytest.mark.parametrize("text, frame, tables, stated", [
    ("Name, price and stock of every water bottle", _frame("products.price", "products.name", "products.price"),
     ["products"], ["products.name", "products.price", "products.stock"]),
    ("names and cities of our gold customers", _frame("customers.name"), ["customers"], ["customers.name", "customers.city"]),
    ("for orders above 1900, who? give name and city", _frame("customers.*"), ["orders", "customers"],
     ["customers.name", "customers.city"]),
    ("products with price above 100 and stock below 5", _frame("*"), ["products"], ["*"]),  # values between: no list
    ("category and price per category", _frame("products.category", group="products.category"), ["products"],
     ["products.category"]),  # a breakdown keeps its own selection
    ("name and price", _frame("SUM(products.price)"), ["products"], ["SUM(products.price)"]),  # a measure is kept
])
def test_a_list_of_columns_states_the_selection(text, frame, tables, stated):
    sql_tagger.stated_list(text, frame, sql_tagger.schema_of(TASK), tables)
    assert [frame[s] for s in sql_tagger.SELECTS if frame[s] != "none"] == stated


@pytest.mark.parametrize("text, frame, tables, stated", [
    ("yoga mats", _frame("products.price"), ["products"], "*"),
    ("Which orders did Ravi Patel place in 2021?", _frame("orders.total"), ["orders", "customers"], "orders.*"),
    ("what does a yoga mat cost", _frame("products.price"), ["products"], "products.price"),  # "cost" names price
    ("where does Noah live", _frame("customers.name", "customers.city"), ["customers"], "customers.name"),  # two chosen
])
def test_a_lone_column_nothing_names_means_the_rows(text, frame, tables, stated):
    sql_tagger.unnamed_column(text, frame, sql_tagger.schema_of(TASK), tables)
    assert frame["select1"] == stated


@pytest.mark.parametrize("text, frame, stated", [
    ("number of products in the kitchen category", _frame("products.category"), "COUNT(*)"),
    ("silver plus gold customers, total headcount?", _frame("*"), "COUNT(*)"),
    ("how many units in stock, summed", _frame("SUM(products.stock)"), "SUM(products.stock)"),  # a measure is kept
    ("how many orders per status", _frame("orders.status", group="orders.status"), "orders.status"),
    ("the products", _frame("*"), "*"),
])
def test_how_many_counts_rows(text, frame, stated):
    sql_tagger.stated_count(text, frame)
    assert frame["select1"] == stated


def test_decoding_never_selects_one_expression_twice():
    names = sql_tagger.output_names(TASK)
    logits = np.zeros((len(sql_tagger.FRAME) + 2, len(names)), dtype=np.float32)
    logits[0, names.index("from:products")] = 9
    logits[-1, names.index("O")] = 9  # the one question word is no value
    for position, slot in enumerate(sql_tagger.FRAME[1:], start=1):
        logits[position, names.index(f"{slot}:none")] = 5
        if slot in sql_tagger.SELECTS:
            logits[position, names.index(f"{slot}:products.name")] = 9  # every position's favourite is name
    query = sql_tagger.query_from_logits(TASK, "names", [(0, 5)], logits)
    assert query == "SELECT name FROM products"


@pytest.mark.parametrize("conditions, tables, stated", [
    ([("customers.tier", "=", ["silver"]), ("customers.signup_year", ">", [2020])], ["customers"], "*"),
    ([("customers.tier", "=", ["gold"])], ["customers", "orders"], "customers.*"),
    ([("customers.tier", "=", ["gold"]), ("customers.tier", "=", ["silver"])], ["customers"], "customers.tier"),  # IN
    ([("customers.tier", "!=", ["gold"])], ["customers"], "customers.tier"),
    ([("customers.city", "=", ["Lima"])], ["customers"], "customers.tier"),
])
def test_a_lone_column_a_condition_fixes_means_the_rows(conditions, tables, stated):
    frame = {**_frame("customers.tier"), "conditions": conditions}
    sql_tagger.known_column(frame, tables)
    assert frame["select1"] == stated


@pytest.mark.parametrize("selected, order, tables, stated", [
    (("orders.total", "COUNT(*)"), "none", ["orders"], ["COUNT(*)"]),  # "total count of shipped orders"
    (("SUM(products.stock)", "products.stock", "products.price"), "none", ["products"], ["SUM(products.stock)"]),
    (("MIN(orders.total)",), "orders.total ASC", ["orders"], ["*"]),  # "which order had the smallest total"
    (("COUNT(*)",), "orders.total DESC", ["orders", "customers"], ["orders.*"]),
    (("MIN(products.price)", "MAX(products.price)"), "none", ["products"], ["MIN(products.price)", "MAX(products.price)"]),
    (("products.name", "products.price"), "products.price ASC", ["products"], ["products.name", "products.price"]),
])
def test_an_ungrouped_measure_stands_alone_and_is_never_ranked(selected, order, tables, stated):
    frame = _frame(*selected, order=order)
    sql_tagger.measures_alone(frame, tables)
    assert [frame[s] for s in sql_tagger.SELECTS if frame[s] != "none"] == stated


@pytest.mark.parametrize("path, selected, conditions, stated", [
    ("customers>orders", "customers.*", [("customers.tier", "=", ["silver"])], "customers"),
    ("orders>order_items", "orders.id", [("orders.status", "=", ["pending"])], "orders"),
    ("order_items>orders", "COUNT(*)", [("orders.status", "!=", ["shipped"])], "order_items>orders"),  # counts order items
    ("orders>order_items>products", "COUNT(*)", [("products.name", "=", ["notebook"])], "orders>order_items>products"),
    ("products>order_items", "products.*", [("order_items.order_id", "=", [19])], "products>order_items"),
    ("orders>customers", "COUNT(*)", [], "orders"),
])
def test_a_table_nothing_reads_is_not_joined(path, selected, conditions, stated):
    frame = {**_frame(selected), "from": path, "having": "none", "subquery": "none", "conditions": conditions}
    sql_tagger.unused_tables(frame)
    assert frame["from"] == stated


@pytest.mark.parametrize("text, tables, stated", [
    ("How much does product 9 cost?", ["products"], "products.price"),
    ("how much stock is left of the office desk lamps", ["products"], "products.stock"),
    ("how much stock do we hold in total", ["products"], "SUM(products.stock)"),
    ("how much is it", ["products"], "COUNT(*)"),  # no column named: the tagger's choice
    ("how many products cost over 20", ["products"], "COUNT(*)"),  # a count, said so
    ("how much do price and stock add up to", ["products"], "COUNT(*)"),  # two columns: no guess
    ("How many units do we have in stock across all products combined?", ["products"], "SUM(products.stock)"),
    ("how many orders in total", ["orders"], "COUNT(*)"),  # the sum word is not the column called total
    ("how many orders were there in all", ["orders"], "COUNT(*)"),
])
def test_how_much_asks_for_an_amount(text, tables, stated):
    frame = {**_frame("COUNT(*)"), "conditions": []}
    sql_tagger.how_much(text, frame, sql_tagger.schema_of(TASK), tables)
    assert frame["select1"] == stated


def test_a_compared_column_is_not_the_amount():
    frame = {**_frame("COUNT(*)"), "conditions": [("products.stock", ">", [100])]}
    sql_tagger.how_much("how many products have stock above 100 in total", frame, sql_tagger.schema_of(TASK), ["products"])
    assert frame["select1"] == "COUNT(*)"


@pytest.mark.parametrize("text, order, tables, stated", [
    ("show our three biggest orders", "orders.year DESC", ["orders"], "orders.total DESC"),
    ("Toronto customers' two largest orders", "customers.signup_year DESC", ["orders", "customers"], "orders.total DESC"),
    ("the newest orders", "orders.total DESC", ["orders"], "orders.year DESC"),
    ("the 2 most recently joined customers", "customers.city DESC", ["customers"], "customers.signup_year DESC"),
    ("the 5 cheapest products", "products.stock ASC", ["products"], "products.stock ASC"),  # price or stock: no guess
    ("biggest orders by year", "orders.year DESC", ["orders"], "orders.year DESC"),  # the chosen column is named
    ("the latest and biggest orders", "orders.year DESC", ["orders"], "orders.year DESC"),  # both scales said
    ("show our three biggest orders", "COUNT(*) DESC", ["orders"], "COUNT(*) DESC"),  # a measure keeps its ranking
])
def test_a_superlative_ranks_on_its_own_scale(text, order, tables, stated):
    assert sql_tagger.stated_scale(text, order, sql_tagger.schema_of(TASK), tables) == stated


@pytest.mark.parametrize("text, selected, tables, stated", [
    ("Which product do we have the most stock of?", "products.stock", ["products"], "*"),
    ("what orders did Ravi Patel place", "orders.total", ["orders", "customers"], "orders.*"),
    ("which product names are in the kitchen category", "products.name", ["products"], "products.name"),  # a column follows
    ("which product's price is highest", "products.price", ["products"], "products.price"),
    ("in which categories can you find running shoes", "products.category", ["products"], "products.category"),
    ("show the stock of the desk lamp", "products.stock", ["products"], "products.stock"),  # no "which"
])
def test_which_table_asks_for_its_rows(text, selected, tables, stated):
    frame = _frame(selected)
    sql_tagger.asked_rows(text, frame, sql_tagger.schema_of(TASK), tables)
    assert frame["select1"] == stated


@pytest.mark.parametrize("text, selected, order, stated", [
    ("total sales for every year", ("orders.year",), "none", ["orders.year", "orders.year"]),
    ("sum of the order values for each status", ("SUM(orders.total)",), "none",
     ["orders.status", "orders.status", "SUM(orders.total)"]),  # the group first, the measure kept
    ("orders for each customer id", ("*",), "none", ["orders.customer_id", "orders.customer_id"]),
    ("top 5 orders by total", ("*",), "orders.total DESC", ["none", "*"]),  # a ranking, not a breakdown
    ("orders with a total above 100", ("*",), "none", ["none", "*"]),
])
def test_each_column_is_a_breakdown(text, selected, order, stated):
    frame = _frame(*selected, order=order)
    sql_tagger.stated_group(text, frame, sql_tagger.schema_of(TASK), ["orders"])
    assert [frame["group"]] + [frame[s] for s in sql_tagger.SELECTS if frame[s] != "none"] == stated


def test_having_reads_the_function_column_and_comparison_it_states():
    text = "Which categories have an average price above 150?"
    words = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    logits = _logits_for({"from": ["products"], "group": ["products.category"], "select1": ["products.category"],
                          "having": ["SUM(products.stock) <"]}, words=len(words))
    names = sql_tagger.output_names(TASK)
    number = next(i for i, (start, end) in enumerate(words) if text[start:end] == "150")
    logits[len(sql_tagger.FRAME) + 1 + number, names.index("B-having")] = 20
    assert sql_tagger.query_from_logits(TASK, text, words, logits) == \
        "SELECT category FROM products GROUP BY category HAVING AVG(price) > 150"


@pytest.mark.parametrize("text, having, stated", [
    # the head chose no HAVING but tagged its number: the measure the question names, compared as it says
    ("Which categories have an average price above 150?", "COUNT(*) >=", "HAVING AVG(price) > 150"),
    ("categories whose total stock is over 3000", "AVG(products.price) <", "HAVING SUM(stock) > 3000"),
    # none named: the head's best HAVING that fits, read like a chosen one (no average word: a sum)
    ("categories with at least 3 products", "COUNT(*) >", "HAVING COUNT(*) >= 3"),
    ("categories over 150 in price", "AVG(products.price) >", "HAVING SUM(price) > 150"),
])
def test_a_number_tagged_for_having_compares_a_measure(text, having, stated):
    words = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    logits = _logits_for({"from": ["products"], "group": ["products.category"], "select1": ["products.category"],
                          "having": ["none", "AVG(orders.total) >", having]}, words=len(words))
    names = sql_tagger.output_names(TASK)
    number = next(i for i, (start, end) in enumerate(words) if text[start:end].isdigit())
    logits[len(sql_tagger.FRAME) + 1 + number, names.index("B-having")] = 20
    assert sql_tagger.query_from_logits(TASK, text, words, logits) == \
        f"SELECT category FROM products GROUP BY category {stated}"
    logits[len(sql_tagger.FRAME) + 1 + number, names.index("B-having")] = 0  # untagged: no HAVING
    assert "HAVING" not in sql_tagger.query_from_logits(TASK, text, words, logits)


def test_above_the_average_compares_the_column_it_names():
    text = "which orders have a total above the average order total"
    logits = _logits_for({"from": ["orders"], "select1": ["*"], "subquery": ["orders.year > AVG"]}, words=1)
    assert sql_tagger.query_from_logits(TASK, text, [(0, 5)], logits) == \
        "SELECT * FROM orders WHERE total > (SELECT AVG(total) FROM orders)"


@pytest.mark.parametrize("text, selected, group, conditions, stated", [
    ("stock totals broken down by category", ("products.category", "COUNT(*)"), "products.category", [],
     ["products.category", "SUM(products.stock)"]),
    ("per tier, what's the earliest signup year", ("customers.tier", "COUNT(*)"), "customers.tier", [],
     ["customers.tier", "MIN(customers.signup_year)"]),
    ("average price for each category", ("products.category",), "products.category", [],
     ["products.category", "AVG(products.price)"]),  # a missing measure is added
    ("number of products and total stock per category", ("products.category", "COUNT(*)"), "products.category", [],
     ["products.category", "COUNT(*)"]),  # a count said outright
    ("categories with the lowest stock below 158", ("products.category",), "products.category",
     [("products.stock", "<", [158])], ["products.category"]),  # the compared column is a filter
    ("average price and stock per category", ("products.category", "COUNT(*)"), "products.category", [],
     ["products.category", "COUNT(*)"]),  # two columns: no guess
])
def test_a_breakdown_shows_the_measure_it_names(text, selected, group, conditions, stated):
    frame = {**_frame(*selected, group=group), "having": "none", "conditions": conditions}
    sql_tagger.stated_measure(text, frame, sql_tagger.schema_of(TASK), ["products"] if "products" in group else ["customers"])
    assert [frame[s] for s in sql_tagger.SELECTS if frame[s] != "none"] == stated


def _logits_for(choices: dict, words: int = 1):
    """Scores that make each frame position prefer its given labels, in order; the rest none."""
    names = sql_tagger.output_names(TASK)
    logits = np.zeros((len(sql_tagger.FRAME) + 1 + words, len(names)), dtype=np.float32)
    logits[len(sql_tagger.FRAME) + 1:, names.index("O")] = 9
    for position, slot in enumerate(sql_tagger.FRAME):
        if slot != "from":
            logits[position, names.index(f"{slot}:none")] = 4
        for rank, label in enumerate(choices.get(slot, [])):
            logits[position, names.index(f"{slot}:{label}")] = 9 - rank
    return logits


def test_a_group_is_not_measured_nor_moved_onto_its_measure():
    # "sum of the quantity per order": the group is order_id; a select that would SUM the group
    # column falls to the next choice, and no column moves onto the one SUM reads
    text = "sum of the quantity per order"
    logits = _logits_for({"from": ["order_items"], "group": ["order_items.order_id"],
                          "select1": ["order_items.order_id"],
                          "select2": ["SUM(order_items.order_id)", "SUM(order_items.quantity)"]}, words=6)
    ranges = [m.span() for m in re.finditer(r"\w+", text)]
    assert sql_tagger.query_from_logits(TASK, text, ranges, logits) == \
        "SELECT order_id, SUM(quantity) FROM order_items GROUP BY order_id"


def test_a_declared_value_around_the_tagged_words_is_the_value():
    column = sql_tagger.schema_of(TASK).columns["customers.name"]
    text = "Liam Chen's orders that aren't delivered"
    assert sql_tagger._text_value(column, "Liam", text, {"start": 0, "end": 4}) == "Liam Chen"
    assert sql_tagger._text_value(column, "Liam", "Liam's orders", {"start": 0, "end": 4}) == "Liam"


def test_a_densely_linked_schema_is_one_error_not_tables_to_the_fourth():
    """A schema read from a Spirit is data: forty tables that all reference each other would ask
    for millions of join paths; counting stops at the bound with one line."""
    from distill.errors import DistillError

    names = [f"t{i}" for i in range(40)]
    tables = [{"name": n, "columns": [{"name": "id", "type": "integer", "key": True}]
               + [{"name": f"{o}_id", "type": "integer", "references": f"{o}.id"} for o in names if o != n]} for n in names]
    with pytest.raises(DistillError, match="join paths"):
        sql_tagger.output_names({"type": "sql", "tables": tables})


def _tagged(text: str, choices: dict, tags: dict) -> str:
    """The query read from scores that prefer the given frame labels and tag the given words."""
    words = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    logits = _logits_for(choices, words=len(words))
    names = sql_tagger.output_names(TASK)
    for word, tag in tags.items():
        index = next(i for i, (start, end) in enumerate(words) if text[start:end] == word)
        logits[len(sql_tagger.FRAME) + 1 + index, names.index(tag)] = 20
    return sql_tagger.query_from_logits(TASK, text, words, logits)


@pytest.mark.parametrize("text, stated", [
    ("cancelled orders from 2020 to 2022", "year BETWEEN 2020 AND 2022"),
    ("cancelled orders 2020 through 2022", "year BETWEEN 2020 AND 2022"),
    ("cancelled orders in 2020 and 2022", "year IN (2020, 2022)"),  # "and" lists two years
    ("cancelled orders 2019 to 2020 to 2022", "year BETWEEN 2019 AND 2020 AND year = 2022"),  # one range, then a year
])
def test_two_numbers_joined_by_to_are_a_range(text, stated):
    tags = {"cancelled": "B-where:orders.status =", "2019": "B-where:orders.year =", "2020": "B-where:orders.year =",
            "2022": "B-where:orders.year ="}
    query = _tagged(text, {"from": ["orders"], "select1": ["*"]}, {w: t for w, t in tags.items() if w in text})
    assert query == f"SELECT * FROM orders WHERE status = 'cancelled' AND {stated}"


def test_a_declared_value_no_tag_read_still_filters():
    # "backpacks" names products.name's value 'backpack'; "delivered" was tagged, "bronze" was not
    assert _tagged("all the backpacks we carry", {"from": ["products"], "select1": ["*"]}, {}) == \
        "SELECT * FROM products WHERE name = 'backpack'"
    query = _tagged("delivered orders from bronze tier clients",
                    {"from": ["orders>customers"], "select1": ["orders.*"]}, {"delivered": "B-where:orders.status ="})
    assert query.endswith("WHERE orders.status = 'delivered' AND customers.tier = 'bronze'")
    # a value of a table the query does not read is not a filter; nor is one said as an exception
    assert _tagged("orders of gold customers", {"from": ["orders"], "select1": ["*"]}, {}) == "SELECT * FROM orders"
    assert _tagged("products except headphones", {"from": ["products"], "select1": ["*"]}, {}) == \
        "SELECT * FROM products WHERE name <> 'headphones'"


@pytest.mark.parametrize("text, selected, stated", [
    ("total sales by year", ("orders.total", "SUM(orders.total)"), "SELECT year, SUM(total) FROM orders GROUP BY year"),
    ("orders each year", ("orders.year", "orders.total", "COUNT(*)"), "SELECT year, COUNT(*) FROM orders GROUP BY year"),
])
def test_grouped_rows_show_their_group(text, selected, stated):
    choices = {"from": ["orders"], "group": ["orders.year"]} | {f"select{i}": [s] for i, s in enumerate(selected, 1)}
    assert _tagged(text, choices, {}) == stated


@pytest.mark.parametrize("text, choices, stated", [
    ("how many orders are pendng", {"from": ["orders"], "select1": ["COUNT(*)"]},
     "SELECT COUNT(*) FROM orders WHERE status = 'pending'"),
    ("total stock of all hedphones", {"from": ["products"], "select1": ["SUM(products.stock)"]},
     "SELECT SUM(stock) FROM products WHERE name = 'headphones'"),
    ("gold customers in tornto", {"from": ["customers"], "select1": ["*"]},
     "SELECT * FROM customers WHERE tier = 'gold' AND city = 'Toronto'"),
    ("orders not delievred", {"from": ["orders"], "select1": ["*"]}, "SELECT * FROM orders WHERE status <> 'delivered'"),
    # words the tokenizer knows whole are words of their own, not slips of a value ("spending", "pending")
    ("top customers by spending", {"from": ["orders"], "select1": ["*"]}, "SELECT * FROM orders"),
    # values shorter than five letters are too near other words to read a slip of them ("Lina", "Lima")
    ("customers in Lina", {"from": ["customers"], "select1": ["*"]}, "SELECT * FROM customers"),
])
def test_a_declared_value_with_one_slip_still_filters(tokenizer, text, choices, stated):
    _, ranges = sql_tagger.window(tokenizer, text, 64)
    names = sql_tagger.output_names(TASK)
    logits = _logits_for(choices, words=len(ranges))
    logits[len(sql_tagger.FRAME) + 1:, names.index("O")] = 9
    if "gold" in text:  # one value tagged, the other read by its slip
        logits[len(sql_tagger.FRAME) + 1, names.index("B-where:customers.tier =")] = 20
    assert sql_tagger.query_from_logits(TASK, text, ranges, logits) == stated


def test_a_tagged_value_with_one_slip_is_read_in_the_database_spelling():
    column = sql_tagger.schema_of(TASK).columns["orders.status"]
    assert [sql_tagger._text_value(column, w) for w in ("pendng", "shipepd", "cancelled", "returnd", "pend")] == \
        ["pending", "shipped", "cancelled", "returned", "pend"]
    assert [sql_tagger.one_slip(a, b) for a, b in [("pendng", "pending"), ("pedning", "pending"), ("pendingg", "pending"),
                                                   ("pxnding", "pending"), ("pnedngi", "pending"), ("pending", "pending")]] == \
        [True, True, True, True, False, False]

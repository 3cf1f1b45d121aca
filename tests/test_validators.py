"""Constrained decoding and every task's validators, one rule per case: each accepts what the
rule allows and refuses what it forbids, so a rule that stops biting turns a test red."""
import numpy as np
import pytest

from distill.decoding import TokenPieces, choose
from distill.tasks import Rejected, classify, ner, sql, tool_call
from tests.conftest import ROOT

# ---------------------------------------------------------------- the shared greedy choice


class _Pieces(TokenPieces):
    def __init__(self, pieces):
        self.pieces = pieces


PIECES = _Pieces(["<eos>", "a", "b", "c"])


def test_choose_takes_the_best_token_when_it_is_valid():
    assert choose(np.array([0.0, 1.0, 3.0, 2.0]), "", PIECES, lambda text: True, eos_id=0) == 2


def test_choose_skips_invalid_tokens_in_score_order():
    assert choose(np.array([0.0, 1.0, 3.0, 2.0]), "", PIECES, lambda text: text != "b", eos_id=0) == 3


def test_choose_allows_end_of_sequence_even_when_nothing_else_is_valid():
    assert choose(np.array([5.0, 1.0, 3.0, 2.0]), "", PIECES, lambda text: False, eos_id=0) == 0


def test_choose_looks_past_the_first_candidates():
    pieces = _Pieces(["<eos>"] + [f"t{i}" for i in range(200)])
    logits = np.arange(201, dtype=np.float32)  # the best tokens are the last ones
    assert choose(logits, "", pieces, lambda text: text == "t3", eos_id=0) == 4


# ---------------------------------------------------------------- tool calling: the call grammar

CATALOG = [{"name": "get_weather", "parameters": {"city": {"type": "string", "required": True}, "date": {"type": "date"},
                                                  "unit": {"type": "enum", "values": {"celsius": ["C"], "fahrenheit": ["F"]}}}},
           {"name": "set_timer", "parameters": {"minutes": {"type": "integer", "unit": "minutes", "required": True,
                                                            "minimum": 1, "maximum": 600}, "loud": {"type": "boolean"}}},
           {"name": "add_to_list", "parameters": {"items": {"type": "array", "required": True}}}]
SHOWN = ["get_weather", "set_timer", "add_to_list"]
TEXT = "weather in Lisbon tomorrow for 25 minutes with milk and eggs"


def _grammar(shown=SHOWN, text=TEXT):
    from distill.tasks.call_grammar import CallGrammar

    return CallGrammar(CATALOG, shown, text)


def test_tool_name_must_be_offered_or_none():
    assert _grammar().valid(" get_wea") and _grammar().valid(" no")
    assert not _grammar().valid(" send_email")
    assert not _grammar(shown=["set_timer"]).valid(" get_weather {")
    assert _grammar().complete(" none") and not _grammar().complete(" get_weather")


def test_argument_names_belong_to_the_tool_and_come_once():
    assert _grammar().valid(' get_weather {"ci')
    assert not _grammar().valid(' get_weather {"minutes')
    assert not _grammar().valid(' get_weather {"city": "Lisbon", "city')


def test_copied_words_must_be_in_the_request():
    assert _grammar().valid(' get_weather {"city": "Lis')
    assert _grammar().valid(' get_weather {"city": "lisbon"}')  # case aside
    assert not _grammar().valid(' get_weather {"city": "Paris"}')
    assert not _grammar().valid(' get_weather {"city": "Par')  # refused while still being typed
    assert not _grammar().valid(' get_weather {"city": ""}')


def test_typed_words_must_read_as_their_type():
    assert _grammar().valid(' get_weather {"city": "Lisbon", "date": "tomorrow"}')
    assert not _grammar().valid(' get_weather {"city": "Lisbon", "date": "weather"}')
    assert _grammar().valid(' set_timer {"minutes": "25 minutes"}')
    assert not _grammar().valid(' set_timer {"minutes": "Lisbon"}')


def test_enums_and_booleans_are_values_not_copies():
    assert _grammar().valid(' get_weather {"city": "Lisbon", "unit": "celsius"}')
    assert not _grammar().valid(' get_weather {"city": "Lisbon", "unit": "kelvin"}')
    assert _grammar().valid(' set_timer {"minutes": "25 minutes", "loud": true}')
    assert not _grammar().valid(' set_timer {"minutes": "25 minutes", "loud": "yes"}')


def test_the_call_closes_only_with_every_required_argument():
    assert not _grammar().valid(' get_weather {"date": "tomorrow"}')
    assert _grammar().complete(' get_weather {"city": "Lisbon"}')
    assert not _grammar().complete(' get_weather {"city": "Lisbon"')


def test_a_finished_output_reads_as_the_typed_call():
    import datetime as dt

    call = _grammar().call(' set_timer {"minutes": "25 minutes", "loud": false}', dt.date(2026, 11, 30))
    assert call == {"name": "set_timer", "arguments": {"loud": False, "minutes": 25}}
    call = _grammar().call(' get_weather {"city": "Lisbon", "date": "tomorrow"}', dt.date(2026, 11, 30))
    assert call == {"name": "get_weather", "arguments": {"city": "Lisbon", "date": "2026-12-01"}}
    assert _grammar().call(' add_to_list {"items": ["milk", "eggs"]}', dt.date(2026, 11, 30))["arguments"] == {"items": ["milk", "eggs"]}
    assert _grammar().call(" get_weather {", dt.date(2026, 11, 30)) == {"name": None}  # unfinished: no call


def test_a_grammar_resumed_after_the_decoded_prefix_answers_like_a_fresh_one():
    """Decoding asks complete(prefix) once per step, then valid(prefix + piece) per candidate; the
    grammar scans only the piece from the prefix's state. Every split of every output must agree."""
    outputs = [' get_weather {"city": "Lisbon", "date": "tomorrow"}', ' get_weather {"city": "Lisbon", "city": "x"}',
               ' get_weather {"city": "Par', ' none', ' set_timer {"minutes": "10"}', ' get_weather {"unit": "celsius"}',
               ' get_weather {"city": "lisbon", "date": "tomorrow"} x', ' get_weather {"city": "Lis\\"bon"}']
    for output in outputs:
        for split in range(len(output) + 1):
            resumed = _grammar()
            resumed.complete(output[:split])
            assert resumed.valid(output) == _grammar().valid(output), (output, split)
            assert resumed.complete(output) == _grammar().complete(output), (output, split)


def test_a_random_tool_student_only_ever_calls_what_is_offered():
    """Fuzz: an untrained student, random catalogs drawn from Needle's, random requests: every
    answer is no call or a call of an offered tool whose arguments fit that tool's schema."""
    import random

    import yaml

    from distill.spirit import spirit_from_model
    from distill.student import build_model, model_config, train_tokenizer
    from distill.tasks.tool_call import value_fits

    tools = yaml.safe_load((ROOT / "recipes" / "needle.yaml").read_text())["task"]["tools"]
    texts = [f"tools: {' '.join(t['name'] for t in tools)} user: {' '.join(t['phrasings'])} call:" for t in tools]
    tokenizer = train_tokenizer(texts * 3, 500)
    student = {"arch": "llama", "hidden_size": 32, "layers": 1, "heads": 2, "kv_heads": 2, "intermediate_size": 64,
               "max_length": 96}
    rng = random.Random(11)
    words = ["weather", "Lisbon", "tomorrow", "25", "minutes", "email", "bob@x.io", "milk", "and", "eggs", "€20", "dollars",
             "¿", "🙂", '"', "{", "}", "none", "play", "jazz", "lights", "off", "kitchen", "translate", "hola", "Friday"]
    for trial in range(12):
        catalog = rng.sample(tools, rng.randint(2, 6))
        spirit = spirit_from_model(build_model(model_config(student, tokenizer), seed=trial), tokenizer,
                                   {"task": {"type": "tool_call", "tools": catalog, "shortlist": 8}, "student": student})
        shown = [t["name"] for t in rng.sample(catalog, rng.randint(1, len(catalog)))]
        call = spirit.predict(" ".join(rng.choice(words) for _ in range(rng.randint(1, 10))), shown)
        assert call["name"] is None or call["name"] in shown, call
        if call["name"]:
            params = next(t for t in catalog if t["name"] == call["name"])["parameters"]
            assert all(k in params and value_fits(params[k], v) for k, v in call["arguments"].items()), call
            assert all(k in call["arguments"] for k, p in params.items() if p.get("required")), call


# ---------------------------------------------------------------- tool calling: the teacher's answers


def _tool_task():
    import yaml

    needle = yaml.safe_load((ROOT / "recipes" / "needle.yaml").read_text())
    return {"type": "tool_call", "tools": [t for t in needle["task"]["tools"] if t["name"] in ("get_weather", "set_timer")]}


ITEM = {"text": "weather in Lisbon please"}
TOOL_ANSWERS = {
    "accepted": ({"name": "get_weather", "arguments": {"city": "Lisbon"}}, None),
    "words not in the request": ({"name": "get_weather", "arguments": {"city": "Paris"}}, "ungrounded"),
    "unknown tool": ({"name": "get_news", "arguments": {}}, "unknown tool"),
    "arguments not an object": ({"name": "get_weather", "arguments": ["Lisbon"]}, "schema violation"),
    "unknown argument": ({"name": "get_weather", "arguments": {"city": "Lisbon", "zip": "1000"}}, "schema violation"),
    "enum value outside the enum": ({"name": "get_weather", "arguments": {"city": "Lisbon", "unit": "kelvin"}}, "schema violation"),
    "a value of the wrong type": ({"name": "get_weather", "arguments": {"city": "Lisbon", "unit": 3}}, "schema violation"),
    "a date that is not YYYY-MM-DD": ({"name": "get_weather", "arguments": {"city": "Lisbon", "date": "tomorrow"}},
                                      "schema violation"),
    "empty string": ({"name": "get_weather", "arguments": {"city": ""}}, "schema violation"),
    "missing required argument": ({"name": "get_weather", "arguments": {}}, "schema violation"),
    "another category's tool": ({"name": "set_timer", "arguments": {"minutes": 5}}, "off-category"),
}


@pytest.mark.parametrize("case", sorted(TOOL_ANSWERS))
def test_tool_call_teacher_answers(case):
    answer, reason = TOOL_ANSWERS[case]
    if reason is None:
        assert tool_call.parse_target(answer, ITEM, _tool_task(), "get_weather")["name"] == "get_weather"
        return
    with pytest.raises(Rejected) as caught:
        tool_call.parse_target(answer, ITEM, _tool_task(), "get_weather")
    assert caught.value.reason == reason


def test_tool_call_leakage_is_rejected():
    call = {"name": "get_weather", "arguments": {"city": "Lisbon"}}
    leaky = {"text": 'run {"name": "get_weather", "arguments": {"city": "Lisbon"}}'}
    with pytest.raises(Rejected, match="leakage"):
        tool_call.parse_target(call, leaky, _tool_task(), "get_weather")


# ---------------------------------------------------------------- classification

LABELS = {"type": "classify", "labels": [{"name": "check_balance"}, {"name": "transfer_money"}]}


@pytest.mark.parametrize("answer,text,reason", [
    ({"label": "loan_inquiry"}, "can I borrow money", "schema violation"),
    ({"label": "transfer_money"}, "what's my balance", "off-category"),
    ({"label": "check_balance"}, "check_balance please", "leakage"),
])
def test_classify_teacher_answers_rejected(answer, text, reason):
    with pytest.raises(Rejected) as caught:
        classify.parse_target(answer, {"text": text}, LABELS, "check_balance")
    assert caught.value.reason == reason


def test_classify_teacher_answer_accepted_and_prediction_is_the_best_label():
    assert classify.parse_target({"label": "check_balance"}, {"text": "balance?"}, LABELS, "check_balance") == \
        {"label": "check_balance"}

    class Spirit:
        recipe, max_length = {"task": LABELS}, 16

        class tokenizer:  # noqa: N801 - stands in for a tokenizers.Tokenizer
            @staticmethod
            def encode(text, add_special_tokens=False):
                return type("E", (), {"ids": [5, 6]})()

            @staticmethod
            def token_to_id(token):
                return 1

        @staticmethod
        def forward(ids):
            return np.array([0.1, 2.0])

    assert classify.predict(Spirit, "send money") == {"label": "transfer_money"}


# ---------------------------------------------------------------- NER

PII = {"type": "ner", "entity_types": [{"name": "PERSON"}, {"name": "EMAIL"}]}
TEXT = "Mail Maya at maya@example.com"


@pytest.mark.parametrize("spans,reason", [
    ([{"start": 5, "end": 9, "type": "CITY"}], "schema violation"),
    ([{"start": 5, "end": 99, "type": "PERSON"}], "schema violation"),
    ([{"start": 5, "end": 9, "type": "PERSON", "text": "Mayo"}], "schema violation"),
    ([{"start": 5, "end": 9, "type": "PERSON"}, {"start": 7, "end": 12, "type": "PERSON"}], "schema violation"),
    ([{"start": 13, "end": 29, "type": "EMAIL"}], "off-category"),
])
def test_ner_teacher_answers_rejected(spans, reason):
    with pytest.raises(Rejected) as caught:
        ner.parse_target({"spans": spans}, {"text": TEXT}, PII, "PERSON")
    assert caught.value.reason == reason


def test_ner_teacher_answer_accepted_with_exact_text():
    target = ner.parse_target({"spans": [{"start": 13, "end": 29, "type": "EMAIL"}, {"start": 5, "end": 9, "type": "PERSON"}]},
                              {"text": TEXT}, PII, "PERSON")
    assert [s["text"] for s in target["spans"]] == ["Maya", "maya@example.com"]  # sorted by offset


def test_ner_decoding_gives_one_type_per_word():
    text = "card 4111 1111"
    ranges = [(0, 4), (5, 6), (6, 9), (10, 14)]
    names = ["O", "B-PERSON", "I-PERSON", "B-EMAIL", "I-EMAIL"]
    logits = np.full((4, 5), -5.0)
    logits[0, 0] = logits[3, 0] = 5  # "card" and "1111": O
    logits[1, 1], logits[2, 4] = 5, 5  # "4" says PERSON, "111" says EMAIL: one word, one type
    tags = ner.word_consistent_tags(text, ranges, logits, names)
    assert tags[0] == "O" and tags[3] == "O" and tags[1][2:] == tags[2][2:] and tags[1].startswith("B-")


def test_ner_bio_decoding_starts_a_span_at_an_orphan_inside_tag():
    spans = ner.decode_tags("a Maya b", [(0, 1), (2, 6), (7, 8)], ["O", "I-PERSON", "O"])
    assert [(s["text"], s["type"]) for s in spans] == [("Maya", "PERSON")]


# ---------------------------------------------------------------- SQL


def _sql_valid(output, question="customers in Lisbon with more than 3 orders"):
    return sql.output_validator(_sql_task(), question)(output)


def test_sql_quoted_literals_must_come_from_the_question():
    assert _sql_valid(" SELECT * FROM customers WHERE city = 'Lisbon'")
    assert _sql_valid(" SELECT * FROM customers WHERE city = 'Lis")  # still typing
    assert not _sql_valid(" SELECT * FROM customers WHERE city = 'Osaka'")
    assert not _sql_valid(" SELECT * FROM customers WHERE city = 'Osa")


def test_sql_literals_may_take_the_declared_spelling():
    question = "gold customers in toronto"
    assert sql.output_validator(_sql_task(), question)(" SELECT * FROM customers WHERE city = 'Toronto'")
    assert sql.output_validator(_sql_task(), question)(" SELECT * FROM customers WHERE city = 'toronto'")


def test_sql_a_value_of_another_column_is_not_compared_with_this_one():
    question = "customers in Lima or Osaka who are silver"
    valid = sql.output_validator(_sql_task(), question)
    assert valid(" SELECT * FROM customers WHERE city IN ('Lima', 'Osaka') AND tier = 'silver'")
    assert not valid(" SELECT * FROM customers WHERE city IN ('Lima', 'silver')")  # silver is a tier
    assert not valid(" SELECT * FROM customers WHERE city IN ('Lima', 'Lima')")  # each value once
    assert valid(" SELECT * FROM customers WHERE name LIKE '%silver%'")  # a pattern may be any text asked for
    # no way round the refusal: % only in a LIKE pattern, once at either end (a Still ran on 'silver%%%%...')
    assert not valid(" SELECT * FROM customers WHERE city IN ('Lima', 'silver%")
    assert not valid(" SELECT * FROM customers WHERE name LIKE '%silver%%")
    assert not valid(" SELECT * FROM customers WHERE name LIKE '%sil%ver%'")


def test_sql_numbers_must_come_from_the_question():
    assert _sql_valid(" SELECT * FROM orders WHERE total > 3")
    assert _sql_valid(" SELECT * FROM orders LIMIT 1")  # 0 and 1 need no mention
    assert not _sql_valid(" SELECT * FROM orders WHERE total > 7")
    assert not _sql_valid(" SELECT * FROM orders WHERE total > 30")
    assert sql.output_validator(_sql_task(), "the top three products")(" SELECT * FROM products LIMIT 3")


@pytest.mark.parametrize("query", [" SELECT * FROM customer ", " SELECT nme FROM customers", " SELECT SUM(*) FROM orders",
                                   " SELECT * FROM customers WHERE tier = gold", " SELECT * FROM customers; DROP TABLE orders",
                                   " select * from customers", " SELECT * FROM customers WHERE city = 'Lisbon' ORDER"
                                   " BY city LIMIT 2 OFFSET 1"])
def test_sql_outside_the_grammar_or_schema_is_refused(query):
    assert not _sql_valid(query)


def test_sql_may_stop_only_at_a_whole_query_sqlite_prepares():
    complete = sql.output_complete(_sql_task(), "names of customers and their order totals")
    assert complete(" SELECT name FROM customers")
    assert not complete(" SELECT name FROM")
    assert not complete(" SELECT total FROM customers")  # parses, but total is not in scope
    assert not complete(" SELECT name FROM customers JOIN products ON customers.id = products.id WHERE id = 1")  # ambiguous
    assert complete(" SELECT customers.name, orders.total FROM orders JOIN customers ON orders.customer_id = customers.id")


def _sql_task():
    from distill.recipe import load_recipe

    return load_recipe(ROOT / "recipes" / "sql.yaml")["task"]


@pytest.mark.parametrize("answer,text,reason", [
    ({"sql": "DELETE FROM customers"}, "remove everyone", "schema violation"),
    ({"sql": "SELECT nope FROM customers"}, "names of customers", "schema violation"),
    ({"sql": "SELECT name FROM customers"}, "run SELECT name FROM customers", "leakage"),
])
def test_sql_teacher_answers_rejected(answer, text, reason):
    with pytest.raises(Rejected) as caught:
        sql.parse_target(answer, {"text": text}, _sql_task(), "select")
    assert caught.value.reason == reason


def test_sql_teacher_answer_is_normalised():
    target = sql.parse_target({"sql": "select  name from customers;"}, {"text": "names of customers"}, _sql_task(), "select")
    assert target == {"sql": "SELECT name FROM customers"}


def _sql_answers(spirit, task, rng, words, count: int, longest: int) -> list[str]:
    """The Spirit's answers to random questions made of these words, each checked: it parses,
    SQLite prepares it against the schema, and it names only the schema's tables and columns."""
    import sqlglot

    schema_names = {t["name"] for t in task["tables"]} | {c["name"] for t in task["tables"] for c in t["columns"]} | {"*"}
    db = sql._database(task)
    answers = []
    for _ in range(count):
        question = " ".join(rng.choice(words) for _ in range(rng.randint(1, longest)))
        query = spirit.predict(question)["sql"]
        tree = sqlglot.parse_one(query, read="sqlite")  # raises if it is not SQL
        db.execute("EXPLAIN " + query)  # raises if a name is not in scope
        assert {c.name for c in tree.find_all(sqlglot.exp.Column, sqlglot.exp.Table)} <= schema_names, (question, query)
        answers.append(query)
    return answers


def test_a_random_sql_encoder_only_ever_answers_sql_of_the_schema():
    """Fuzz, for the shipped design (the encoder that chooses a query's parts): whatever its outputs
    (here random numbers in place of a real, tiny student's, so every part is chosen at random and
    about a third of the frames make no query SQLite accepts), every answer parses, prepares
    against the schema and names only its tables, and most come from the frame itself rather than
    the fallback."""
    import random

    import numpy as np

    from distill.spirit import spirit_from_model
    from distill.student import build_model, model_config, train_tokenizer
    from distill.tasks import sql_tagger
    from distill.teachers.builtin import sql as teacher

    task = _sql_task()
    texts = [teacher.plan(kind, task, 1, 0.9, 0, i)["text"] for kind in teacher.KINDS for i in range(20)]
    tokenizer = train_tokenizer(texts, 600)
    student = {"arch": "bert", "hidden_size": 32, "layers": 1, "heads": 2, "intermediate_size": 64, "max_length": 48}
    model = build_model(model_config(student, tokenizer, "token", len(sql_tagger.output_names(task))), seed=5)
    spirit = spirit_from_model(model, tokenizer, {"task": task, "student": student})
    noise, student_outputs = np.random.default_rng(11), spirit.forward
    spirit.forward = lambda ids: noise.normal(0, 3, np.shape(student_outputs(ids))).astype(np.float32)
    rng = random.Random(11)
    words = ["customers", "orders", "price", "Toronto", "gold", "how", "many", "much", "total", "2024", "top", "3", "average",
             "avrage", "per", "city", "spend", "most", "never", "¿qué?", "DROP TABLE", "'", ";", "🙂", "Maya Okafor"]
    answers = _sql_answers(spirit, task, rng, words, 40, 10)
    assert sum(query != sql.fallback_query(task) for query in answers) >= 15, answers


def test_a_random_sql_student_only_ever_writes_sql_of_the_schema():
    """Fuzz: an untrained student (the most unruly one there is) on random questions. Whatever it
    wants, every answer parses, prepares in SQLite against the schema and names only its tables."""
    import random

    from distill.spirit import spirit_from_model
    from distill.student import build_model, model_config, train_tokenizer
    from distill.teachers.builtin import sql as teacher

    task = _sql_task()
    texts = [teacher.plan(kind, task, 1, 0.9, 0, i)["text"] + " " + teacher.plan(kind, task, 1, 0.9, 0, i)["target"]["sql"]
             for kind in teacher.KINDS for i in range(20)]
    tokenizer = train_tokenizer(texts, 600)
    student = {"arch": "llama", "hidden_size": 32, "layers": 1, "heads": 2, "kv_heads": 2, "intermediate_size": 64,
               "max_length": 112}
    spirit = spirit_from_model(build_model(model_config(student, tokenizer), seed=5), tokenizer,
                               {"task": task, "student": student})
    rng = random.Random(7)
    words = ["customers", "orders", "price", "Toronto", "gold", "how", "many", "total", "2024", "top", "3", "never",
             "average", "per", "city", "¿qué?", "DROP TABLE", "'", ";", "🙂", "select", "from", "name", "Maya Okafor"]
    _sql_answers(spirit, task, rng, words, 12, 8)

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


# ---------------------------------------------------------------- tool calling: decoding rules

CATALOG = [{"name": "get_weather", "parameters": {"city": {"type": "string"}, "date": {"type": "string"}}},
           {"name": "set_timer", "parameters": {"minutes": {"type": "integer"}}}]
SHOWN = ["get_weather", "set_timer"]


def _tool_valid(output, text="weather in Lisbon for 25 minutes", shown=SHOWN):
    return tool_call.output_validator(shown, CATALOG, text)(output)


def test_tool_name_must_be_offered():
    assert _tool_valid(" get_wea")
    assert not _tool_valid(" send_email")
    assert not _tool_valid(" get_weather {", shown=["set_timer"])


def test_argument_names_must_belong_to_the_tool():
    assert _tool_valid(' get_weather {"ci')
    assert not _tool_valid(' get_weather {"minutes')


def test_string_values_must_be_copied_from_the_text():
    assert _tool_valid(' get_weather {"city": "Lis')
    assert _tool_valid(' get_weather {"city": "lisbon"}')  # case aside
    assert not _tool_valid(' get_weather {"city": "Paris"}')
    assert not _tool_valid(' get_weather {"city": "Par')  # refused while still being typed
    assert not _tool_valid(' get_weather {"city": ""}')


def test_numbers_must_be_copied_from_the_text():
    assert _tool_valid(' set_timer {"minutes": 25}')
    assert not _tool_valid(' set_timer {"minutes": 30}')


def test_prediction_parsing_keeps_the_name_when_arguments_break():
    assert tool_call.parse_prediction(' get_weather {"city": "Lisbon"}') == {"name": "get_weather", "arguments": {"city": "Lisbon"}}
    assert tool_call.parse_prediction(" get_weather {oops")["arguments"] is None


# ---------------------------------------------------------------- tool calling: the teacher's answers


def _tool_task():
    import yaml

    needle = yaml.safe_load((ROOT / "recipes" / "needle.yaml").read_text())
    return {"type": "tool_call", "tools": [t for t in needle["task"]["tools"] if t["name"] in ("get_weather", "set_timer")]}


ITEM = {"text": "weather in Lisbon please"}
TOOL_ANSWERS = {
    "accepted": ({"name": "get_weather", "arguments": {"city": "Lisbon"}}, None),
    "unknown tool": ({"name": "get_news", "arguments": {}}, "unknown tool"),
    "arguments not an object": ({"name": "get_weather", "arguments": ["Lisbon"]}, "schema violation"),
    "unknown argument": ({"name": "get_weather", "arguments": {"city": "Lisbon", "zip": "1000"}}, "schema violation"),
    "enum value outside the enum": ({"name": "get_weather", "arguments": {"city": "Lisbon", "unit": "kelvin"}}, "schema violation"),
    "integer that is not an integer": ({"name": "set_timer", "arguments": {"minutes": "ten"}}, "schema violation"),
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
    return sql.output_validator(question)(output)


def test_sql_quoted_literals_must_come_from_the_question():
    assert _sql_valid("SELECT * FROM customers WHERE city = 'Lisbon'")
    assert _sql_valid("SELECT * FROM customers WHERE city = 'Lis")  # still typing
    assert not _sql_valid("SELECT * FROM customers WHERE city = 'Osaka'")


def test_sql_numbers_must_come_from_the_question():
    assert _sql_valid("SELECT * FROM orders WHERE total > 3")
    assert _sql_valid("SELECT * FROM orders LIMIT 1")  # 0 and 1 need no mention
    assert not _sql_valid("SELECT * FROM orders WHERE total > 7")
    assert not _sql_valid("SELECT * FROM orders WHERE total > 30")


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

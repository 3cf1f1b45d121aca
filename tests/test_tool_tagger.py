"""The encoder design for tool calling (tasks/tool_tagger.py): training labels line up with the
argument words, and a call is read from tag scores by type — no model needed for either."""
import datetime as dt

import numpy as np
import pytest

from distill.bases import resolve
from distill.recipe import load_recipe
from distill.tasks import tool_tagger
from distill.tasks.common import token_ranges
from distill.tasks.normalise import enum
from tests.conftest import ROOT

TODAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def task():
    return load_recipe(ROOT / "recipes" / "needle.yaml")["task"]


@pytest.fixture(scope="module")
def tokenizer():
    return resolve("minilm-l6", None).tokenizer()


def _example(text, name, arguments, surfaces, cues=None):
    target = {"name": name, "arguments": arguments, "surfaces": surfaces, "cues": cues or {}}
    return {"input": {"text": text}, "target": target}


def _tagged_words(tokenizer, task, example):
    """{tag kind: words} as the training labels mark them, read back through the token ranges."""
    names = tool_tagger.output_names(task)
    text = example["input"]["text"]
    ids, labels = tool_tagger.encode(tokenizer, example, task, {"max_length": 64})
    _, ranges = token_ranges(tokenizer, text)
    words = {}
    for (start, end), label in zip(ranges, labels[1:-1]):
        if label >= 0 and names[label] != "O":
            kind = names[label][2:]
            words[kind] = (words.get(kind, "") + " " + text[start:end]).strip()
    return names[labels[0]], words


def test_labels_mark_each_arguments_words_and_the_tool(tokenizer, task):
    example = _example("convert 75 swiss francs to euro please", "convert_currency",
                       {"amount": 75, "from_currency": "CHF", "to_currency": "EUR"},
                       {"amount": "75"}, {"from_currency": "swiss francs", "to_currency": "euro"})
    tool, words = _tagged_words(tokenizer, task, example)
    assert tool == "tool:convert_currency"
    assert words == {"amount": "75", "from_currency": "swiss francs", "to_currency": "euro"}


def test_a_boolean_is_tagged_with_its_value(tokenizer, task):
    example = _example("email sam about rent, not urgent", "send_email",
                       {"to": "sam", "subject": "rent", "urgent": False},
                       {"to": "sam", "subject": "rent"}, {"urgent": "not urgent"})
    _, words = _tagged_words(tokenizer, task, example)
    assert words["urgent=false"] == "not urgent" and words["to"] == "sam"


def test_a_withheld_tool_still_names_its_tool(tokenizer, task):
    """Whether a tool is offered is decided at pour time, so the catalog label stays the tool's."""
    example = _example("weather in Oslo", None, {}, {})
    example["withheld_call"] = {"name": "get_weather", "arguments": {"city": "Oslo"}, "surfaces": {"city": "Oslo"}}
    assert _tagged_words(tokenizer, task, example) == ("tool:get_weather", {"city": "Oslo"})
    assert _tagged_words(tokenizer, task, _example("hello there", None, {}, {})) == ("tool:none", {})


def _scores(tokenizer, task, text, tags):
    """Tag scores that put each listed word's tag first: {word index: tag}."""
    names = tool_tagger.output_names(task)
    ids, ranges = token_ranges(tokenizer, text)
    logits = np.zeros((len(ranges), len(names)), dtype=np.float32)
    logits[:, names.index("O")] = 1.0
    words = text.split()
    for index, tag in tags.items():
        start = sum(len(w) + 1 for w in words[:index])
        for t, (a, _) in enumerate(ranges):
            if start <= a < start + len(words[index]):
                logits[t, names.index(tag if a == start else "I-" + tag[2:])] = 5.0
    return ranges, logits, names


def test_tagged_words_are_read_as_typed_values(tokenizer, task):
    text = "change 75 swiss francs into japanese yen"
    tags = {1: "B-amount", 2: "B-from_currency", 3: "I-from_currency", 5: "B-to_currency", 6: "I-to_currency"}
    ranges, logits, names = _scores(tokenizer, task, text, tags)
    tool = next(t for t in task["tools"] if t["name"] == "convert_currency")
    assert tool_tagger.read_arguments(text, ranges, logits, names, tool, TODAY) == \
        {"amount": 75, "from_currency": "CHF", "to_currency": "JPY"}


def test_a_required_argument_nobody_tagged_is_no_call(tokenizer, task):
    text = "change some money"
    ranges, logits, names = _scores(tokenizer, task, text, {})
    tool = next(t for t in task["tools"] if t["name"] == "convert_currency")
    assert tool_tagger.read_arguments(text, ranges, logits, names, tool, TODAY) is None


def test_enum_words_name_their_value_by_synonym_or_longest_name():
    values = {"USD": ["dollars", "bucks"], "AUD": ["Australian dollars"], "JPY": ["yen"]}
    assert enum("Bucks", values) == "USD"
    assert enum("japanese yen", values) == "JPY"
    assert enum("australian dollars", values) == "AUD"
    assert enum("some dollars", values) == "USD"
    assert enum("yens", values) is None and enum("kroner", values) is None


def _viterbi(text, tags):
    """bio_viterbi over whitespace words whose best tag is given, the rest scoring lower."""
    from distill.tasks.common import bio_viterbi

    names = ["O", "B-query", "I-query"]
    ranges, start = [], 0
    for piece in text.split(" "):
        for part in ([piece[:-1], piece[-1]] if piece[-1] in "?'" else [piece]):
            ranges.append((start, start + len(part)))
            start += len(part)
        start += 1
    logits = np.zeros((len(ranges), 3), dtype=np.float32)
    for t, tag in enumerate(tags):
        logits[t, names.index(tag)] = 2.0
        if tag == "I-query":
            logits[t, names.index("B-query")] = 1.0  # a span's first word read as inside: B is second best
    return bio_viterbi(text, ranges, logits, names)


def test_tags_always_form_spans_and_keep_their_first_word():
    # "O I I" would drop "history": the best valid path starts the span there instead
    assert _viterbi("history of Rome", ["I-query", "I-query", "I-query"]) == ["B-query", "I-query", "I-query"]
    # punctuation stuck to a word neither decides its tag nor breaks a span ("kids' soccer", "thai?")
    assert _viterbi("kids' soccer thai?", ["B-query", "O", "I-query", "I-query", "O"]) == \
        ["B-query", "I-query", "I-query", "I-query", "O"]


def test_heads_are_read_against_the_day_the_mash_was_written():
    """"tuesday" in a Mash example means the Tuesday after TEACHING_TODAY, whenever the notes run;
    a field row carries its own day."""
    from distill.tasks.tool_call import TEACHING_TODAY, example_context

    assert example_context({"shown": ["get_weather"]}) == {"tools": ["get_weather"], "today": TEACHING_TODAY}
    assert example_context({"today": "2026-11-30"})["today"] == "2026-11-30"


def test_a_required_value_nobody_tagged_is_read_from_whole_words(tokenizer, task):
    """A misspelt "tomorow" is three word pieces; the fallback for a required date reads the whole
    word, not the first piece the scores point at."""
    text = "add team standup tomorow at 9am"
    ranges, logits, names = _scores(tokenizer, task, text, {1: "B-title", 2: "I-title"})
    first_piece = next(t for t, (a, _) in enumerate(ranges) if text[a:].startswith("tom"))
    assert text[slice(*ranges[first_piece])] == "tom"  # MiniLM's pieces: tom ##oro ##w
    logits[first_piece, names.index("B-date")] = 0.5  # likelier than anywhere else, though O wins
    tool = next(t for t in task["tools"] if t["name"] == "create_event")
    assert tool_tagger.read_arguments(text, ranges, logits, names, tool, TODAY) == \
        {"title": "team standup", "date": "2026-12-01"}

"""The encoder design for tool calling (tasks/tool_tagger.py): training labels line up with the
argument words, and a call is read from tag scores by type — no model needed for either."""
import datetime as dt
import re

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


def test_a_date_is_read_from_the_tagged_words_that_hold_one(tokenizer, task):
    """"tmrw 6" tagged as the date (6 to 8 pm) holds the date "tmrw"; a number is never cut: "15
    minutes" tagged as a time is not 15:00."""
    text = "pottery class tmrw 6 to 8 pm for 15 minutes"
    tags = {0: "B-title", 1: "I-title", 2: "B-date", 3: "I-date", 5: "B-time", 6: "I-time", 8: "B-time", 9: "I-time"}
    ranges, logits, names = _scores(tokenizer, task, text, tags)
    tool = next(t for t in task["tools"] if t["name"] == "create_event")
    assert tool_tagger.read_arguments(text, ranges, logits, names, tool, TODAY) == \
        {"date": "2026-12-01", "time": "20:00", "title": "pottery class"}
    del tags[5], tags[6]
    ranges, logits, names = _scores(tokenizer, task, text, tags)
    assert tool_tagger.read_arguments(text, ranges, logits, names, tool, TODAY) == \
        {"date": "2026-12-01", "title": "pottery class"}


def test_a_required_argument_nobody_tagged_is_no_call(tokenizer, task):
    text = "change some money"
    ranges, logits, names = _scores(tokenizer, task, text, {})
    tool = next(t for t in task["tools"] if t["name"] == "convert_currency")
    assert tool_tagger.read_arguments(text, ranges, logits, names, tool, TODAY) is None


class _ScoredSpirit:
    """A Spirit whose model gives fixed [CLS] tool scores and the given tags (a stand-in for the
    encoder, to see how predict() chooses the tool)."""

    def __init__(self, tokenizer, task, tool_scores, tag_logits):
        self.tokenizer, self.max_length, self.recipe = tokenizer, 64, {"task": task}
        self.names = tool_tagger.output_names(task)
        self.tool_scores, self.tag_logits = tool_scores, tag_logits

    def forward(self, ids):
        logits = np.zeros((len(ids), len(self.names)), dtype=np.float32)
        logits[1:-1] = self.tag_logits
        for name, score in self.tool_scores.items():
            logits[0, self.names.index(tool_tagger.TOOL_PREFIX + name)] = score
        return logits


def test_the_catalogs_words_weigh_in_the_tool_choice(tokenizer, task):
    """A head unsure between two tools takes the one whose own words the request uses; a sure
    head is not overruled, and whether to call at all is the head's alone."""
    text = "living room lights on"
    _, tag_logits, _ = _scores(tokenizer, task, text, {0: "B-room", 1: "I-room", 3: "B-state"})

    def chosen(scores):
        spirit = _ScoredSpirit(tokenizer, task, scores, tag_logits)
        return tool_tagger.predict(spirit, text, [tool["name"] for tool in task["tools"]], TODAY).get("name")

    assert chosen({"set_thermostat": 2.0, "control_lights": 1.8}) == "control_lights"
    assert chosen({"get_weather": 9.0, "control_lights": 1.8}) == "get_weather"
    assert chosen({"none": 2.1, "control_lights": 2.0}) is None
    weights = tool_tagger.catalog_match(task, text)
    assert len(weights) == len(task["tools"]) and weights.argmax() == [t["name"] for t in task["tools"]].index("control_lights")


def test_enum_words_name_their_value_by_synonym_or_longest_name():
    values = {"USD": ["dollars", "bucks"], "AUD": ["Australian dollars"], "JPY": ["yen"]}
    assert enum("Bucks", values) == "USD"
    assert enum("japanese yen", values) == "JPY"
    assert enum("australian dollars", values) == "AUD"
    assert enum("some dollars", values) == "USD"
    assert enum("kroner", values) is None


def test_enum_words_name_their_value_inflected():
    """People inflect the words an enum is named by: "my swim", "lights dimmed", "how humid"."""
    workouts = {"running": ["jogging"], "swimming": [], "strength training": ["lifting"], "walking": []}
    assert [enum(s, workouts) for s in ("my swim", "a 30 minute run", "walked", "lift")] == \
        ["swimming", "running", "walking", "strength training"]
    lights = {"on": ["turn on"], "off": ["kill"], "dim": ["low"], "closed": []}
    assert [enum(s, lights) for s in ("dimmed", "killed", "dims", "close", "muted")] == ["dim", "off", "dim", "closed", None]
    sensors = {"temperature": ["temp"], "humidity": [], "air quality": []}
    assert enum("how humid", sensors) == "humidity"
    # a longer word that only starts with the name is not it: "offer" is not off, "card" not car, "one" not on
    assert enum("offer", lights) is None and enum("card", {"car": []}) is None and enum("one", lights) is None
    assert enum("the lows", lights) == "dim" and enum("lowest", lights) is None


def test_a_temperature_is_read_in_its_parameters_scale():
    """A Recipe's `unit: celsius` (or fahrenheit) converts a temperature said in the other scale;
    the built-in teacher writes some that way and targets the converted value."""
    import random

    from distill.tasks.normalise import number
    from distill.teachers.builtin.tool_call import words_for

    celsius = {"type": "integer", "unit": "celsius", "minimum": 10, "maximum": 30}
    said = ["68F", "68 °F", "20 degrees celsius", "20", "twenty degrees", "70 f", "68F or 20C"]
    assert [number(s, True, "celsius") for s in said] == [20, 20, 20, 20, 20, 21, None]
    assert number("20C", False, "fahrenheit") == 68 and number("21 celsius", False, "fahrenheit") == 69.8
    assert number("68F", True) == 68 and number("67 fahrenheit", True) == 67  # no unit: the number as said
    rng = random.Random(0)
    drawn = [words_for(rng, "temperature", celsius) for _ in range(300)]
    converted = [(int(re.match(r"\d+", words).group()), value) for words, value in drawn if re.search(r"F$|fahrenheit", words)]
    assert 40 < len(converted) < 150 and all(10 <= value <= 30 for _, value in drawn)
    assert all(value == round((degrees - 32) * 5 / 9) for degrees, value in converted)


def test_a_number_is_read_from_the_parameters_own_words():
    """`words` names numbers as people say them ("blinds halfway", "mute the speaker"); digits still read."""
    from distill.tasks.normalise import value

    position = {"type": "integer", "words": {"closed": 0, "halfway": 50, "all the way": 100, "mute": 0}}
    said = ["halfway", "all the way", "close them halfway", "muted", "40 percent", "closed", "ajar"]
    assert [value(position, s, TODAY) for s in said] == [50, 100, 50, 0, 40, 0, None]
    assert value({"type": "number", "words": {"a pinch": 0.25}}, "a pinch", TODAY) == 0.25


def test_a_duration_runs_on_into_a_half(tokenizer, task):
    """"an hour and a half": tagged as two runs either side of "and", read as one value (90)."""
    text = "start a countdown for an hour and a half for the roast"  # token 4 "an" ... 8 "half", 11 "roast"
    tool = next(t for t in task["tools"] if t["name"] == "set_timer")
    tags = {4: "B-minutes", 5: "I-minutes", 7: "B-minutes", 8: "I-minutes", 11: "B-label"}
    ranges, logits, names = _scores(tokenizer, task, text, tags)
    assert [text[a:b] for a, b in ranges][4:12] == ["an", "hour", "and", "a", "half", "for", "the", "roast"]
    assert tool_tagger.read_arguments(text, ranges, logits, names, tool, TODAY) == {"minutes": 90, "label": "roast"}


def test_a_required_date_no_score_points_at_is_read_where_words_say_one(tokenizer, task):
    """"tomorow" untagged and its date scores below three other words': a date is looked for at
    every position (a string is not: any words read as one)."""
    text = "add team standup tomorow at 9am for 15 minutes"
    ranges, logits, names = _scores(tokenizer, task, text, {1: "B-title", 2: "I-title"})
    words = [t for t, (a, _) in enumerate(ranges) if text[a:].startswith(("9", "15", "minutes", "add"))]
    for rank, t in enumerate(words):
        logits[t, names.index("B-date")] = 0.9 - rank / 10  # likelier than "tomorow", though O wins
    tool = next(t for t in task["tools"] if t["name"] == "create_event")
    assert tool_tagger.read_arguments(text, ranges, logits, names, tool, TODAY) == \
        {"title": "team standup", "date": "2026-12-01"}


def test_a_named_holiday_is_its_next_date():
    from distill.tasks.normalise import value

    day = {"type": "date"}
    said = ["christmas eve", "on New Year's Eve", "new years day", "Valentine's Day", "halloween", "xmas party"]
    assert [value(day, s, TODAY) for s in said] == ["2026-12-24", "2026-12-31", "2027-01-01", "2027-02-14", "2027-10-31", None]


def test_the_teacher_says_some_numbers_as_the_parameters_words():
    """A third or so of blinds positions are said as words ("shut", "halfway"), targeting their
    number, and never followed by the unit the phrasing writes after digits."""
    from distill.teachers.builtin.tool_call import plan

    tool = {"name": "set_blinds", "description": "Move the blinds.", "phrasings": ["open the {room} blinds to {position} percent",
            "blinds {position}% in the {room}"],
            "parameters": {"room": {"type": "string", "required": True, "examples": ["kitchen"]},
                           "position": {"type": "integer", "required": True, "minimum": 0, "maximum": 100,
                                        "words": {"shut": 0, "halfway": 50, "all the way": 100}}}}
    examples = [plan(tool, 7, 0.7, 0, i) for i in range(200)]
    said = [e for e in examples if any(w in e["text"].lower() for w in tool["parameters"]["position"]["words"])]
    assert 30 < len(said) < 100
    for example in said:
        word = next(w for w in ("shut", "halfway", "all the way") if w in example["text"].lower())
        assert example["target"]["arguments"]["position"] == tool["parameters"]["position"]["words"][word]
        assert not re.search(rf"{word}\s*(%|percent)", example["text"], re.I), example["text"]


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

"""API teachers through their real SDK clients against loopback servers that speak each wire
protocol, with faults injected: 429 + Retry-After, 500/503, a hang past the timeout, a dropped
connection, a truncated body, invalid JSON and schema-violating answers."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from distill.build import Build, recipe_keys
from distill.errors import DistillError
from distill.recipe import load_recipe
from distill.store import Store
from distill.tasks.tool_call import NONE, shard_size
from tests.conftest import ROOT, tiny_recipe_data
from tests.wire_servers import WireServer

PROVIDERS = {"openai": ("gpt-4o", "OPENAI_API_KEY", "/v1"), "anthropic": ("claude-sonnet-5", "ANTHROPIC_API_KEY", ""),
             "gemini": ("gemini-2.5-flash", "GEMINI_API_KEY", "")}


def _recipe(tmp_path, provider, url, per_category=6, **teacher):
    model, _, suffix = PROVIDERS[provider]
    data = tiny_recipe_data(("get_weather", "set_timer"))
    data["mash"] = {"examples_per_category": per_category, "inputs_per_request": 3}
    data["teacher"] = {"provider": provider, "model": model, "base_url": url + suffix, "timeout_s": 0.5,
                       "max_retries": 6, "concurrency": 2, "backoff_s": 0.01, **teacher}
    path = tmp_path / "api.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_recipe(path)


@pytest.fixture(autouse=True)
def fake_keys(monkeypatch):
    for _, variable, _ in PROVIDERS.values():
        monkeypatch.setenv(variable, "sk-test-not-a-real-key")


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_faults_are_retried_and_the_mash_is_complete(tmp_path, provider):
    with WireServer(hang_s=1.5) as server:
        server.faults = ["429", "500", "503", "hang", "drop", "truncated"]
        recipe = _recipe(tmp_path, provider, server.url, concurrency=1)
        build = Build(recipe, Store(tmp_path / "store"))
        keys, store = build.keys, build.store
        build.run("mash")
        examples = build.load("mash")
        assert len(examples) == 13  # 6 per tool, and 1 request no tool serves (task.no_call 0.1)
        assert {ex["target"]["name"] for ex in examples} == {"get_weather", "set_timer", None}
        stats = [store.manifest("mash", k)["stats"] for k in keys.shards.values()]
        useful = sum(s["requests"] for s in stats)
        assert len(server.requests) == useful + 6  # every fault cost exactly one retried request
        assert all(s["input_tokens"] > 0 and s["teacher_models"] for s in stats)
        assert "sk-test" not in json.dumps([store.manifest("mash", k) for k in keys.shards.values()])


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_invalid_and_schema_violating_answers_are_counted(tmp_path, provider):
    with WireServer() as server:
        server.faults = ["badjson", "schema"]
        recipe = _recipe(tmp_path, provider, server.url, concurrency=1)
        build = Build(recipe, Store(tmp_path / "store"))
        keys, store = build.keys, build.store
        build.run("mash")
        rejected = {}
        for key in keys.shards.values():
            for reason, n in store.manifest("mash", key)["stats"]["rejected"].items():
                rejected[reason] = rejected.get(reason, 0) + n
        assert rejected.get("invalid JSON", 0) >= 1
        assert len(build.load("mash")) == 13  # more requests filled the gap


def test_missing_key_fails_before_any_request(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with WireServer() as server:
        recipe = _recipe(tmp_path, "anthropic", server.url)
        with pytest.raises(DistillError, match="set ANTHROPIC_API_KEY"):
            Build(recipe, Store(tmp_path / "store")).run("mash")
        assert server.requests == []


def test_rebuild_from_cache_costs_nothing_and_is_byte_identical(tmp_path):
    with WireServer() as server:
        recipe = _recipe(tmp_path, "openai", server.url)
        build = Build(recipe, Store(tmp_path / "root"))
        keys, store = build.keys, build.store
        build.run("mash")
        first = {k: (store.path("mash", k) / "shard.jsonl").read_bytes() for k in keys.shards.values()}
        seen = len(server.requests)
        shutil.rmtree(tmp_path / "root" / "store")  # the artifacts go; the response cache stays
        assert build.run("mash")["requests"] == 0
        assert len(server.requests) == seen
        assert {k: (store.path("mash", k) / "shard.jsonl").read_bytes() for k in keys.shards.values()} == first


def test_operational_settings_stay_out_of_the_key(tmp_path):
    a = recipe_keys(_recipe(tmp_path, "openai", "http://127.0.0.1:1", concurrency=1))
    b = recipe_keys(_recipe(tmp_path, "openai", "http://127.0.0.1:2", concurrency=8, requests_per_minute=5))
    c = recipe_keys(_recipe(tmp_path, "openai", "http://127.0.0.1:1", temperature=0.2))
    assert a.shards == b.shards and a.shards != c.shards


def test_killed_mash_resumes_without_repeating_a_received_answer(tmp_path):
    with WireServer(latency_s=0.05) as server:
        recipe = _recipe(tmp_path, "openai", server.url, per_category=30, concurrency=2)
        script = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from distill.build import Build; "
                  f"Build.from_path({str(recipe.path)!r}, {str(tmp_path / 'root')!r}).run('mash')")
        env = dict(os.environ, DISTILL_PROGRESS="off")
        proc = subprocess.Popen([sys.executable, "-c", script], env=env)
        deadline = time.time() + 60
        while len(server.answered) < 25 and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        answered_before = set(server.answered)
        requests_before = len(server.requests)
        assert 0 < len(answered_before) and not Store(tmp_path / "root").has("mash", list(recipe_keys(recipe).shards.values())[-1])
        build = Build(recipe, Store(tmp_path / "root"))
        build.run("mash")
        repeated = set(server.requests[requests_before:]) & answered_before
        assert len(repeated) <= 2  # at most the answers in flight when the kill landed (concurrency 2)
        examples = build.load("mash")
        assert len(examples) == 60 + shard_size({"name": NONE, "share": 0.1}, 30, 3)  # two tools, 10% no-call
        assert len({example["id"] for example in examples}) == len(examples)


@pytest.mark.parametrize("workers", [1, 8])
def test_concurrency_keeps_that_many_requests_in_flight(tmp_path, workers):
    """teacher.concurrency is what the server sees at once (measured there, not by a clock here)."""
    with WireServer(latency_s=0.05) as server:
        recipe = _recipe(tmp_path, "openai", server.url, per_category=12, concurrency=workers)
        Build(recipe, Store(tmp_path / "root")).run("mash")
        assert server.max_in_flight == workers


def test_no_call_requests_skip_what_the_catalog_serves():
    """Questions of fact are "no call" for a catalog without a search tool, and never for one with
    it; no request's words name one of the catalog's tools (changing what exists, "cancel the
    timer", is no call unless the catalog has that verb)."""
    import random

    from distill.teachers.builtin.tool_call import no_call_words

    facts = ("capital of", "who wrote", "calories", "founded", "who won", "how tall", "good for you", "sky blue")

    def drawn(tools):
        rng = random.Random(5)
        return [no_call_words(rng, tools, ["check the weather in {city}"]) for _ in range(2000)]

    plain = drawn(["get_weather", "set_timer"])
    assert sum(any(f in text for f in facts) for text in plain) > 20
    assert not any("weather" in text for text in plain)
    with_search = drawn(["get_weather", "set_timer", "web_search"])
    assert not any(any(f in text for f in facts) for text in with_search)
    assert not any("search" in text for text in with_search)


def test_slot_only_phrasings_do_not_veto_near_misses():
    """A phrasing of slots and function words ("{amount} {from} to {to}") matches nearly any request
    with a "to" in it; it must not keep "book a flight to Denver" out of the no-call shard, while a
    phrasing with words of its own still keeps out what it could have written."""
    import random

    from distill.teachers.builtin.tool_call import no_call_words

    rng = random.Random(11)
    tools = ["convert_currency", "create_event"]
    drawn = [no_call_words(rng, tools, ["{amount} {from_currency} to {to_currency}", "put {title} on my calendar"])
             for _ in range(3000)]
    assert sum(" flight to " in text for text in drawn) > 5
    assert sum(text.startswith(("remove ", "take ", "cross ")) for text in drawn) > 5
    anchored = [no_call_words(rng, tools, ["{what} flight to {city}"]) for _ in range(3000)]
    assert not any(" flight to " in text for text in anchored)


def test_a_requests_verb_names_a_tool_only_as_that_tools_verb():
    """Beside translate_text and send_email, "text Jake that..." and "send 20 dollars to Sam" are
    near misses the no-call shard must hold ("text" is translate_text's object, "send" a verb of every
    kind of tool); beside lock_door, "lock the car" is not written as no call."""
    import random

    from distill.teachers.builtin.tool_call import no_call_words

    rng = random.Random(7)
    tools = ["translate_text", "send_email", "home.lock_door"]
    drawn = [no_call_words(rng, tools, [], ["Translate text.", "Send an email.", "Lock a door."]) for _ in range(4000)]
    assert sum(text.startswith("text ") for text in drawn) > 5
    assert sum(text.startswith("send ") and "dollars" in text for text in drawn) > 5
    assert not any(text.startswith(("lock ", "unlock ")) for text in drawn)


def test_small_talk_is_more_than_a_list_of_lines():
    """Small talk is put together from parts: thousands of draws give hundreds of distinct lines, not
    the few dozen a model learns by heart ("hello", "thanks!") and then calls a tool for "sorry,
    wrong button"."""
    import random

    from distill.teachers.builtin.tool_call import small_talk

    rng = random.Random(1)
    lines = {small_talk(rng) for _ in range(3000)}
    assert len(lines) > 300
    assert not any("{" in line for line in lines)


def test_no_call_requests_skip_what_the_catalog_describes():
    """Beside tools described as booking tables, hailing rides and moving money, "reserve a table
    for two", "an uber to the airport" and "venmo Sam 20 bucks" are not written as no-call requests
    (their words need not name the tool), while "book a haircut" still is; a catalog without such
    tools gets them all."""
    import random

    from distill.teachers.builtin.tool_call import no_call_words

    def drawn(tools, descriptions):
        rng = random.Random(3)
        return [no_call_words(rng, tools, [], descriptions) for _ in range(4000)]

    served_elsewhere = ("table for", "uber", "venmo", "pay ")
    plain = drawn(["get_weather", "set_timer"], ["Forecast for a place.", "Start a countdown timer."])
    assert all(sum(words in text for text in plain) > 5 for words in served_elsewhere)
    served = drawn(["get_weather", "dining.find_spot", "cars.hail", "wallet.send"],
                   ["Forecast for a place.", "Reserve a table at a restaurant.", "Request a ride to a place.",
                    "Send money to a person."])
    assert not any(words in text for text in served for words in served_elsewhere)
    assert sum("haircut" in text for text in served) > 5


def test_a_change_is_no_call_unless_a_tool_makes_that_change_to_that_object():
    """Beside cancel_meeting, "cancel the reminder about the dentist" is a near miss the no-call shard
    must hold, while "cancel the 3pm meeting" is cancel_meeting's and is never written as no call."""
    import random

    from distill.teachers.builtin.tool_call import no_call_words

    rng = random.Random(2)
    drawn = [no_call_words(rng, ["office.cancel_meeting", "get_weather"], [], ["Cancel a meeting.", "Forecast."])
             for _ in range(6000)]
    cancels = [text for text in drawn if text.startswith("cancel ") and text != "cancel that"]
    assert len(cancels) > 10
    assert not any("meeting" in text for text in cancels)


def test_tickets_and_apps_are_served_only_by_a_tool_for_them():
    """A description's "train tickets" or "notes app" serves no "tickets for the Lakers game" or
    "download TikTok": those stay no-call requests. A tool named for tickets or apps serves them."""
    import random

    from distill.teachers.builtin.tool_call import no_call_words

    def drawn(tools, descriptions):
        rng = random.Random(4)
        return [no_call_words(rng, tools, [], descriptions) for _ in range(4000)]

    asked = ("tickets for", "download ")
    described = drawn(["travel.book_train", "office.save_note"], ["Book train tickets to a city.", "Save to the notes app."])
    assert all(sum(words in text for text in described) > 5 for words in asked)
    named = drawn(["events.buy_tickets", "phone.install_app"], ["Buy tickets for a show.", "Install an app."])
    assert not any(words in text for text in named for words in asked)


def test_the_pii_teacher_writes_tickets_with_several_kinds_of_personal_data():
    """Real tickets give a name, an address and a phone together; about half the built-in teacher's
    examples with personal data hold two kinds or more, and every span is exactly its text."""
    from distill.teachers.builtin import ner

    entity_types = load_recipe(ROOT / "recipes" / "pii.yaml")["task"]["entity_types"]
    kinds_per_example = []
    for entity in entity_types:
        for item in range(100):
            example = ner.plan(entity, entity_types, 13, 1.0, 0, item)
            spans = example["target"]["spans"]
            assert all(example["text"][s["start"]:s["end"]] == s["text"] for s in spans)
            kinds_per_example.append(len({s["type"] for s in spans}))
    several = sum(k >= 2 for k in kinds_per_example) / len(kinds_per_example)
    assert 0.4 < several < 0.7 and sum(k >= 3 for k in kinds_per_example) / len(kinds_per_example) > 0.1


def test_a_parameter_whose_examples_hold_a_street_address_gets_unlisted_street_addresses():
    """Needle's destination lists "42 Elm Street": people also say "1600 Amphitheatre Parkway", which
    the Still read as a thermostat setting when its Mash held only named places. A parameter whose
    examples are cities (a flight's origin) never gets one."""
    import re

    from distill.teachers.builtin.tool_call import plan

    needle = yaml.safe_load((ROOT / "recipes" / "needle.yaml").read_text())
    tools = {tool["name"]: tool for tool in needle["task"]["tools"]}
    street = re.compile(r"^\d+ \w+ \w+")

    def values(tool, parameter):
        calls = [plan(tools[tool], 7, 0.9, 0, item)["target"] for item in range(600)]
        return [call["arguments"][parameter] for call in calls if parameter in call.get("arguments", {})]

    destinations = values("get_directions", "destination")
    unlisted = [v for v in destinations if street.match(v) and v not in tools["get_directions"]["parameters"]["destination"]["examples"]]
    assert len(set(unlisted)) > 0.1 * len(destinations)
    assert not any(street.match(v) for v in values("get_weather", "city"))

"""The built-in teacher's Mash and the Cuts made from it (no training: runs in about a second)."""
import json

import pytest

from distill.build import Build
from distill.recipe import load_recipe
from distill.stages.cuts import _shingles, split
from distill.store import Store
from distill.tasks import task_type
from distill.tasks.tool_call import NONE
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def needle_mash(tmp_path_factory):
    build = Build(load_recipe(ROOT / "recipes" / "needle.yaml"), Store(tmp_path_factory.mktemp("store")))
    summary = build.run("mash")
    return build, summary


def test_mash_has_the_requested_size_and_is_diverse(needle_mash):
    build, summary = needle_mash
    recipe, keys, store = build.recipe, build.keys, build.store
    examples = build.load("mash")
    per_tool = recipe["mash"]["examples_per_category"]
    calls = [ex for ex in examples if ex["category"] != NONE]
    assert len(calls) == len(recipe["task"]["tools"]) * per_tool >= 2000
    none_share = (len(examples) - len(calls)) / len(examples)
    assert abs(none_share - recipe["task"]["no_call"]) < 0.01  # the requested share of requests no tool serves
    texts = [ex["input"]["text"] for ex in examples]
    assert len(set(texts)) == len(texts)
    skeletons = {task_type("tool_call").skeleton(ex) for ex in examples}
    assert len(skeletons) / len(examples) > 0.5  # wording varies, not just slot values
    for name, key in keys.shards.items():
        stats = store.manifest("mash", key)["stats"]
        # few repeats to throw away: chit-chat (the no-call shard) has fewer shapes than tool requests
        assert stats["distinct_input_share"] > (0.6 if name == NONE else 0.85)
        assert stats["requests"] > stats["accepted"]  # inputs and targets are separate requests


def test_mash_is_deterministic_and_sharded(needle_mash, tmp_path):
    build, summary = needle_mash
    keys, store = build.keys, build.store
    assert summary["built"] == len(keys.shards)
    again = Build(build.recipe, Store(tmp_path))
    again.run("mash")
    for key in keys.shards.values():
        a = (store.path("mash", key) / "shard.jsonl").read_bytes()
        assert a == (again.store.path("mash", key) / "shard.jsonl").read_bytes()
    assert again.run("mash") == {"built": 0, "requests": 0}


def test_targets_match_the_catalog(needle_mash):
    build, _ = needle_mash
    tools = {t["name"]: t for t in build.recipe["task"]["tools"]}
    for ex in build.load("mash"):
        if ex["category"] == NONE:
            assert ex["target"] == {"name": None} and ex["input"]["text"].strip()
            continue
        params = tools[ex["target"]["name"]]["parameters"]
        assert set(ex["target"]["arguments"]) <= set(params)
        assert all(name in ex["target"]["arguments"] for name, p in params.items() if p.get("required"))
        assert json.dumps(ex["target"]) not in ex["input"]["text"]


def test_cuts_split_without_straddling(needle_mash):
    build, _ = needle_mash
    recipe = build.recipe
    module = task_type("tool_call")
    examples = sorted(build.load("mash"), key=lambda e: e["id"])
    # a teacher's slip, planted: an argument whose words the request does not hold goes to the tails
    slip = next(ex for ex in examples if ex["target"].get("surfaces"))
    slip = {**slip, "id": "f" * 16, "target": {**slip["target"], "surfaces": {"city": "Atlantis"}}}
    result = split(examples + [slip], recipe)
    hearts, heads, tails = result["hearts"], result["heads"], result["tails"]
    total = len(hearts) + len(heads) + len(tails)
    assert 0.07 < len(heads) / total < 0.14
    assert "f" * 16 in {t["id"] for t in tails} and all(t["tail_reason"] for t in tails)
    # whole phrasings held out: none of their examples trains
    held = set(result["summary"]["heldout_phrasings"])
    assert held and not any(ex["meta"]["phrasing"] in held for ex in hearts)
    assert sum(ex["unseen_phrasing"] for ex in heads) > 20
    # no exact or near-duplicate wording on both sides
    threshold = recipe["cuts"]["near_duplicate_jaccard"]
    heart_sets = {}
    for ex in hearts:
        heart_sets.setdefault(ex["category"], []).append(_shingles(module.near_duplicate_text(ex)))
    for ex in heads:
        s = _shingles(module.near_duplicate_text(ex))
        for h in heart_sets.get(ex["category"], []):
            assert len(s & h) / len(s | h) < threshold
    # the student sees the right tool among distractors, or (withheld) only others: then no call
    for ex in hearts + heads:
        assert len(ex["shown"]) >= 2
        if ex.get("withheld_call"):
            assert ex["target"] == {"name": None} and ex["withheld_call"]["name"] not in ex["shown"]
        elif ex["category"] != NONE:
            assert ex["target"]["name"] in ex["shown"] and len(ex["shown"]) >= 3
    assert any(ex.get("withheld_call") for ex in hearts) and any(ex["category"] == NONE for ex in heads)


def test_split_is_stable_when_the_mash_grows(needle_mash, tmp_path):
    build, _ = needle_mash
    recipe = build.recipe
    examples = sorted(build.load("mash"), key=lambda e: e["id"])
    first = split(examples[: len(examples) * 3 // 4], recipe)
    second = split(examples, recipe)
    side = {ex["id"]: name for name in ("hearts", "heads", "tails") for ex in second[name]}
    moved = sum(side[ex["id"]] != name for name in ("hearts", "heads", "tails") for ex in first[name])
    assert moved / (len(examples) * 3 // 4) < 0.02


def test_mapping_order_in_the_yaml_changes_nothing(tmp_path):
    """Keys hash mappings with sorted keys, so what is built must not depend on their order."""
    import yaml

    from tests.conftest import tiny_recipe_data

    data = tiny_recipe_data()
    flipped = tiny_recipe_data()
    for tool in flipped["task"]["tools"]:
        tool["parameters"] = dict(reversed(list(tool["parameters"].items())))
        for param in tool["parameters"].values():
            if isinstance(param.get("values"), dict):  # an enum's values and their synonyms
                param["values"] = dict(reversed(list(param["values"].items())))
    shards = []
    for name, recipe_data in (("a", data), ("b", flipped)):
        path = tmp_path / name / "tiny.yaml"
        path.parent.mkdir()
        path.write_text(yaml.safe_dump(recipe_data, sort_keys=False))
        build = Build(load_recipe(path), Store(tmp_path / name / "store"))
        build.run("mash")
        shards.append({k: (build.store.path("mash", k) / "shard.jsonl").read_bytes() for k in build.keys.shards.values()})
    assert shards[0] == shards[1]

"""Keys: golden values, and which Recipe edits move which keys."""
import copy

import yaml

from distill.build import recipe_keys
from distill.hashing import canonical_json, digest, stage_key
from distill.recipe import load_recipe
from distill.tasks.tool_call import NONE
from tests.conftest import tiny_recipe_data


def test_canonical_json_is_one_spelling():
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})


def test_golden_values():
    # Changing these means every artifact in every store is invalidated: bump a STAGE_VERSION instead.
    assert digest(b"") == "99aa06d3014798d86001c324468d497f"  # the published XXH3-128 of empty input
    assert digest(b"distillarium") == "e8f436ea1d7705268554cd25bc4b347c"
    assert stage_key("mash", {"x": 1}) == "67794d17bd6abc0ccb4b7ea5d76244c3"  # mash version 2
    assert stage_key("still", {"lr": 0.0003}, ["abc"]) == "38ea7af315b2e875b50f08ab13da3c8c"  # still version 5


def _write(tmp_path, name, data):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_recipe(path)


def test_writing_a_default_explicitly_changes_nothing(tmp_path):
    data = tiny_recipe_data()
    base = _write(tmp_path, "a", data)
    explicit = copy.deepcopy(data)
    explicit["still"]["weight_decay"] = 0.01
    explicit["teacher"] = {"provider": "builtin", "temperature": 0.9}
    other = _write(tmp_path, "a2", {**explicit, "name": "a"})
    assert base.hash == other.hash
    assert recipe_keys(base) == recipe_keys(other)


def test_training_edit_keeps_mash_and_cuts(tmp_path):
    data = tiny_recipe_data()
    base = recipe_keys(_write(tmp_path, "a", data))
    data["still"]["lr"] = 0.001
    edited = recipe_keys(_write(tmp_path, "b", data))
    assert edited.shards == base.shards and edited.cuts == base.cuts
    assert edited.still != base.still and edited.notes != base.notes


def test_the_still_seed_trains_another_still_from_the_same_mash(tmp_path):
    data = tiny_recipe_data()
    base = recipe_keys(_write(tmp_path, "a", data))
    data["still"]["seed"] = data["seed"]  # the default written out
    assert recipe_keys(_write(tmp_path, "b", {**data, "name": "a"})) == base
    data["still"]["seed"] = data["seed"] + 1
    other = recipe_keys(_write(tmp_path, "c", data))
    assert other.shards == base.shards and other.cuts == base.cuts
    assert other.still != base.still


def test_operational_teacher_settings_stay_out_of_the_mash_key(tmp_path):
    data = tiny_recipe_data()
    base = recipe_keys(_write(tmp_path, "a", data))
    data["teacher"] = {"concurrency": 32, "timeout_s": 5, "max_retries": 1, "requests_per_minute": 60}
    assert recipe_keys(_write(tmp_path, "b", data)).shards == base.shards
    data["teacher"] = {"temperature": 0.5}
    assert recipe_keys(_write(tmp_path, "c", data)).shards != base.shards


def test_the_device_stays_out_of_the_still_key(tmp_path, monkeypatch):
    """A Spirit trained on a GPU is the same artifact as one trained on the CPU (within tolerance)."""
    data = tiny_recipe_data()
    base = recipe_keys(_write(tmp_path, "a", data))
    data["still"]["device"] = "cuda"
    on_gpu = recipe_keys(_write(tmp_path, "b", data))
    assert (on_gpu.cuts, on_gpu.still, on_gpu.notes) == (base.cuts, base.still, base.notes)
    monkeypatch.setenv("DISTILL_DEVICE", "cuda")
    monkeypatch.setenv("DISTILL_NPROC", "4")
    assert recipe_keys(_write(tmp_path, "a2", {**tiny_recipe_data(), "name": "a"})) == base


def test_new_decoding_re_measures_without_retraining(tmp_path, monkeypatch):
    """A task's decoding version is in the notes key: changed decoding rules re-measure the proofs
    (and re-taste the bottles) from the cached Still instead of keeping notes it no longer answers."""
    from distill.tasks import tool_call

    recipe = _write(tmp_path, "a", tiny_recipe_data())
    base = recipe_keys(recipe)
    monkeypatch.setattr(tool_call, "DECODING_VERSION", tool_call.DECODING_VERSION + 1)
    decoded = recipe_keys(recipe)
    assert (decoded.shards, decoded.cuts, decoded.still) == (base.shards, base.cuts, base.still)
    assert decoded.notes != base.notes and set(decoded.bottles.values()).isdisjoint(base.bottles.values())


def test_description_is_not_hashed(tmp_path):
    data = tiny_recipe_data()
    a = _write(tmp_path, "a", data)
    data["description"] = "something else entirely"
    assert _write(tmp_path, "a2", {**data, "name": "a"}).hash == a.hash


def test_adding_a_tool_adds_one_shard(tmp_path):
    small = recipe_keys(_write(tmp_path, "a", tiny_recipe_data(("get_weather", "set_timer"))))
    big = recipe_keys(_write(tmp_path, "b", tiny_recipe_data(("get_weather", "set_timer", "play_music"))))
    assert set(big.shards) - set(small.shards) == {"play_music"}
    # every tool's shard is reused; the no-call shard is not: what no tool serves depends on the catalog
    assert {name for name, key in small.shards.items() if big.shards[name] != key} == {NONE}
    assert big.cuts != small.cuts  # distractors depend on the whole catalog


def test_shipped_recipes_keep_their_keys():
    """Moving code must not move keys (a stored Mash cost money). A deliberate change to what a
    stage produces bumps a version and updates tests/golden_keys.json in the same commit."""
    import json
    from pathlib import Path

    from distill.recipe import load_recipes

    golden = json.loads((Path(__file__).parent / "golden_keys.json").read_text())
    recipes, errors = load_recipes(Path(__file__).resolve().parent.parent / "recipes")
    assert not errors
    for recipe in recipes:
        keys = recipe_keys(recipe)
        assert {"recipe": recipe.hash, "mash": keys.shards, "cuts": keys.cuts, "still": keys.still,
                "notes": keys.notes, "bottle": keys.bottles} == golden[recipe.name], recipe.name

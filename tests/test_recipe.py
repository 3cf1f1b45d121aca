"""Recipe validation and forks: one clear line naming file, line and field; never a traceback."""
import json
import shutil

import pytest
import yaml

from distill.errors import RecipeError
from distill.recipe import load_recipe
from tests.conftest import ROOT, run_cli, run_doit, tiny_recipe_data

BROKEN = {
    "unknown key": ("fork: needle\nstill:\n  lrr: 0.1\n", 3, "still.lrr", "unknown key 'lrr'; valid keys:"),
    "wrong type": ("fork: needle\nstill:\n  epochs: many\n", 3, "still.epochs", "'many' is not of type 'integer'"),
    "bad value": ("fork: needle\nstill: {lr: -1}\n", 2, "still.lr", "minimum of 0"),
    "seed too large": ("fork: needle\nstill: {seed: 99999999999999}\n", 2, "still.seed", "maximum of 2147483647"),
    "bad enum": ("fork: needle\nteacher: {provider: gpt5}\n", 2, "teacher.provider", "use one of"),
    "missing parent": ("fork: nedle\n", 1, "fork", "parent recipe 'nedle' not found"),
    "yaml syntax": ("fork: needle\nstill:\n  epochs: [1\n", 4, None, "YAML syntax error"),
    "bad phrasing slot": (None, None, "task.tools[0].phrasings[0]", "slot {town} is not a parameter"),
    "number word out of range": (None, None, "task.tools[1].parameters.minutes.words.all day",
                                 "1440 does not fit the parameter's type integer and range"),
    "words on a string": (None, None, "task.tools[0].parameters.city", "'words' belongs to integer and number parameters"),
    "phrasing dangles": (None, None, "task.tools[0].phrasings[0]",
                         "without its optional end it reads \"weather in the\", ending in 'the'"),
}
MUTATIONS = {  # the tiny recipe's tools: get_weather, set_timer, ...
    "bad phrasing slot": lambda tools: tools[0]["phrasings"].__setitem__(0, "weather in {town}"),
    "number word out of range": lambda tools: tools[1]["parameters"]["minutes"].update(words={"all day": 1440}),
    "words on a string": lambda tools: tools[0]["parameters"]["city"].update(words={"home": 1}),
    "phrasing dangles": lambda tools: tools[0]["phrasings"].__setitem__(0, "weather in the[ {city}]"),
}


def _write_broken(folder, case):
    text = BROKEN[case][0]
    if text is None:
        data = tiny_recipe_data()
        MUTATIONS[case](data["task"]["tools"])
        text = yaml.safe_dump(data, sort_keys=False)
    (folder / "needle.yaml").write_text((ROOT / "recipes" / "needle.yaml").read_text())
    shutil.copytree(ROOT / "recipes" / "field", folder / "field")  # needle's proof.field, relative to it
    path = folder / "x.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_recipe_names_file_line_and_field(tmp_path, case):
    path = _write_broken(tmp_path, case)
    _, line, field, problem = BROKEN[case]
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}" if line else str(path)), message
    if field:
        assert f" {field}:" in message
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize("case", ["unknown key", "missing parent", "yaml syntax"])
def test_cli_and_doit_print_one_line_and_the_others_still_build(tmp_path, monkeypatch, case):
    """One broken Recipe is one line; `doit list` still lists every other Recipe of the folder."""
    path = _write_broken(tmp_path, case)
    cli = run_cli("validate", str(path))
    assert cli.returncode == 2
    assert cli.stderr.count("\n") == 1 and "Traceback" not in cli.stderr and str(path) in cli.stderr

    monkeypatch.setenv("DISTILL_RECIPES", str(tmp_path))
    monkeypatch.setenv("DISTILL_STORE", str(tmp_path / "store"))
    doit = run_doit("list", "--all", cwd=tmp_path)
    assert doit.returncode == 0, doit.stderr
    assert "Traceback" not in doit.stderr and str(path) in doit.stderr
    assert doit.stderr.strip().count("\n") == 0
    assert "bottle:needle-onnx" in doit.stdout and "x" not in {line.split(":")[-1].split()[0]
                                                               for line in doit.stdout.splitlines() if ":" in line}


def test_shipped_recipes_validate():
    result = run_cli("validate", *map(str, sorted((ROOT / "recipes").glob("*.yaml"))))
    assert result.returncode == 0, result.stderr


def test_fork_is_a_full_standalone_recipe():
    needle = load_recipe(ROOT / "recipes" / "needle.yaml")
    quick = load_recipe(ROOT / "recipes" / "needle-quick.yaml")
    assert quick.parent == needle.hash
    assert quick["still"]["epochs"] == 2 and needle["still"]["epochs"] == 3
    assert quick["task"] == needle["task"] and quick["student"] == needle["student"]
    assert "fork" not in quick.data


def test_needle_is_big_enough():
    needle = load_recipe(ROOT / "recipes" / "needle.yaml")
    tools = needle["task"]["tools"]
    assert len(tools) >= 12
    assert len(tools) * needle["mash"]["examples_per_category"] >= 2000
    kinds = {p["type"] for t in tools for p in t["parameters"].values()}
    assert {"string", "integer", "number", "enum"} <= kinds
    assert any(not p.get("required") for t in tools for p in t["parameters"].values())


FIELD_ROWS = {  # recipe -> (a malformed field example, what its line says); each was a traceback before
    "needle name": ("needle", {"text": "hi", "call": {"name": ["get_weather"]}}, '"call" must name a tool'),
    "needle offered": ("needle", {"text": "hi", "call": {"name": None}, "tools": [["x"]]}, '"tools" must list tools'),
    "needle enum": ("needle", {"text": "weather in Paris", "call": {"name": "get_weather", "arguments": {
        "city": "Paris", "unit": {"c": 1}}}}, "argument unit={'c': 1} does not fit the tool get_weather"),
    "pii type": ("pii", {"text": "John", "spans": [{"start": 0, "end": 4, "type": {"a": 1}}]},
                 "span type {'a': 1} is not one of the Recipe's entity types"),
}


@pytest.mark.parametrize("case", sorted(FIELD_ROWS))
def test_a_malformed_field_example_is_one_line_naming_its_file_and_line(tmp_path, case):
    parent, row, problem = FIELD_ROWS[case]
    (tmp_path / f"{parent}.yaml").write_text((ROOT / "recipes" / f"{parent}.yaml").read_text())
    shutil.copytree(ROOT / "recipes" / "field", tmp_path / "field")  # the parent's own proof.field
    (tmp_path / "field.jsonl").write_text("# written by hand\n" + json.dumps(row) + "\n")
    path = tmp_path / "x.yaml"
    path.write_text(f"fork: {parent}\nproof: {{field: field.jsonl}}\n")
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert str(caught.value).startswith(f"{tmp_path / 'field.jsonl'}:2 ") and problem in str(caught.value)

"""A golden proof: a small tool-calling Recipe trained at a fixed thread count must land on the
proof it measured when this test was written. Training, constrained decoding and the metric all
sit between the Recipe and that number, so a regression in any of them turns this red."""
import pytest
import yaml

from distill.build import Build
from distill.recipe import load_recipe
from distill.store import Store
from tests.conftest import environment, tiny_recipe_data

# Measured on 2 threads (torch 2.13 CPU). One head of slack either way: a different CPU may round
# differently; a broken decoder or metric moves far more than one head.
# A 1-layer, 32-wide decoder: it must also answer "no call" when the asked-for tool is not among
# those shown, which it mostly cannot, so its numbers are low; they guard against change, not for quality.
GOLDEN = {"heads": 55, "tool_name_heads": 26, "exact_heads": 12}  # the built-in teacher's tool_call VERSION 13


def golden_recipe_data() -> dict:
    data = tiny_recipe_data()
    data["mash"] = {"examples_per_category": 80}
    data["still"] = {"epochs": 12, "batch_size": 16, "lr": 0.01}
    return data


def test_the_golden_recipe_keeps_its_proof(tmp_path):
    (tmp_path / "golden.yaml").write_text(yaml.safe_dump(golden_recipe_data(), sort_keys=False))
    with environment(DISTILL_THREADS="2"):
        build = Build(load_recipe(tmp_path / "golden.yaml"), Store(tmp_path / "store"))
        for stage in ("mash", "cuts", "still", "notes"):
            build.run(stage)
    proof = build.load("notes")["proof"]
    n = proof["n"]
    measured = {"heads": n, "tool_name_heads": round(proof["value"] * n), "exact_heads": round(proof["argument_exact_match"] * n)}
    assert measured["heads"] == GOLDEN["heads"], measured
    for key in ("tool_name_heads", "exact_heads"):
        assert measured[key] == pytest.approx(GOLDEN[key], abs=1), measured

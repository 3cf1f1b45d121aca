"""Aging in casks: an aged Recipe continues its parent's Spirit on a new Mash slice (aging.py).

One module-scoped cellar: a tiny tool-calling parent, a child that adds one tool, and a second
generation that learns from a scripted review of the first one's heads. Real CLI runs (the
same Build doit runs), tiny Recipes, one thread."""
import contextlib
import io
import json

import pytest
import yaml

from distill.cli import main
from tests.conftest import ROOT, environment, run_cli, run_doit, tiny_recipe_data

NEW_TOOL = "web_search"


def _tool(name):
    needle = yaml.safe_load((ROOT / "recipes" / "needle.yaml").read_text())
    return next(t for t in needle["task"]["tools"] if t["name"] == name)


def _write(folder, name, data):
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def _usage(root, recipe):
    lines = (root / "store" / "teacher-usage.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if json.loads(line)["recipe"] == recipe]


def _keys(path):
    from distill.build import recipe_keys
    from distill.recipe import load_recipe

    return recipe_keys(load_recipe(path))


@pytest.fixture(scope="module")
def casks(tmp_path_factory):
    """tiny (4 tools) -> tiny-aged (+web_search) -> tiny-aged2 (a reviewed file of tiny-aged's heads)."""
    root = tmp_path_factory.mktemp("casks")
    recipes = root / "recipes"
    recipes.mkdir()
    parent = tiny_recipe_data()
    parent["task"]["no_call"] = 0  # the "none" shard names the whole catalog: it would be a new shard too
    parent["bottle"] = {"formats": ["pt"]}
    # a parent that has learned something in ~10 s: two layers of 64, ten short epochs, and a window
    # that leaves room for the input beside the offered tools and the call (96 reads ~5 input tokens)
    parent["student"].update(hidden_size=64, layers=2, heads=4, kv_heads=2, intermediate_size=128, max_length=192)
    parent["still"].update(epochs=10, lr=0.005)
    _write(recipes, "tiny", parent)
    _write(recipes, "tiny-aged", {"description": "tiny with web search", "age": {"parent": "tiny", "epochs": 4},
                                  "task": {"tools": [_tool(NEW_TOOL)]}})
    env = dict(DISTILL_RECIPES=str(recipes), DISTILL_STORE=str(root / "store"), DISTILL_CELLAR=str(root / "cellar"),
               DISTILL_THREADS="1")
    with environment(**env):
        out = {"tiny": _build_in_process(root, "tiny")}
        result = run_doit("bottle:tiny-aged-pt", cwd=root)  # the real graph: still:tiny-aged after still:tiny
        assert result.returncode == 0, result.stderr[-3000:]
        out["tiny-aged"] = result.stdout + result.stderr
        # the scripted reviewer: three wrong heads of tiny-aged (not web searches) become web searches
        # for their last word (a grounded call: the decoder copies it), one row is rejected
        tails = io.StringIO()
        with contextlib.redirect_stdout(tails):
            assert main(["tails", "tiny-aged", "--heads", "12", "-o", str(recipes / "reviewed.jsonl")]) == 0
        assert "row(s) to review" in tails.getvalue()
        rows = [json.loads(line) for line in (recipes / "reviewed.jsonl").read_text().splitlines()
                if line and not line.startswith("#")]
        rows = [r for r in rows if NEW_TOOL not in (r["category"], r["prediction"].get("name"))][:4]
        assert len(rows) == 4, "the tiny Spirit answers at least four heads wrong"
        for row in rows[:3]:
            row["target"] = {"name": NEW_TOOL, "arguments": {"query": row["input"].split()[-1].strip("?!.,")}}
        rows[3]["reject"] = True
        (recipes / "reviewed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        _write(recipes, "tiny-aged2", {"age": {"parent": "tiny-aged", "reviews": "reviewed.jsonl", "epochs": 8,
                                                "review_repeats": 16, "replay": 0.1}})
        out["tiny-aged2"] = _build_in_process(root, "tiny-aged2")
        yield root, out, rows


def _build_in_process(root, name):
    """A real Build through the .pt bottle (as `distill build` runs it); returns what it said."""
    from distill.build import Build

    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        Build.from_path(root / "recipes" / f"{name}.yaml", root / "store").build_through("bottle", "pt",
                                                                                          report=lambda line: None)
    return said.getvalue()


def test_aging_asks_the_teacher_only_for_the_new_tools_shard(casks):
    root, out, _ = casks
    parent, aged = _keys(root / "recipes" / "tiny.yaml"), _keys(root / "recipes" / "tiny-aged.yaml")
    assert set(aged.shards) == set(parent.shards) | {NEW_TOOL}
    assert all(aged.shards[name] == key for name, key in parent.shards.items())  # the parent's shards, reused
    assert aged.still != parent.still
    assert [u["category"] for u in _usage(root, "tiny-aged")] == [NEW_TOOL]  # the only shard that asked
    assert "mash tiny-aged: built 1 shard(s)" in out["tiny-aged"]
    assert _usage(root, "tiny-aged2") == []  # reviews cost no teacher request


def test_the_aged_still_starts_from_the_parent_weights(casks):
    import torch

    from distill.build import Build
    from distill.stages.still import start
    from distill.store import Store

    root, _, _ = casks
    with environment(DISTILL_STORE=str(root / "store"), DISTILL_THREADS="1"):
        store = Store(root / "store")
        aged = Build.from_path(root / "recipes" / "tiny-aged.yaml", root / "store")
        parent = Build.from_path(root / "recipes" / "tiny.yaml", root / "store")
        session = start(aged)  # before the first step
        trained, tokenizer, parent_history = parent.load("still")
        _, _, aged_history = aged.load("still")
    del store
    state = session.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in trained.state_dict().items())
    assert session.tokenizer.to_str() == tokenizer.to_str()
    # the aged Still's first loss is the parent's end, not a from-scratch student's start
    assert aged_history["loss"][0] < parent_history["loss"][0] - 0.5
    assert aged_history["slice"]["new_categories"] == [NEW_TOOL]
    assert 0 < aged_history["slice"]["replay"] < aged_history["slice"]["parent_hearts"]


def test_aged_notes_carry_a_delta_table_against_the_parent(casks):
    root, _, _ = casks
    notes = json.loads((root / "cellar" / "tiny-aged" / "notes.json").read_text())
    sets = {r["set"]: r for r in notes["aging"]["rows"]}
    assert notes["aging"]["parent"] == "tiny"
    assert {"parent's categories (forgetting)", "new categories", f"new category {NEW_TOOL}"} <= set(sets)
    row = sets["parent's categories (forgetting)"]
    assert row["delta"] == round((row["after_value"] - row["before_value"]) * 100)
    text = (root / "cellar" / "tiny-aged" / "notes.md").read_text()
    assert "## Aged from tiny" in text and "| parent's categories (forgetting) |" in text
    assert "new category web\\_search" in text


def test_a_second_generation_shows_three_casks_in_inspect_index_and_verify(casks, capsys):
    root, _, _ = casks
    spirit = root / "cellar" / "tiny-aged2" / "tiny-aged2.pt"
    with environment(DISTILL_STORE=str(root / "store"), DISTILL_CELLAR=str(root / "cellar")):
        capsys.readouterr()
        assert main(["inspect", str(spirit)]) == 0
        shown = capsys.readouterr().out
        assert "3 generation(s): tiny -> tiny-aged -> tiny-aged2" in shown
        weights = next(line.split()[-1] for line in shown.splitlines() if line.startswith("digest weights"))
        index = json.loads((root / "cellar" / "index.json").read_text())
        chain = index["spirits"]["tiny-aged2"]["lineage"]
        assert [e["name"] for e in chain] == ["tiny", "tiny-aged", "tiny-aged2"]
        assert all(f"cask {i}" in shown and e["recipe_hash"] in shown for i, e in enumerate(chain, 1))
        assert chain[:2] == index["spirits"]["tiny-aged"]["lineage"]  # the parent's history, unchanged
        assert chain[-1]["weights"] == weights
        assert main(["verify", "--json", str(spirit)]) == 0  # proof, weights, recipe hash... and the lineage
        checks = {c["check"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
        assert checks["lineage"]["ok"], checks["lineage"]
        assert "2 parent link(s)" in checks["lineage"]["detail"] and "2 ancestor(s)" in checks["lineage"]["detail"]
        assert main(["cellar", "build"]) == 0
    page = (root / "cellar" / "site" / "index.html").read_text()
    assert "<th>lineage</th>" in page and "tiny-aged2" in page and "→" in page
    assert "Against its parent" in (root / "cellar" / "site" / "tiny-aged2.html").read_text()


def test_a_forged_history_fails_verify(casks, tmp_path):
    import torch

    root, _, _ = casks
    blob = torch.load(root / "cellar" / "tiny-aged2" / "tiny-aged2.pt", weights_only=True)
    chain = json.loads(blob["lineage"])
    chain[0]["weights"] = "0" * 32  # claims another first cask
    blob["lineage"] = json.dumps(chain)
    torch.save(blob, tmp_path / "tiny-aged2.pt")
    from distill.commands.verify import lineage_check
    from distill.spirit import load_spirit

    with environment(DISTILL_CELLAR=str(root / "cellar")):
        check = lineage_check("x", load_spirit(tmp_path / "tiny-aged2.pt"))
    assert not check.ok and "cellar index records tiny" in check.detail


def test_reviewed_rows_override_the_mash_and_are_learned(casks):
    from distill.spirit import load_spirit

    root, out, rows = casks
    cuts = root / "store"
    with environment(DISTILL_STORE=str(cuts)):
        from distill.build import Build

        build = Build.from_path(root / "recipes" / "tiny-aged2.yaml", cuts)
        hearts = build.load("cuts", "hearts")
        everything = hearts + build.load("cuts", "heads") + build.load("cuts", "tails")
    reviewed = [ex for ex in hearts if ex.get("meta", {}).get("reviewed")]
    assert sorted(ex["id"] for ex in reviewed) == sorted(r["id"] for r in rows[:3])
    assert all(ex["target"]["name"] in (NEW_TOOL, None) for ex in reviewed)  # None: the tool was withheld
    assert rows[3]["id"] not in {ex["id"] for ex in everything}  # rejected: gone from every cut
    # asked with four tools offered, as the tiny students were trained (the cuts show at most four)
    tools = {"tools": [NEW_TOOL, "get_weather", "set_timer", "control_lights"]}
    aged = [load_spirit(root / "cellar" / "tiny-aged2" / "tiny-aged2.pt").predict(r["input"], tools) for r in rows[:3]]
    before = [load_spirit(root / "cellar" / "tiny-aged" / "tiny-aged.pt").predict(r["input"], tools) for r in rows[:3]]
    assert [p["name"] for p in aged].count(NEW_TOOL) >= 2, aged
    assert [p["name"] for p in before].count(NEW_TOOL) <= 1, before


def test_a_parent_named_by_recipe_hash_and_an_embedded_aged_recipe_give_the_same_keys(casks, tmp_path):
    """age: <recipe hash> resolves through the cellar index; the Recipe a Spirit embeds (with its
    parent and its reviewed rows) rebuilds to the keys of the file it came from."""
    import torch

    from distill.build import Build

    root, _, _ = casks
    index = json.loads((root / "cellar" / "index.json").read_text())
    (tmp_path / "by-hash.yaml").write_text(yaml.safe_dump(
        {"age": {"parent": index["spirits"]["tiny"]["recipe_hash"], "epochs": 4}, "task": {"tools": [_tool(NEW_TOOL)]}}))
    with environment(DISTILL_CELLAR=str(root / "cellar")):
        by_hash = _keys(tmp_path / "by-hash.yaml")
    by_name = _keys(root / "recipes" / "tiny-aged.yaml")
    assert (by_hash.shards, by_hash.cuts, by_hash.still) == (by_name.shards, by_name.cuts, by_name.still)
    blob = torch.load(root / "cellar" / "tiny-aged2" / "tiny-aged2.pt", weights_only=True)
    embedded = Build.from_data(json.loads(blob["recipe"]), root / "store")
    assert embedded.keys == _keys(root / "recipes" / "tiny-aged2.yaml")
    assert len(embedded.recipe["age"]["reviewed"]) == 4


def test_a_grown_head_keeps_the_rows_of_known_labels():
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from distill.aging import grow_head

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32, num_labels=2))
    old = model.classifier.weight.detach().clone(), model.classifier.bias.detach().clone()
    grow_head(model, ["billing", "refund"], ["refund", "billing", "cancel"], seed=1)
    assert model.classifier.weight.shape == (3, 16) and model.config.num_labels == 3
    assert torch.equal(model.classifier.weight[0], old[0][1]) and torch.equal(model.classifier.weight[1], old[0][0])
    assert torch.equal(model.classifier.bias[:2], old[1].flip(0))
    assert not torch.equal(model.classifier.weight[2], torch.zeros(16))  # a new row, initialised
    assert model(torch.tensor([[1, 2, 3]])).logits.shape == (1, 3)


@pytest.mark.parametrize("child, extra, field", [
    ({"age": "tiny", "task": {"type": "classify"}}, None, "task.type: classify differs from the parent's tool_call"),
    ({"age": "nosuch"}, None, "age.parent: parent recipe 'nosuch' not found"),
    ({"age": "tiny", "student": {"hidden_size": 64}}, None, "student.hidden_size: 64 differs from the parent's 32"),
    ({"age": {"parent": "tiny", "reviews": "r.jsonl"}},
     {"id": "ab", "input": "set a timer for 5 minutes", "target": {"name": "no_such_tool"}}, "target: tool 'no_such_tool'"),
    ({"age": {"parent": "tiny", "reviews": "r.jsonl"}}, {"input": "set a timer", "target": {"name": None}}, "id: missing"),
    ({"age": {"parent": "tiny", "reviews": "missing.jsonl"}}, None, "age.reviews:"),
    ({"age": "tiny", "fork": "tiny"}, None, "fork: a Recipe either forks or ages"),
])
def test_bad_aging_input_is_one_line_and_exit_2(workspace, child, extra, field):
    _write(workspace / "recipes", "child", child)
    if extra:
        (workspace / "recipes" / "r.jsonl").write_text(json.dumps(extra) + "\n")
    result = run_cli("keys", "child", cwd=workspace)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert field in lines[0] and ("child.yaml" in lines[0] or "r.jsonl" in lines[0]), lines[0]

"""Classification, NER/PII and text-to-SQL: metrics on hand-made cases, the built-in teacher's
validity, and a tiny end-to-end build of each through real doit with both bottles agreeing."""
import json
import os
import tempfile
from pathlib import Path

import pytest
import yaml

from distill.build import Build
from distill.recipe import load_recipe
from distill.spirit import load_spirit
from distill.store import Store
from distill.tasks import classify, ner, sql
from tests.conftest import ROOT, run_cli, run_doit

TINY_STUDENT = {"init": "scratch", "hidden_size": 32, "layers": 1, "heads": 2, "kv_heads": 2, "intermediate_size": 64, "vocab_size": 400}


def tiny(name, per_category=30, **task_overrides):
    data = yaml.safe_load((ROOT / "recipes" / f"{name}.yaml").read_text())
    data["mash"] = {"examples_per_category": per_category}
    data["student"] = {**data["student"], **TINY_STUDENT}
    data["still"] = {"epochs": 2, "batch_size": 16, "lr": 0.003}
    data["task"].update(task_overrides)
    data["proof"] = {"field": str(field_sample(name))}
    return data


# An untrained decoder pours slowly (constrained decoding, SQLite checks), so the tiny sql Recipe
# measures the first rows of its field set's dev half: the field proof's path, not its number.
FIELD_SAMPLE_ROWS = {"sql": 24}


def field_sample(name: str) -> Path:
    """The Recipe's dev field set, or its first FIELD_SAMPLE_ROWS rows (written once per session)."""
    source = ROOT / "recipes" / "field" / f"{name}.dev.jsonl"
    if name not in FIELD_SAMPLE_ROWS:
        return source  # an absolute path: a copy of the Recipe elsewhere keeps it
    target = Path(tempfile.gettempdir()) / f"distill-tests-{name}-field-{FIELD_SAMPLE_ROWS[name]}.jsonl"
    rows = [line for line in source.read_text().splitlines(keepends=True) if line.strip() and not line.startswith("#")]
    text = "".join(rows[:FIELD_SAMPLE_ROWS[name]])
    if not target.exists() or target.read_text() != text:
        partial = target.with_name(f"{target.name}.{os.getpid()}")
        partial.write_text(text)
        os.replace(partial, target)  # whole or absent: another test process may read it meanwhile
    return target


# ---------------------------------------------------------------- metrics


def test_macro_f1_weights_every_label_equally():
    golds = [{"label": "a"}] * 8 + [{"label": "b"}] * 2
    preds = [{"label": "a"}] * 8 + [{"label": "a"}] * 2
    p = classify.proof(golds, preds)
    assert p["accuracy"] == pytest.approx(0.8)
    assert p["value"] == pytest.approx((2 * 0.8 * 1.0 / 1.8 + 0.0) / 2)


def test_span_f1_needs_exact_span_and_type():
    gold = {"spans": [{"start": 0, "end": 4, "type": "PERSON"}, {"start": 10, "end": 20, "type": "EMAIL"}]}
    partial = {"spans": [{"start": 0, "end": 3, "type": "PERSON"}, {"start": 10, "end": 20, "type": "EMAIL"}]}
    wrong_type = {"spans": [{"start": 0, "end": 4, "type": "ID"}, {"start": 10, "end": 20, "type": "EMAIL"}]}
    assert ner.proof([gold], [gold])["value"] == 1.0
    assert ner.proof([gold], [partial])["value"] == pytest.approx(0.5)  # tp 1, fp 1, fn 1
    assert ner.proof([gold], [wrong_type])["value"] == pytest.approx(0.5)
    assert ner.proof([gold], [{"spans": []}])["value"] == 0.0
    assert ner.verdict(gold, partial) == "missed 1, spurious 1"


def test_bio_tags_round_trip_to_spans():
    text = "Call Maya Okafor at maya@example.com"
    ranges = [(0, 4), (5, 9), (10, 16), (17, 19), (20, 36)]
    spans = ner.decode_tags(text, ranges, ["O", "B-PERSON", "I-PERSON", "O", "B-EMAIL"])
    assert [(s["text"], s["type"]) for s in spans] == [("Maya Okafor", "PERSON"), ("maya@example.com", "EMAIL")]
    assert ner.redact(text, spans) == "Call [PERSON] at [EMAIL]"


def test_sql_exact_match_and_execution_accuracy():
    task = load_recipe(ROOT / "recipes" / "sql.yaml")["task"]
    gold = {"sql": "SELECT name FROM customers WHERE city = 'Lisbon'"}
    spaced = {"sql": "select  name from customers where city='Lisbon'"}
    equivalent = {"sql": "SELECT customers.name FROM customers WHERE 'Lisbon' = city"}
    wrong = {"sql": "SELECT name FROM customers WHERE city = 'Osaka'"}
    broken = {"sql": "SELECT nme FROM"}
    p = sql.proof([gold] * 4, [spaced, equivalent, wrong, broken], task)
    assert p["value"] == pytest.approx(0.25)  # only the re-spaced one is an exact match
    assert p["execution_accuracy"] == pytest.approx(0.5)  # the equivalent one returns the same rows
    assert sql.clause_kinds("SELECT c, COUNT(*) FROM t JOIN u ON a = b WHERE x = 1 GROUP BY c ORDER BY c") == \
        ["join", "aggregate", "filter", "group_by", "order_limit"]


# ---------------------------------------------------------------- the built-in teacher


@pytest.mark.parametrize("name", ["intent", "pii", "sql"])
def test_builtin_teacher_answers_are_valid(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(tiny(name, per_category=40), sort_keys=False))
    recipe = load_recipe(path)
    build = Build(recipe, Store(tmp_path / "store"))
    build.run("mash")
    examples = build.load("mash")
    task = recipe["task"]
    module = {"intent": classify, "pii": ner, "sql": sql}[name]
    shards = module.categories(task)
    assert len(examples) == sum(module.shard_size(spec, 40, len(shards)) for _, spec in shards)
    for ex in examples:
        text = ex["input"]["text"]
        if name == "pii":
            assert bool(ex["target"]["spans"]) == (ex["category"] != ner.NONE)  # the none shard: no entity at all
            for span in ex["target"]["spans"]:
                assert text[span["start"]:span["end"]] == span["text"]  # gold offsets are exact
        elif name == "sql":
            rows, error = sql.run_query(sql.create_database(task, 0), ex["target"]["sql"])
            assert error is None, ex
        else:
            assert ex["target"]["label"] == ex["category"]


# ---------------------------------------------------------------- end to end


def tiny_design(name):
    """A tiny Recipe; "sql-decoder" is sql's other student design (the shipped one is the encoder)."""
    if name != "sql-decoder":
        return tiny(name)
    data = tiny("sql", per_category=15)  # an untrained decoder pours slowly: fewer heads, the same path
    data["student"].update(arch="llama", max_length=128)  # the decoder's window holds the question and the query
    return data


@pytest.mark.parametrize("name", ["intent", "pii", "sql", "sql-decoder"])
def test_tiny_build_pours_the_same_from_both_bottles(workspace, name):
    (workspace / "recipes" / f"{name}.yaml").write_text(yaml.safe_dump(tiny_design(name), sort_keys=False))
    result = run_doit(f"bottle:{name}-pt", f"bottle:{name}-onnx")
    assert result.returncode == 0, result.stderr[-3000:]
    cellar = workspace / "cellar" / name
    notes = json.loads((cellar / "notes.json").read_text())
    assert notes["task_type"] == load_recipe(workspace / "recipes" / f"{name}.yaml")["task"]["type"]
    assert notes["proof"]["metric"] == {"intent": "macro-F1", "pii": "span-F1"}.get(name, "exact match (normalised SQL)")
    store = Store(workspace / "store")
    (cuts_key,) = store.keys("cuts")
    heads = [json.loads(line) for line in (store.path("cuts", cuts_key) / "heads.jsonl").read_text().splitlines()]
    pt, onnx = load_spirit(cellar / f"{name}.pt"), load_spirit(cellar / f"{name}.onnx")
    assert [pt.predict_example(ex) for ex in heads] == [onnx.predict_example(ex) for ex in heads]
    text = heads[0]["input"]["text"]
    poured = [json.loads(run_cli("pour", str(cellar / f"{name}.{fmt}"), text).stdout) for fmt in ("pt", "onnx")]
    assert poured[0] == poured[1]
    if name == "intent":
        assert (cellar / "confusion.png").exists() and "per_label" in notes["task_details"]
    if name == "pii":
        assert "per_type" in notes["task_details"]
        redacted = run_cli("pour", str(cellar / "pii.onnx"), "--redact", text)
        assert redacted.returncode == 0 and redacted.stdout.strip()
    if name.startswith("sql"):
        assert "execution_accuracy" in notes["proof"] and notes["task_details"]["per_clause_kind"]

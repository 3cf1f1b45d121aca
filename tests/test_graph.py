"""The doit graph end to end on a tiny Recipe: real doit, real training, real onnxruntime."""
import json
import re

import torch
import yaml

from distill.spirit import load_spirit
from distill.store import Store
from tests.conftest import run_cli, run_doit


def _ran(output):
    return set(re.findall(r"^\.  (\S+)", output, re.M))


def _skipped(output):
    return set(re.findall(r"^-- (\S+)", output, re.M))


def _teacher_requests(root):
    path = root / "store" / "teacher-usage.jsonl"
    if not path.exists():
        return 0
    return sum(json.loads(line)["requests"] for line in path.read_text().splitlines())


def test_build_rebuild_fork_and_edit(workspace):
    first = run_doit("bottle:tiny-onnx")
    assert first.returncode == 0, first.stderr[-3000:]
    assert _ran(first.stdout) == {"mash:tiny", "cuts:tiny", "still:tiny", "notes:tiny", "bottle:tiny-onnx"}
    assert (workspace / "cellar" / "tiny" / "tiny.onnx").exists()
    assert (workspace / "cellar" / "tiny" / "notes.md").exists()
    requests_after_first = _teacher_requests(workspace)
    assert requests_after_first > 0

    second = run_doit("bottle:tiny-onnx")
    assert second.returncode == 0
    assert _ran(second.stdout) == set()
    assert _skipped(second.stdout) == {"mash:tiny", "cuts:tiny", "still:tiny", "notes:tiny", "bottle:tiny-onnx"}

    # a fork that only changes training reuses the Mash and Cuts: no teacher request, no new artifacts
    (workspace / "recipes" / "tiny-quick.yaml").write_text("fork: tiny\nstill: {epochs: 1}\n")
    store = Store(workspace / "store")
    mash_before, cuts_before = store.keys("mash"), store.keys("cuts")
    fork = run_doit("bottle:tiny-quick-onnx")
    assert fork.returncode == 0, fork.stderr[-3000:]
    assert {"mash:tiny-quick", "cuts:tiny-quick"} <= _skipped(fork.stdout)
    assert _ran(fork.stdout) == {"still:tiny-quick", "notes:tiny-quick", "bottle:tiny-quick-onnx"}
    assert store.keys("mash") == mash_before and store.keys("cuts") == cuts_before
    assert _teacher_requests(workspace) == requests_after_first

    # editing one training field rebuilds only what that field reaches
    data = yaml.safe_load((workspace / "recipes" / "tiny.yaml").read_text())
    data["still"]["lr"] = 0.002
    (workspace / "recipes" / "tiny.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    edit = run_doit("bottle:tiny-onnx")
    assert edit.returncode == 0
    assert _ran(edit.stdout) == {"still:tiny", "notes:tiny", "bottle:tiny-onnx"}
    # the fork's parent changed, so the fork's keys follow it
    assert "still:tiny-quick" in _ran(run_doit("bottle:tiny-quick-onnx").stdout)


def test_corrupt_artifact_is_rebuilt(workspace):
    assert run_doit("cuts:tiny").returncode == 0
    store = Store(workspace / "store")
    (key,) = store.keys("cuts")
    (store.path("cuts", key) / "heads.jsonl").write_text("tampered\n")
    again = run_doit("cuts:tiny")
    assert again.returncode == 0
    assert "cuts:tiny" in _ran(again.stdout)
    assert store.has("cuts", key)


def test_bottles_agree_with_the_trained_model_on_every_head(built_tiny):
    store = Store(built_tiny / "store")
    (notes_key,) = store.keys("notes")
    (cuts_key,) = store.keys("cuts")
    trained = [json.loads(line) for line in (store.path("notes", notes_key) / "predictions.jsonl").read_text().splitlines()]
    heads = [json.loads(line) for line in (store.path("cuts", cuts_key) / "heads.jsonl").read_text().splitlines()]
    assert len(heads) == len(trained) > 10
    for fmt in ("pt", "onnx"):
        spirit = load_spirit(built_tiny / "cellar" / "tiny" / f"tiny.{fmt}")
        assert [spirit.predict_example(ex) for ex in heads] == trained, fmt


def test_pt_bottle_is_plain_data(built_tiny):
    blob = torch.load(built_tiny / "cellar" / "tiny" / "tiny.pt", weights_only=True)
    assert blob["format"] == "distillarium-spirit"
    recipe = json.loads(blob["recipe"])
    assert recipe["name"] == "tiny" and len(blob["recipe_hash"]) == 32
    assert json.loads(blob["tokenizer"])["model"]["type"] == "BPE"
    assert "value" in json.loads(blob["proof"])


def test_onnx_bottle_carries_metadata(built_tiny):
    import onnx

    model = onnx.load(str(built_tiny / "cellar" / "tiny" / "tiny.onnx"))
    meta = {p.key: p.value for p in model.metadata_props}
    for key in ("distill.recipe", "distill.recipe_hash", "distill.tokenizer", "distill.proof", "distill.config"):
        assert meta[key]
    onnx.checker.check_model(model)


def test_pour_prints_a_call_from_both_formats(built_tiny, tmp_path):
    outputs = []
    for fmt in ("onnx", "pt"):
        result = run_cli("pour", str(built_tiny / "cellar" / "tiny" / f"tiny.{fmt}"),
                         "what's the weather in Lisbon tomorrow?")
        assert result.returncode == 0, result.stderr
        call = json.loads(result.stdout)
        assert "name" in call and (call["name"] is None or "arguments" in call)  # a call, or no call
        outputs.append(call)
    assert outputs[0] == outputs[1]
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"name": "set_timer"}, {"name": "get_weather"}]))
    result = run_cli("pour", str(built_tiny / "cellar" / "tiny" / "tiny.onnx"), "--tools", str(tools), "timer 5 minutes")
    assert result.returncode == 0 and "name" in json.loads(result.stdout)


def test_pour_on_a_bad_file_is_one_line(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not an onnx file")
    result = run_cli("pour", str(bad), "hello")
    assert result.returncode == 2 and "Traceback" not in result.stderr and str(bad) in result.stderr


def test_notes_have_every_section(built_tiny):
    notes = json.loads((built_tiny / "cellar" / "tiny" / "notes.json").read_text())
    assert notes["proof"]["degrees"].endswith("°")
    assert 8 <= len(notes["samples"]) <= 10
    assert {"strengths", "weaknesses", "tails", "proof_unseen_phrasings", "per_category"} <= set(notes)
    md = (built_tiny / "cellar" / "tiny" / "notes.md").read_text()
    for heading in ("## Strengths", "## Weaknesses", "## Loss curve", "## Sample predictions"):
        assert heading in md
    assert (built_tiny / "cellar" / "tiny" / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_loading_the_graph_imports_no_heavy_library():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys; sys.path.insert(0, %r); import dodo; "
            "print([m for m in ('torch', 'transformers', 'openai', 'anthropic', 'google.genai', 'onnx') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code % str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_doit_list_shows_a_help_line_for_every_task(workspace):
    listing = run_doit("list", "--all")
    assert listing.returncode == 0
    lines = [line for line in listing.stdout.splitlines() if line.strip()]
    names = {line.split()[0] for line in lines}
    assert {"mash:tiny", "cuts:tiny", "still:tiny", "notes:tiny", "bottle:tiny-onnx", "bottle:tiny-pt"} <= names
    assert all(len(line.split(None, 1)) == 2 for line in lines)

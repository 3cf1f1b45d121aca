"""Hardening: bad input is one line and a non-zero exit (or just works), memory stays bounded,
damaged state is never reused, and concurrent builds of one Recipe cannot collide."""
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from distill.build import Build
from distill.recipe import load_recipe
from distill.store import Store
from tests.conftest import ROOT, run_cli, run_doit, tiny_recipe_data

ONE_POINT_FIVE_GB = 1536 * 1024 * 1024


def _one_line(result, *expected):
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.strip().splitlines() if line]
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------- Recipes


def test_a_yaml_bomb_is_refused_in_under_two_seconds(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(8)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(levels) + "\n")
    started = time.perf_counter()
    result = run_cli("validate", str(bomb))
    assert time.perf_counter() - started < 2.0 + 1.5  # the limit, plus starting Python
    _one_line(result, str(bomb), "aliases expand")


def test_a_huge_recipe_is_refused(tmp_path):
    huge = tmp_path / "huge.yaml"
    huge.write_text("description: " + "x" * 3_000_000 + "\n")
    _one_line(run_cli("validate", str(huge)), "larger than a Recipe may be")


def test_a_self_referencing_alias_is_one_line(tmp_path):
    loop = tmp_path / "loop.yaml"
    loop.write_text("a: &a [1, *a]\n")
    _one_line(run_cli("validate", str(loop)), "refers to itself")


@pytest.mark.parametrize("fork", ["../../etc/passwd", "/etc/passwd", "needle.yaml", "Needle"])
def test_a_fork_that_is_not_a_name_or_hash_is_one_line(tmp_path, fork):
    (tmp_path / "x.yaml").write_text(f"fork: {json.dumps(fork)}\n")
    _one_line(run_cli("validate", str(tmp_path / "x.yaml")), "fork:", "neither a recipe name")


@pytest.mark.parametrize("script", ["field.py", "still.py", "bottles.py"])
def test_a_bench_script_given_a_bad_recipe_says_one_line(tmp_path, script):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad\n")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), str(bad)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [f"{script}: error: {bad}:1 (top level): 'task' is a required property; add it"]


def test_names_are_looked_up_in_distill_recipes(tmp_path):
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(tiny_recipe_data(), sort_keys=False))
    env = {**os.environ, "DISTILL_RECIPES": str(tmp_path)}
    for command in (["validate", "mine"], ["keys", "mine"]):
        result = subprocess.run([sys.executable, "-m", "distill.cli", *command], capture_output=True, text=True,
                                env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr


def test_a_closed_pipe_is_quiet(tmp_path):
    # the file, not the name: a session fixture may have pointed DISTILL_RECIPES at its own folder
    result = subprocess.run(f"{sys.executable} -m distill.cli keys recipes/needle.yaml | head -1", shell=True,
                            capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "{" and result.stderr == ""


# ---------------------------------------------------------------- pouring


def test_pour_of_ten_megabytes_stays_under_a_memory_limit(built_tiny, tmp_path):
    """The input is cut to the window with a warning (the tool-calling .onnx once needed 22 GB)."""
    text = ("what's the weather in Lisbon tomorrow and also " * 220_000)[:10_000_000] + "\n"
    (tmp_path / "big.txt").write_text(text)
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (ONE_POINT_FIVE_GB, ONE_POINT_FIVE_GB))  # noqa: E731
    with open(tmp_path / "big.txt", "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "distill.cli", "pour", str(built_tiny / "cellar" / "tiny" / "tiny.onnx")],
                                stdin=stdin, capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line]
    assert len(warnings) == 1 and "input cut to its first" in warnings[0] and "10,000,000" in warnings[0]
    call = json.loads(result.stdout)
    assert call["name"] is None or call["name"] in {t["name"] for t in tiny_recipe_data()["task"]["tools"]}


def test_tools_must_be_the_spirits_own(built_tiny, tmp_path):
    spirit = str(built_tiny / "cellar" / "tiny" / "tiny.pt")
    (tmp_path / "unknown.json").write_text('["get_weather", "get_stock_price", "launch_rocket"]')
    _one_line(run_cli("pour", spirit, "--tools", str(tmp_path / "unknown.json"), "hi"),
              "not trained on get_stock_price, launch_rocket")
    (tmp_path / "binary.json").write_bytes(os.urandom(2048) + b"\xff\xfe")
    _one_line(run_cli("pour", spirit, "--tools", str(tmp_path / "binary.json"), "hi"), "not a JSON or YAML list")
    (tmp_path / "many.json").write_text(json.dumps([f"tool_{i}" for i in range(20_000)]))
    _one_line(run_cli("pour", spirit, "--tools", str(tmp_path / "many.json"), "hi"), "not trained on tool_0")


def test_decoding_never_returns_a_tool_that_was_not_offered(built_tiny, tmp_path):
    """The tiny student is barely trained: whatever it wants, only offered names come out."""
    (tmp_path / "two.json").write_text('["set_timer", "control_lights"]')
    texts = ["", "what's the weather in Lisbon", "convert 5 USD to EUR", "get_sto", "x" * 500, "hello"]
    result = run_cli("pour", str(built_tiny / "cellar" / "tiny" / "tiny.onnx"), "--tools", str(tmp_path / "two.json"),
                     *[t for t in texts if t])
    assert result.returncode == 0, result.stderr
    names = [json.loads(line)["name"] for line in result.stdout.splitlines()]
    assert len(names) == len(texts) - 1 and set(names) <= {"set_timer", "control_lights", None}
    empty = run_cli("pour", str(built_tiny / "cellar" / "tiny" / "tiny.onnx"), "")
    _one_line(empty, "input is empty")


def test_invalid_utf8_in_an_argument_or_on_stdin_is_poured(built_tiny):
    spirit = str(built_tiny / "cellar" / "tiny" / "tiny.pt")
    argument = subprocess.run([sys.executable.encode(), b"-m", b"distill.cli", b"pour", spirit.encode(),
                               b"weather in Lisb\xffon"], capture_output=True, timeout=300)
    assert argument.returncode == 0, argument.stderr.decode()[-1000:]
    stdin = subprocess.run([sys.executable, "-m", "distill.cli", "pour", spirit], input=b"timer \xc3\x28 5 minutes\n",
                           capture_output=True, timeout=300)
    assert stdin.returncode == 0, stdin.stderr.decode()[-1000:]
    assert json.loads(argument.stdout) and json.loads(stdin.stdout)


# ---------------------------------------------------------------- what a build leaves behind


def test_cellar_files_are_readable_by_everyone(built_tiny):
    for path in (built_tiny / "cellar").rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            assert path.stat().st_mode & 0o044 == 0o044, path


def test_notes_markdown_escapes_what_people_wrote():
    from distill.stages.notes import md

    assert md("<script>alert(1)</script> | `x`") == "&lt;script&gt;alert(1)&lt;/script&gt; \\| &#96;x&#96;"


def _built(tmp_path, name="tiny"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(tiny_recipe_data(), sort_keys=False))
    return Build(load_recipe(tmp_path / f"{name}.yaml"), Store(tmp_path / "store"))


def test_a_corrupt_artifact_is_named_before_it_is_rebuilt(tmp_path, capsys):
    build = _built(tmp_path)
    build.run("mash")
    build.run("cuts")
    (build.store.path("cuts", build.keys.cuts) / "heads.jsonl").write_text("tampered\n")
    assert not build.is_built("cuts")
    assert f"cuts artifact {build.keys.cuts} is corrupt" in capsys.readouterr().err


def test_temp_folders_of_a_killed_build_are_cleaned_on_the_next_build(tmp_path):
    build = _built(tmp_path)
    build.run("mash")
    folder = build.store.path("cuts", build.keys.cuts).parent
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / f".tmp-{build.keys.cuts}-killed"
    stale.mkdir()
    (stale / "hearts.jsonl").write_text("half")
    build.run("cuts")
    assert not stale.exists() and build.is_built("cuts")


def test_the_still_records_every_run(tmp_path):
    from distill.stages.still import train

    build = _built(tmp_path)
    build.run("mash")
    build.run("cuts")
    train(build, stop_after_steps=3)
    train(build)
    manifest = build.store.manifest("still", build.keys.still)
    runs = manifest["runs"]
    assert [(r["from_step"], r["to_step"] > 3) for r in runs] == [(0, False), (3, True)]
    assert runs[0]["to_step"] == 3 and all(r["threads"] >= 1 and r["seconds"] > 0 for r in runs)
    assert manifest["seconds"] == pytest.approx(sum(r["seconds"] for r in runs), abs=0.01)


# ---------------------------------------------------------------- checkpoints


def _checkpoint_files(build):
    work = build.store.root / "work" / "still" / build.keys.still
    record = json.loads((work / "checkpoints.json").read_text())
    return work, record


def _damage_truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _damage_flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) * 3 // 4] ^= 0x04
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_flip])
def test_a_damaged_checkpoint_is_never_resumed_from(tmp_path, capsys, damage):
    from distill.stages.still import train

    clean = _built(tmp_path / "clean")
    clean.run("mash")
    clean.run("cuts")
    clean.run("still")
    damaged = _built(tmp_path / "damaged")
    damaged.run("mash")
    damaged.run("cuts")
    assert train(damaged, stop_after_steps=7) == {"stopped_at_step": 7}
    work, record = _checkpoint_files(damaged)
    damage(work / record[-1]["file"])
    capsys.readouterr()
    train(damaged)
    said = capsys.readouterr().err
    assert f"checkpoint {work / record[-1]['file']}" in said and "not resumed from" in said
    a, b = clean.load("still")[0].state_dict(), damaged.load("still")[0].state_dict()
    assert all((a[k] == b[k]).all() for k in a)  # identical to a clean build: nothing damaged was used


# ---------------------------------------------------------------- concurrent builds


def test_two_doit_processes_building_one_recipe(workspace):
    env = {**os.environ}
    cmd = [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "--dir", str(workspace), "bottle:tiny-pt"]
    procs = [subprocess.Popen(cmd, env=env, cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    store = Store(workspace / "store")
    assert len(store.keys("still")) == 1 and len(store.keys("bottle")) == 1
    assert not [p for p in (workspace / "store").rglob(".tmp-*")]
    index = json.loads((workspace / "cellar" / "index.json").read_text())
    assert set(index["spirits"]["tiny"]["bottles"]) == {"pt"}
    parallel = run_doit("-n", "2", "bottle:tiny-onnx", "bottle:tiny-pt")
    assert parallel.returncode == 0, parallel.stderr[-2000:]
    rows = json.loads((workspace / "cellar" / "tiny" / "bottles.json").read_text())["bottles"]
    assert {r["bottle"] for r in rows} == {"pt", "onnx"}  # neither bottle's row was lost


def test_cellar_index_updates_from_many_processes_are_all_kept(tmp_path):
    script = ("import sys; from pathlib import Path; from distill.cellar.index import update_index\n"
              "class R(dict):\n    name = sys.argv[1]; hash = '0'*32; parent = None; data = {}\n"
              "r = R(task={'type': 'classify'}, teacher={'provider': 'builtin', 'model': 'b'})\n"
              "notes = {'proof': {'value': 1.0, 'degrees': '100°', 'metric': 'macro-F1', 'n': 1}, "
              "'training': {'parameters': 1}}\n"
              "Path(sys.argv[2]).write_bytes(b'x')\n"
              "for i in range(20):\n    update_index(r, notes, Path(sys.argv[2]), f'v{i}')\n")
    env = {**os.environ, "DISTILL_CELLAR": str(tmp_path / "cellar")}
    procs = [subprocess.Popen([sys.executable, "-c", script, f"s{i}", str(tmp_path / f"b{i}")], env=env)
             for i in range(8)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    index = json.loads((tmp_path / "cellar" / "index.json").read_text())
    assert sum(len(e["bottles"]) for e in index["spirits"].values()) == 8 * 20
    assert Path(tmp_path / "cellar").exists() and not list((tmp_path / "cellar").glob("*.tmp"))

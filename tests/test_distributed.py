"""Data-parallel Stills: two gloo processes train the tiny Recipe like one process does, and a
run whose processes are killed with SIGKILL (either rank) resumes and ends bit-identical to an
uninterrupted two-process run."""
import json
import os
import subprocess
import sys

import pytest
import torch
import yaml

from distill.build import Build
from distill.recipe import load_recipe
from distill.store import Store
from tests.conftest import tiny_recipe_data


def _recipe(tmp_path):
    path = tmp_path / "tiny.yaml"
    if not path.exists():
        data = tiny_recipe_data()
        data["still"]["checkpoint_every_steps"] = 4  # not in the Still key: the same artifact as without it
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _build(path, store, *extra, kill=None):
    env = {**os.environ, "DISTILL_PROGRESS": "off", "DISTILL_THREADS": "1"}
    env.pop("DISTILL_TEST_KILL", None)
    if kill:
        env["DISTILL_TEST_KILL"] = kill
    cmd = [sys.executable, "-m", "distill.cli", "build", str(path), "--store", str(store), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The tiny Recipe built through its notes in two gloo processes."""
    root = tmp_path_factory.mktemp("ddp")
    path = _recipe(root)
    out = _build(path, root / "store", "--until", "notes", "--nproc", "2")
    assert out.returncode == 0, out.stderr[-3000:]
    return Build(load_recipe(path), Store(root / "store")), out


def test_two_gloo_processes_train_like_one(two_processes, tmp_path, monkeypatch):
    pair, out = two_processes
    assert "torchrun --nproc-per-node 2 --standalone" in out.stderr
    alone = Build(load_recipe(_recipe(tmp_path)), Store(tmp_path / "store"))
    assert alone.keys.still == pair.keys.still  # the process count is not in any key
    monkeypatch.setenv("DISTILL_THREADS", "1")
    for stage in ("mash", "cuts", "still", "notes"):
        alone.run(stage)
    one, two = alone.load("still")[2], pair.load("still")[2]
    assert (one["processes"], two["processes"]) == (1, 2)
    assert two["environment"]["processes"] == 2 and two["environment"]["device"] == "cpu"
    assert one["step"] == two["step"] and len(two["loss"]) == two["step"]
    # the same global batches and the same mean loss: only the order of float additions differs
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-3, abs=1e-4)
    assert two["eval_loss"] == pytest.approx(one["eval_loss"], rel=1e-3)
    a, b = alone.load("still")[0].state_dict(), pair.load("still")[0].state_dict()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-3
    proof_one, proof_two = alone.load("notes")["proof"], pair.load("notes")["proof"]
    assert abs(proof_one["value"] - proof_two["value"]) * 100 <= 1.0, (proof_one, proof_two)
    manifest = pair.store.manifest("still", pair.keys.still)
    assert manifest["summary"]["processes"] == 2 and [r["processes"] for r in manifest["runs"]] == [2]


def test_killing_either_rank_resumes_to_the_same_weights(two_processes, tmp_path):
    pair, _ = two_processes
    path = _recipe(tmp_path)
    store = tmp_path / "store"
    killed = _build(path, store, "--until", "still", "--nproc", "2", kill="1:6")  # kill -9 rank 1 after step 6
    assert killed.returncode == 2, killed.stderr[-3000:]
    said = [line for line in killed.stderr.splitlines() if line.startswith("distill: error:")]
    assert said == ["distill: error: still tiny: training process rank 1 (pid "
                    + said[0].split("(pid ")[1].split(")")[0] + ") was killed by SIGKILL; run the same command "
                    "again to resume from step 4"], killed.stderr[-3000:]
    assert "Traceback" not in killed.stderr
    again = _build(path, store, "--until", "still", "--nproc", "2", kill="0:11")  # now rank 0, after step 11
    assert again.returncode == 2 and "rank 0" in again.stderr and "resume from step 10" in again.stderr, again.stderr[-3000:]
    assert "Traceback" not in again.stderr
    done = _build(path, store, "--until", "still", "--nproc", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resuming from step 10 of 20" in done.stderr  # 10 steps an epoch: every 4th and each epoch's end saved
    build = Build(load_recipe(path), Store(store))
    runs = build.store.manifest("still", build.keys.still)["runs"]
    assert [(r["from_step"], r["to_step"]) for r in runs] == [(0, 4), (4, 10), (10, 20)]
    a, b = pair.load("still")[0].state_dict(), build.load("still")[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # as if nothing had been killed
    assert json.loads((build.store.get("still", build.keys.still) / "history.json").read_text())["loss"] == \
        pair.load("still")[2]["loss"]


@pytest.mark.parametrize("variables, says", [
    ({"DISTILL_NPROC": "two"}, "DISTILL_NPROC='two': give a whole number, 1 or more"),
    ({"DISTILL_NPROC": "2", "DISTILL_NNODES": "2"}, "needs --master HOST:PORT"),
    ({"DISTILL_DEVICE": "cuda"}, "sees no CUDA GPU; set DISTILL_DEVICE=cpu"),
    ({"DISTILL_DEVICE": "tpu"}, "unknown device 'tpu'"),
    ({"DISTILL_THREADS": "0"}, "DISTILL_THREADS='0'"),
])
def test_launch_and_device_settings_are_one_line(tmp_path, variables, says):
    if torch.cuda.is_available() and variables.get("DISTILL_DEVICE") == "cuda":
        pytest.skip("this machine has a GPU")
    path = _recipe(tmp_path)
    env = {**os.environ, "DISTILL_PROGRESS": "off", **variables}
    cmd = [sys.executable, "-m", "distill.cli", "build", str(path), "--store", str(tmp_path / "store"), "--until", "still"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 2 and says in out.stderr and "Traceback" not in out.stderr, out.stderr[-2000:]

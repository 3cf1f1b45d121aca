"""Shared fixtures: a tiny tool-calling Recipe that builds end to end in seconds."""
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DISTILL_PROGRESS", "off")
# Under pytest-xdist two workers share the cores, so one thread each (see distill/devices.py)
os.environ.setdefault("DISTILL_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")
# Hermetic: no remote store, published Cellar, user config or cloud credential of the person running
# the tests takes part; the team tests set their own (a SeaweedFS on loopback).
for _variable in ("DISTILL_REMOTE", "DISTILL_CELLARS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(_variable, None)
os.environ["DISTILL_CONFIG"] = os.devnull


def tiny_recipe_data(tools=("get_weather", "set_timer", "convert_currency", "control_lights")) -> dict:
    needle = yaml.safe_load((ROOT / "recipes" / "needle.yaml").read_text())
    catalog = [t for t in needle["task"]["tools"] if t["name"] in tools]
    return {
        "description": "tiny test recipe",
        "seed": 3,
        "task": {"type": "tool_call", "tools": catalog},
        "mash": {"examples_per_category": 40},
        "cuts": {"heads": 0.15},
        "student": {"hidden_size": 32, "layers": 1, "heads": 2, "kv_heads": 2, "intermediate_size": 64,
                    "vocab_size": 400, "max_length": 96},
        "still": {"epochs": 2, "batch_size": 16, "lr": 0.003},
        "notes": {"samples": 8},
    }


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A recipes folder with `tiny.yaml` and a private store and cellar."""
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "tiny.yaml").write_text(yaml.safe_dump(tiny_recipe_data(), sort_keys=False))
    monkeypatch.setenv("DISTILL_RECIPES", str(recipes))
    monkeypatch.setenv("DISTILL_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("DISTILL_CELLAR", str(tmp_path / "cellar"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_doit(*args, cwd=None):
    """Run the real doit on the project's dodo.py; returns the CompletedProcess."""
    cmd = [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "--dir", str(cwd or Path.cwd()), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def run_cli(*args, **kwargs):
    cmd = [sys.executable, "-m", "distill.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=kwargs.get("cwd"))


@contextlib.contextmanager
def environment(**variables):
    """Set environment variables for a session-scoped fixture (monkeypatch is function-scoped)."""
    old = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def built_tiny(tmp_path_factory):
    """One tiny Recipe built to both bottles through real doit, shared by read-only tests."""
    root = tmp_path_factory.mktemp("built")
    recipes = root / "recipes"
    recipes.mkdir()
    (recipes / "tiny.yaml").write_text(yaml.safe_dump(tiny_recipe_data(), sort_keys=False))
    with environment(DISTILL_RECIPES=str(recipes), DISTILL_STORE=str(root / "store"), DISTILL_CELLAR=str(root / "cellar")):
        result = run_doit("bottle:tiny-onnx", "bottle:tiny-pt", cwd=root)
        assert result.returncode == 0, result.stderr[-3000:]
        yield root


@pytest.fixture(scope="session")
def gguf_built(built_tiny, tmp_path_factory):
    """built_tiny's store copied, its Recipe asking for f32 and q8_0 GGUF bottles: only bottles build."""
    root = tmp_path_factory.mktemp("gguf")
    shutil.copytree(built_tiny / "store", root / "store")
    (root / "recipes").mkdir()
    data = yaml.safe_load((built_tiny / "recipes" / "tiny.yaml").read_text())
    data["bottle"] = {"gguf_types": ["f32", "q8_0"]}
    (root / "recipes" / "tiny.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with environment(DISTILL_RECIPES=str(root / "recipes"), DISTILL_STORE=str(root / "store"),
                     DISTILL_CELLAR=str(root / "cellar"), DISTILL_GGUF_RUNTIME="torch"):
        result = run_doit("bottle:tiny-pt", "bottle:tiny-gguf", cwd=root)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "-- still:tiny" in result.stdout and "-- notes:tiny" in result.stdout  # reused, not retrained
        yield root


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """One real S3 server (SeaweedFS) on loopback for the whole session; each test uses its own prefix."""
    from tests.s3_server import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()

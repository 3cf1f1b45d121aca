"""Credentials go only to endpoints the user configured: a Recipe read from a Spirit, a cellar
index or a fork parent may name a teacher, never receive the user's key."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from distill.build import Build
from distill.recipe import load_recipe
from distill.store import Store
from tests.conftest import ROOT, tiny_recipe_data
from tests.wire_servers import WireServer

CANARY = "sk-canary-the-user-key-that-must-stay-home"


def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "distill.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600, cwd=ROOT)


@pytest.fixture(scope="module")
def foreign_spirit(tmp_path_factory):
    """A Spirit built by someone else with an API teacher at a loopback endpoint of theirs."""
    root = tmp_path_factory.mktemp("foreign")
    with WireServer() as server:
        data = tiny_recipe_data(("get_weather", "set_timer"))
        data["mash"] = {"examples_per_category": 12, "inputs_per_request": 6}
        data["teacher"] = {"provider": "openai", "model": "gpt-4o", "base_url": server.url + "/v1", "concurrency": 2}
        (root / "theirs.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        old = {k: os.environ.get(k) for k in ("OPENAI_API_KEY", "DISTILL_CELLAR")}
        os.environ.update(OPENAI_API_KEY="sk-builder", DISTILL_CELLAR=str(root / "cellar"))
        try:
            Build(load_recipe(root / "theirs.yaml"), Store(root / "their-store")).build_through("bottle", "pt", report=lambda m: None)
        finally:
            for k, v in old.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        yield root, server


def _victim_env(root, **extra):
    return {**os.environ, "OPENAI_API_KEY": CANARY, "DISTILL_CELLAR": str(root / "cellar"), **extra}


def test_verify_and_reproduce_never_send_the_key_to_an_endpoint_a_spirit_names(foreign_spirit, tmp_path):
    root, server = foreign_spirit
    spirit = root / "cellar" / "theirs" / "theirs.pt"
    before = len(server.requests)
    verified = _cli("verify", str(spirit), "--json", "--store", str(tmp_path / "mine"), env=_victim_env(root))
    assert verified.returncode == 1
    failed = {c["check"]: c["detail"] for c in json.loads(verified.stdout)["checks"] if not c["ok"]}
    assert set(failed) == {"proof"} and "--allow-endpoint " + server.url + "/v1" in failed["proof"]
    reproduced = _cli("reproduce", str(spirit), "--store", str(tmp_path / "scratch"), env=_victim_env(root))
    assert reproduced.returncode == 2 and "Traceback" not in reproduced.stderr
    assert len(reproduced.stderr.strip().splitlines()) == 1 and "no credential is sent there" in reproduced.stderr
    assert len(server.requests) == before  # nothing was sent, so no key either
    assert not any(CANARY in key for key in server.credentials)


def test_the_teacher_cache_answers_without_asking(foreign_spirit):
    """With the builder's teacher cache (a shared store), verify rebuilds the heads by replay alone."""
    root, server = foreign_spirit
    before = len(server.requests)
    verified = _cli("verify", str(root / "cellar" / "theirs" / "theirs.pt"), "--json", "--store",
                    str(root / "their-store"), env=_victim_env(root))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert len(server.requests) == before


def test_a_fork_by_hash_keeps_its_parents_endpoint_at_arms_length(foreign_spirit, tmp_path):
    root, server = foreign_spirit
    recipe_hash = json.loads((root / "cellar" / "index.json").read_text())["spirits"]["theirs"]["recipe_hash"]
    (tmp_path / "mine.yaml").write_text(f'fork: "{recipe_hash}"\nseed: 99\n')
    env = _victim_env(root)
    before = len(server.requests)
    refused = _cli("build", str(tmp_path / "mine.yaml"), "--until", "mash", "--store", str(tmp_path / "s1"), env=env)
    assert refused.returncode == 2 and "--allow-endpoint" in refused.stderr and len(server.requests) == before
    allowed = _cli("build", str(tmp_path / "mine.yaml"), "--until", "mash", "--store", str(tmp_path / "s2"),
                   "--allow-endpoint", server.url + "/v1", env=env)
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert len(server.requests) > before and all(CANARY in key for key in server.credentials[before:])
    (tmp_path / "mine.yaml").write_text(f'fork: "{recipe_hash}"\nseed: 98\nteacher: {{base_url: "{server.url}/v1"}}\n')
    named_by_me = _cli("build", str(tmp_path / "mine.yaml"), "--until", "mash", "--store", str(tmp_path / "s3"), env=env)
    assert named_by_me.returncode == 0, named_by_me.stderr[-2000:]  # the user wrote the endpoint: theirs to use

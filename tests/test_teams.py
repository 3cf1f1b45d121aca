"""Teams: a shared remote store on a real S3 server (SeaweedFS on loopback), two machines that
are two processes with separate local stores, faults (a flipped remote byte, a dead server, the
server killed mid-push), and the teacher's answers shared so a teammate's Mash costs nothing."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT, tiny_recipe_data
from tests.s3_server import BUCKET, KillingRelay, free_ports
from tests.wire_servers import WireServer


def _env(root: Path, **extra) -> dict:
    return {**os.environ, "DISTILL_RECIPES": str(root / "recipes"), "DISTILL_STORE": str(root / "store"),
            "DISTILL_CELLAR": str(root / "cellar"), **extra}


def distill(*args, env, cwd=None):
    return subprocess.run([sys.executable, "-m", "distill.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or ROOT, timeout=600)


def doit(*args, env, cwd):
    return subprocess.run([sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "--dir", str(cwd), *args],
                          capture_output=True, text=True, env=env, timeout=600)


def machine(tmp_path, name, data) -> Path:
    """A teammate's machine: its own recipes folder, store and cellar."""
    root = tmp_path / name
    (root / "recipes").mkdir(parents=True)
    (root / "recipes" / f"{data.get('name', 'tiny')}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def copy_of_built(built_tiny, tmp_path, name) -> Path:
    """A machine that already built the tiny Recipe (the session's build, copied)."""
    root = tmp_path / name
    shutil.copytree(built_tiny / "recipes", root / "recipes")
    shutil.copytree(built_tiny / "store", root / "store")
    shutil.copytree(built_tiny / "cellar", root / "cellar")
    return root


def trainings(result) -> int:
    """How many times the Still trained: each training ends with its one summary line."""
    return sum(line.startswith("still ") and " parameters, " in line for line in result.stderr.splitlines())


def remote_keys(seaweed, prefix, stage) -> set[str]:
    fs = seaweed.filesystem()
    return {p.rsplit("/", 2)[-2] for p in fs.find(f"{BUCKET}/{prefix}/store/{stage}/") if p.endswith("/manifest.json")}


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# ------------------------------------------------------------------ two machines, one remote

def test_two_machines_share_one_remote(seaweed, tmp_path):
    """Machine A builds with an API teacher and uploads as it goes; machine B (another process,
    another store) builds the same Recipe: zero teacher requests, zero training, the same bottle
    byte for byte. Then a fork that changes the Mash rebuilds it from the team's answers, free."""
    with WireServer() as teacher:
        data = tiny_recipe_data(("get_weather", "set_timer"))
        data["mash"] = {"examples_per_category": 12, "inputs_per_request": 6}
        data["teacher"] = {"provider": "openai", "model": "gpt-4o", "base_url": teacher.url + "/v1", "concurrency": 2}
        a, b = machine(tmp_path, "a", data), machine(tmp_path, "b", data)
        remote = {**seaweed.env("two-machines"), "OPENAI_API_KEY": "sk-team-key"}

        first = doit("bottle:tiny-pt", env=_env(a, **remote), cwd=a)
        assert first.returncode == 0, first.stderr[-3000:]
        paid = len(teacher.requests)
        assert paid > 0 and trainings(first) == 1
        assert len(remote_keys(seaweed, "two-machines", "mash")) == 3  # two tools and no-call, uploaded as built: no push needed

        second = doit("bottle:tiny-pt", env=_env(b, **remote), cwd=b)
        assert second.returncode == 0, second.stderr[-3000:]
        assert len(teacher.requests) == paid, "machine B asked the teacher"
        assert trainings(second) == 0 and not (b / "store" / "work" / "still").exists()
        assert not (b / "store" / "teacher-usage.jsonl").exists()  # its Mash stage never ran
        for stage in ("mash", "cuts", "still", "notes"):
            assert f"-- {stage}:tiny" in second.stdout, second.stdout
        assert (b / "cellar" / "tiny" / "tiny.pt").read_bytes() == (a / "cellar" / "tiny" / "tiny.pt").read_bytes()
        print(f"machine A: {paid} teacher requests, 1 training; machine B: 0 teacher requests, 0 trainings")

        # a fork with a smaller Mash on a third machine: new shard keys, the same requests, answers from the team
        fork = {**data, "name": "smaller", "mash": {"examples_per_category": 6, "inputs_per_request": 6}}
        c = machine(tmp_path, "c", fork)
        third = distill("build", "smaller", "--until", "mash", env=_env(c, **remote))
        assert third.returncode == 0, third.stderr[-3000:]
        assert len(teacher.requests) == paid, "the fork paid for answers the team already had"
        shards = [json.loads(p.read_text()) for p in (c / "store" / "store" / "mash").glob("*/*/manifest.json")]
        assert len(shards) == 3 and all(s["stats"]["requests"] == 0 and s["stats"]["cached_responses"] > 0 for s in shards)  # two tools and no-call


def test_pull_brings_the_answers_for_a_rebuild_without_the_remote(seaweed, tmp_path):
    """`distill push` shares what was built before a remote existed; `distill pull` brings the
    artifacts and the teacher answers, and a Mash rebuilt offline from those answers asks nothing."""
    with WireServer() as teacher:
        data = tiny_recipe_data(("get_weather", "set_timer"))
        data["mash"] = {"examples_per_category": 6, "inputs_per_request": 6}
        data["teacher"] = {"provider": "openai", "model": "gpt-4o", "base_url": teacher.url + "/v1"}
        a, b = machine(tmp_path, "a", data), machine(tmp_path, "b", data)
        key = {"OPENAI_API_KEY": "sk-team-key"}
        built = distill("build", "tiny", "--until", "cuts", env=_env(a, **key))  # no remote configured yet
        assert built.returncode == 0, built.stderr[-3000:]
        paid = len(teacher.requests)

        url = f"s3://{BUCKET}/pull-answers"
        pushed = distill("push", "tiny", "--remote", url, env=_env(a, AWS_ENDPOINT_URL=seaweed.endpoint))
        assert pushed.returncode == 0, pushed.stderr
        assert "4 uploaded" in pushed.stdout and f"{paid} teacher answer(s) shared" in pushed.stdout, pushed.stdout
        again = distill("push", "tiny", "--remote", url, env=_env(a, AWS_ENDPOINT_URL=seaweed.endpoint))
        assert "0 uploaded, 4 already there" in again.stdout and "0 teacher answer(s)" in again.stdout, again.stdout

        pulled = distill("pull", "tiny", "--remote", url, env=_env(b, AWS_ENDPOINT_URL=seaweed.endpoint))
        assert pulled.returncode == 0, pulled.stderr
        assert "4 pulled" in pulled.stdout and f"{paid} teacher answer(s) added" in pulled.stdout, pulled.stdout
        shutil.rmtree(b / "store" / "store" / "mash")  # lose the shards, keep the answers
        rebuilt = distill("build", "tiny", "--until", "mash", env=_env(b, **key))
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert len(teacher.requests) == paid
        for shard in (b / "store" / "store" / "mash").glob("*/*"):
            assert (shard / "shard.jsonl").read_bytes() == (a / "store" / "store" / "mash" / shard.parent.name
                                                            / shard.name / "shard.jsonl").read_bytes()


# ------------------------------------------------------------------ faults

def test_a_flipped_remote_byte_is_a_miss_with_a_warning(seaweed, built_tiny, tmp_path):
    a = copy_of_built(built_tiny, tmp_path, "a")
    remote = seaweed.env("flipped")
    pushed = distill("push", "tiny", env=_env(a, **remote))
    assert pushed.returncode == 0, pushed.stderr
    fs = seaweed.filesystem()
    (cuts_key,) = remote_keys(seaweed, "flipped", "cuts")
    target = f"{BUCKET}/flipped/store/cuts/{cuts_key[:2]}/{cuts_key}/heads.jsonl"
    data = bytearray(fs.cat_file(target))
    data[len(data) // 2] ^= 0x01
    fs.pipe_file(target, bytes(data))

    b = machine(tmp_path, "b", tiny_recipe_data())
    built = distill("build", "tiny", "--until", "cuts", env=_env(b, **remote))
    assert built.returncode == 0, built.stderr
    warnings = [line for line in built.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"remote cuts artifact {cuts_key}" in warnings[0] and "heads.jsonl does not match" in warnings[0]
    assert ".  cuts:tiny" in built.stdout and "-- mash:tiny" in built.stdout  # rebuilt here; the intact Mash came from the remote
    local = b / "store" / "store" / "cuts" / cuts_key[:2] / cuts_key
    assert (local / "heads.jsonl").read_bytes() != bytes(data)
    assert (local / "heads.jsonl").read_bytes() == (a / "store" / "store" / "cuts" / cuts_key[:2] / cuts_key / "heads.jsonl").read_bytes()
    assert fs.cat_file(target) == (local / "heads.jsonl").read_bytes()  # and the rebuild repaired the remote copy


def test_a_dead_server_is_one_line_and_the_build_goes_on(tmp_path):
    (port,) = free_ports(1)  # nothing listens there
    dead = {"DISTILL_REMOTE": f"s3://{BUCKET}/dead", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    a = machine(tmp_path, "a", tiny_recipe_data())
    built = distill("build", "tiny", "--until", "cuts", env=_env(a, **dead))
    assert built.returncode == 0, built.stderr
    (warning,) = [line for line in built.stderr.splitlines() if line.startswith("warning")]
    assert warning.startswith("warning: remote store unreachable, building locally") and f"127.0.0.1:{port}" in warning
    assert "Traceback" not in built.stderr and ".  cuts:tiny" in built.stdout
    pushed = distill("push", "tiny", env=_env(a, **dead))
    assert pushed.returncode == 2
    assert one_line(pushed.stderr).startswith(f"distill: error: s3://{BUCKET}/dead/")


def test_killed_mid_push_then_rerun_leaves_remote_and_local_consistent(seaweed, built_tiny, tmp_path):
    """The server dies while the Still's weights are being uploaded (its other files already
    are): no half artifact becomes visible; after a restart, the same push completes the remote,
    and a fresh store pulls every artifact intact and equal to the local one."""
    a = copy_of_built(built_tiny, tmp_path, "a")
    relay = KillingRelay(seaweed.s3, b"/model.pt", seaweed.kill)  # the Still's third file: two are up by then
    through_relay = {"DISTILL_REMOTE": f"s3://{BUCKET}/killed", "AWS_ENDPOINT_URL": relay.endpoint}
    try:
        cut = distill("push", "tiny", env=_env(a, **through_relay))
        assert relay.fired.is_set() and cut.returncode == 2, cut.stdout + cut.stderr
        assert one_line(cut.stderr).startswith(f"distill: error: s3://{BUCKET}/killed/store/still/")
    finally:
        relay.close()
        seaweed.start()  # same data folder, same ports
    fs = seaweed.filesystem()
    (still_key,) = [p.name for p in (a / "store" / "store" / "still").glob("*/*")]
    still = f"{BUCKET}/killed/store/still/{still_key[:2]}/{still_key}"
    assert fs.exists(f"{still}/config.json") and not fs.exists(f"{still}/manifest.json")  # files without a manifest: invisible
    assert remote_keys(seaweed, "killed", "still") == set()

    direct = seaweed.env("killed")
    rerun = distill("push", "tiny", env=_env(a, **direct))
    assert rerun.returncode == 0, rerun.stderr
    assert "pushed still:tiny" in rerun.stdout and "1 not built here" in rerun.stdout, rerun.stdout  # the .gguf
    c = machine(tmp_path, "c", tiny_recipe_data())
    pulled = distill("pull", "tiny", env=_env(c, **direct))
    assert pulled.returncode == 0 and "10 pulled, 0 already here, 1 not on the remote" in pulled.stdout, pulled.stdout + pulled.stderr
    assert "warning" not in pulled.stderr, pulled.stderr
    mine = sorted(p.relative_to(a / "store" / "store") for p in (a / "store" / "store").rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(c / "store" / "store") for p in (c / "store" / "store").rglob("*") if p.is_file())
    assert mine == theirs
    for rel in mine:
        assert (a / "store" / "store" / rel).read_bytes() == (c / "store" / "store" / rel).read_bytes(), rel
    assert (c / "cellar" / "tiny" / "tiny.pt").read_bytes() == (a / "cellar" / "tiny" / "tiny.pt").read_bytes()

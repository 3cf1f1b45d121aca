"""Published Cellars on a real S3 server (SeaweedFS on loopback), on a shared disk and over HTTP:
publish, reproduce and fork someone else's Spirit by hash, verify bottles by URL, render the
site, the CI workflow's script, concurrent publishers, and what a remote may never make us do."""
import functools
import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from distill.errors import DistillError
from tests.conftest import ROOT
from tests.s3_server import BUCKET
from tests.test_teams import distill


def _env(built, **extra):
    return {**os.environ, "DISTILL_CELLAR": str(built / "cellar"), "DISTILL_STORE": str(built / "store"), **extra}


def _hash(built) -> str:
    return json.loads((built / "cellar" / "index.json").read_text())["spirits"]["tiny"]["recipe_hash"]


@pytest.fixture(scope="module")
def published(seaweed, built_tiny):
    """The session's tiny Spirit published to s3://<bucket>/cellar by its builder."""
    url = f"s3://{BUCKET}/cellar"
    out = distill("publish", "tiny", "--to", url, env=_env(built_tiny, AWS_ENDPOINT_URL=seaweed.endpoint,
                                                           DISTILL_RECIPES=str(built_tiny / "recipes")))
    assert out.returncode == 0, out.stderr
    return url


def stranger(tmp_path, seaweed, **extra) -> dict:
    """Someone else's machine: an empty cellar and store, the S3 endpoint in the environment."""
    return {**os.environ, "DISTILL_CELLAR": str(tmp_path / "their-cellar"), "DISTILL_STORE": str(tmp_path / "their-store"),
            "AWS_ENDPOINT_URL": seaweed.endpoint, **extra}


def test_publish_puts_bottles_notes_and_the_index(published, seaweed, built_tiny):
    fs = seaweed.filesystem()
    index = json.loads(fs.cat_file(f"{BUCKET}/cellar/index.json"))
    entry = index["spirits"]["tiny"]
    recipe_hash = _hash(built_tiny)
    assert entry["recipe_hash"] == recipe_hash and index["recipes"] == {recipe_hash: "tiny"}
    assert entry["folder"] == f"tiny/{recipe_hash}"
    assert {"tiny.pt", "tiny.onnx", "notes.json", "notes.md", "bottles.json", "recipe.json", "loss.png"} <= set(entry["files"])
    for name, info in entry["files"].items():
        data = fs.cat_file(f"{BUCKET}/cellar/tiny/{recipe_hash}/{name}")
        assert len(data) == info["bytes"] and hashlib.sha256(data).hexdigest() == info["sha256"]
        assert data == (built_tiny / "cellar" / "tiny" / name).read_bytes()
    assert json.loads(fs.cat_file(f"{BUCKET}/cellar/entries/{recipe_hash}.json"))["files"] == entry["files"]


def test_reproduce_a_spirit_published_by_another_store(published, seaweed, built_tiny, tmp_path):
    """Someone with an empty cellar and store finds the Recipe by its hash in the published Cellar,
    rebuilds it (built-in teacher) and gets the published weights bit for bit."""
    env = stranger(tmp_path, seaweed)
    out = distill("reproduce", _hash(built_tiny), "--cellar", published, "--json", env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout[out.stdout.index("{"):])
    assert result["bit_identical"] and result["proof"] == result["published_proof"]
    assert set(result["stages"].values()) == {"built"}  # rebuilt here, not fetched from anywhere
    missing = distill("reproduce", "ab" * 16, "--cellar", published, env=env)
    assert missing.returncode == 2 and "ab" * 16 in missing.stderr and len(missing.stderr.strip().splitlines()) == 1


def test_the_ci_workflow_verifies_a_published_cellar(published, seaweed, built_tiny, tmp_path):
    """.github/workflows/verify-spirits.yml runs .ci/verify-cellar on the Cellar named by a
    repository variable; the script passes on an intact Cellar. A flipped byte in a published
    bottle fails `distill verify <url>` for that bottle alone."""
    import subprocess

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "verify-spirits.yml").read_text())
    steps = workflow["jobs"]["verify"]["steps"]
    assert any(s.get("run", "").strip() == "bash .ci/verify-cellar" for s in steps)
    assert workflow["jobs"]["verify"]["env"]["DISTILL_CELLAR_URL"] == "${{ vars.DISTILL_CELLAR_URL }}"
    assert "cellar/*" not in json.dumps(workflow)  # not the git-ignored local cellar

    def run(url):
        env = stranger(tmp_path, seaweed, DISTILL_CELLAR_URL=url, VERIFY_REPORT=str(tmp_path / "verify.json"),
                       PATH=f"{Path(os.sys.executable).parent}:{os.environ['PATH']}")
        return subprocess.run(["bash", str(ROOT / ".ci" / "verify-cellar")], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=600)

    ok = run(published)
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
    report = json.loads((tmp_path / "verify.json").read_text())
    assert report["ok"] and {c["file"].rsplit("/", 1)[-1] for c in report["checks"]} == {"tiny.pt", "tiny.onnx"}

    damaged = f"s3://{BUCKET}/cellar-damaged"
    assert distill("publish", "tiny", "--to", damaged, env=_env(built_tiny, AWS_ENDPOINT_URL=seaweed.endpoint,
                                                                   DISTILL_RECIPES=str(built_tiny / "recipes"))).returncode == 0
    fs = seaweed.filesystem()
    target = f"{BUCKET}/cellar-damaged/tiny/{_hash(built_tiny)}/tiny.onnx"
    data = bytearray(fs.cat_file(target))
    data[len(data) // 3] ^= 0x04
    fs.pipe_file(target, bytes(data))
    urls = [f"{damaged}/tiny/{_hash(built_tiny)}/{name}" for name in ("tiny.pt", "tiny.onnx")]
    bad = distill("verify", *urls, "--json", env=stranger(tmp_path, seaweed))  # bottles by URL, as a user would
    assert bad.returncode == 1, bad.stdout[-3000:] + bad.stderr[-3000:]
    checks = json.loads(bad.stdout)["checks"]
    failed = [c for c in checks if not c["ok"]]
    assert len(failed) == 1 and failed[0]["file"] == urls[1] and failed[0]["check"] == "download"
    assert "sha256" in failed[0]["detail"]
    assert {c["check"] for c in checks if c["file"] == urls[0] and c["ok"]} >= {"loads", "recipe hash", "weights", "proof"}


def test_the_site_of_a_published_cellar(published, seaweed, built_tiny, tmp_path):
    env = stranger(tmp_path, seaweed)
    out = distill("cellar", "build", "--from", published, "--out", str(tmp_path / "site-root"), env=env)
    assert out.returncode == 0, out.stderr
    site = tmp_path / "site-root" / "site"
    page = (site / "tiny.html").read_text()
    assert f"{published}/tiny/{_hash(built_tiny)}/tiny.onnx" in page and "<img src='../tiny/loss.png'" in page
    assert (tmp_path / "site-root" / "tiny" / "loss.png").read_bytes() == (built_tiny / "cellar" / "tiny" / "loss.png").read_bytes()
    assert "tiny" in (site / "index.html").read_text()
    listing = distill("cellar", "list", "--from", published, env=env)
    assert listing.returncode == 0 and _hash(built_tiny) in listing.stdout


def test_fork_by_hash_from_cellars_on_s3_and_https(published, seaweed, built_tiny, tmp_path):
    """`fork: "<hash>"` resolves someone else's Recipe from a published Cellar: over S3, and
    over HTTP from a Cellar published to a shared disk and served by a web server."""
    shared = tmp_path / "shared-disk"
    on_disk = distill("publish", "tiny", "--to", f"file://{shared}", env=_env(built_tiny, DISTILL_RECIPES=str(built_tiny / "recipes")))
    assert on_disk.returncode == 0, on_disk.stderr
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(shared))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        recipe_hash = _hash(built_tiny)
        (tmp_path / "recipes").mkdir()
        (tmp_path / "recipes" / "mine.yaml").write_text(f'fork: "{recipe_hash}"\nstill: {{lr: 0.001}}\n')
        parent_keys = json.loads(distill("keys", str(built_tiny / "recipes" / "tiny.yaml"), env=_env(built_tiny)).stdout)
        for i, cellar in enumerate((published, f"http://127.0.0.1:{server.server_address[1]}")):
            env = stranger(tmp_path / str(i), seaweed, DISTILL_CELLARS=cellar)
            out = distill("keys", str(tmp_path / "recipes" / "mine.yaml"), env=env)
            assert out.returncode == 0, out.stderr
            keys = json.loads(out.stdout)
            assert keys["mash"] == parent_keys["mash"] and keys["still"] != parent_keys["still"]  # the parent's Mash, reused
        nowhere = distill("keys", str(tmp_path / "recipes" / "mine.yaml"), env=stranger(tmp_path / "x", seaweed))
        assert nowhere.returncode == 2 and "mine.yaml:1 fork:" in nowhere.stderr and "DISTILL_CELLARS" in nowhere.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_concurrent_publishers_lose_no_entry(seaweed, built_tiny, monkeypatch):
    """Eight publishers write their entries and merge the index at the same moment."""
    from distill.cellar.publish import merge_index
    from distill.recipe import recipe_hash
    from distill.remote import open_remote

    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweed.endpoint)
    base = json.loads((built_tiny / "cellar" / "index.json").read_text())["spirits"]["tiny"]
    entries = []
    for i in range(8):
        recipe = {**base["recipe"], "name": f"spirit-{i}", "seed": 100 + i}
        h = recipe_hash(recipe)
        entries.append({**base, "name": f"spirit-{i}", "recipe": recipe, "recipe_hash": h, "folder": f"spirit-{i}/{h}",
                        "files": {}, "published": "2026-01-01T00:00:00Z"})
    barrier = threading.Barrier(len(entries))

    def publish(entry):
        remote = open_remote(f"s3://{BUCKET}/concurrent")  # one client each, as separate machines would have
        remote.write(f"entries/{entry['recipe_hash']}.json", json.dumps(entry).encode())
        barrier.wait()
        merge_index(remote)

    with ThreadPoolExecutor(len(entries)) as pool:
        list(pool.map(publish, entries))
    index = json.loads(seaweed.filesystem().cat_file(f"{BUCKET}/concurrent/index.json"))
    assert sorted(index["spirits"]) == [f"spirit-{i}" for i in range(8)]
    assert set(index["recipes"]) == {e["recipe_hash"] for e in entries}


# ------------------------------------------------------------------ what a remote may never make us do

@pytest.mark.parametrize("url, says", [
    ("s3://AKIAXXXX:secret@bucket/prefix", "remove the credentials from the URL"),
    ("ftp://host/x", "unsupported scheme 'ftp://'"),
    ("s3:///prefix", "name a bucket"),
    ("bucket/prefix", "expected a URL"),
])
def test_a_url_that_cannot_work_is_one_line(tmp_path, url, says):
    out = distill("push", "needle", "--remote", url, env={**os.environ, "DISTILL_STORE": str(tmp_path),
                                                          "DISTILL_RECIPES": str(ROOT / "recipes")})
    assert out.returncode == 2 and says in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "secret" not in out.stderr


def test_a_config_that_holds_a_credential_is_refused(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("remote: s3://bucket/prefix\naws_secret_access_key: hunter2\n")
    out = distill("build", str(ROOT / "recipes" / "needle.yaml"), "--until", "mash", env={**os.environ, "DISTILL_CONFIG": str(config),
                                                              "DISTILL_STORE": str(tmp_path / "s")})
    assert out.returncode == 2 and str(config) in out.stderr and "aws_secret_access_key" in out.stderr
    assert "hunter2" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_remote_manifest_cannot_write_outside_the_store(tmp_path, capsys):
    """A manifest naming '../' paths (or a size past the limit) is a miss with a warning; nothing is written."""
    from distill.remote_tier import RemoteTier
    from distill.store import Store

    remote_root = tmp_path / "remote"
    key = "cd" * 16
    folder = remote_root / "store" / "cuts" / key[:2] / key
    folder.mkdir(parents=True)
    (folder / "evil").write_bytes(b"x")
    manifests = [{"stage": "cuts", "key": key, "files": {"../../../../escaped": {"bytes": 1, "digest": "0" * 32}}},
                 {"stage": "cuts", "key": key, "files": {"evil": {"bytes": 1 << 50, "digest": "0" * 32}}},
                 {"stage": "mash", "key": key, "files": {}}]
    for manifest in manifests:
        (folder / "manifest.json").write_text(json.dumps(manifest))
        store = Store(tmp_path / "local", remote=RemoteTier.for_url(f"file://{remote_root}"))
        assert not store.has("cuts", key)
        assert "is damaged" in capsys.readouterr().err
    assert not any(p.name == "escaped" for p in tmp_path.rglob("*"))
    assert not (tmp_path / "local" / "store" / "cuts").exists() or not any((tmp_path / "local" / "store" / "cuts").rglob("manifest.json"))


def test_downloaded_teacher_answers_must_be_answers(tmp_path, capsys):
    """A segment that does not hash to its name, or holds anything but JSON answers, is refused."""
    from distill.hashing import digest
    from distill.remote import open_remote
    from distill.teachers.cache import open_cache
    from distill.teachers.sync import pull

    remote = open_remote(f"file://{tmp_path / 'remote'}")
    good = (json.dumps({"key": "a" * 32, "answer": json.dumps({"text": "{}"})}) + "\n").encode()
    not_an_answer = (json.dumps({"key": "b" * 32, "answer": "gASVAAAAAAAAAAB9lC4="}) + "\n").encode()
    remote.write(f"teacher-cache/g/{digest(good)}.jsonl", good)
    remote.write(f"teacher-cache/g/{'0' * 32}.jsonl", good)  # named for other bytes
    remote.write(f"teacher-cache/g/{digest(not_an_answer)}.jsonl", not_an_answer)
    cache = open_cache(tmp_path / "cache")
    try:
        assert pull(remote, cache, "g", lambda m: print(m, file=os.sys.stderr)) == 1
        assert cache.get("a" * 32) == json.dumps({"text": "{}"}) and cache.get("b" * 32) is None
    finally:
        cache.close()
    err = capsys.readouterr().err
    assert "do not match their digest" in err and "not an answer" in err


def test_open_remote_is_lazy_and_never_reads_credentials_from_files(tmp_path, monkeypatch):
    """No key in the environment: S3 requests are anonymous, whatever ~/.aws holds."""
    from distill.remote import open_remote

    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text("[default]\naws_access_key_id = AKIAFROMAFILE\naws_secret_access_key = fromafile\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    remote = open_remote("s3://bucket/prefix")
    assert remote._fs is None  # nothing opened, nothing imported yet
    assert remote.fs.anon is True
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fromenv")
    assert open_remote("s3://bucket/prefix").fs.key == "AKIAFROMENV"
    with pytest.raises(DistillError, match="read-only"):
        open_remote("https://example.invalid/cellar").write("x", b"")

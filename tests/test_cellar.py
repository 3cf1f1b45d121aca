"""The Cellar: index contents, `fork: <recipe-hash>` against it, `distill cellar`, and the
static site opened in real headless Chromium (pages load, links resolve, the loss curve
renders, no console messages)."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs headless Chromium: apt-get install -y chromium (Debian), as .ci/run does")


def _index(built):
    return json.loads((built / "cellar" / "index.json").read_text())


def _cellar_cli(built, *args):
    env = dict(os.environ, DISTILL_CELLAR=str(built / "cellar"))
    return subprocess.run([sys.executable, "-m", "distill.cli", "cellar", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_index_lists_the_spirit(built_tiny):
    entry = _index(built_tiny)["spirits"]["tiny"]
    assert entry["task_type"] == "tool_call" and len(entry["recipe_hash"]) == 32 and entry["parent"] is None
    assert entry["teacher"].startswith("builtin/") and entry["parameters"] > 0 and entry["built"].endswith("Z")
    assert 0 <= entry["proof"]["value"] <= 1
    assert set(entry["bottles"]) == {"pt", "onnx"}
    for bottle in entry["bottles"].values():
        path = built_tiny / "cellar" / "tiny" / bottle["file"]
        assert bottle["bytes"] == path.stat().st_size and len(bottle["sha256"]) == 64
    listing = _cellar_cli(built_tiny)
    assert listing.returncode == 0 and "tiny" in listing.stdout and entry["recipe_hash"] in listing.stdout


DAMAGED_INDEXES = {  # what a hand edit can leave; each was a traceback, and an unparseable one read as empty
    "not JSON": lambda good: "{",
    "a list": lambda good: "[]",
    "spirits not a mapping": lambda good: '{"spirits": 3}',
    "an entry not an object": lambda good: json.dumps({"spirits": {**good["spirits"], "other": 3}}),
    "an entry without its proof": lambda good: json.dumps({"spirits": {"tiny": {**good["spirits"]["tiny"], "proof": 3}}}),
}


@pytest.mark.parametrize("case", sorted(DAMAGED_INDEXES))
def test_a_damaged_index_is_one_line_and_never_written_over(built_tiny, tmp_path, monkeypatch, case):
    from distill.cellar.index import update_index
    from distill.errors import DistillError
    from distill.recipe import load_recipe

    (tmp_path / "cellar").mkdir()
    damaged = DAMAGED_INDEXES[case](_index(built_tiny))
    (tmp_path / "cellar" / "index.json").write_text(damaged)
    for args in ((), ("build",)):
        result = _cellar_cli(tmp_path, *args)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "index.json: " in result.stderr, result.stderr
    monkeypatch.setenv("DISTILL_CELLAR", str(tmp_path / "cellar"))
    with pytest.raises(DistillError, match="move it aside"):  # a bottling would have kept only its own entry
        update_index(load_recipe(built_tiny / "recipes" / "tiny.yaml"), {}, built_tiny / "cellar" / "tiny" / "tiny.pt", "pt")
    assert (tmp_path / "cellar" / "index.json").read_text() == damaged


def test_fork_by_recipe_hash_resolves_against_the_cellar(built_tiny, tmp_path, monkeypatch):
    from distill.cellar.index import find_recipe_by_hash
    from distill.recipe import load_recipe

    monkeypatch.setenv("DISTILL_CELLAR", str(built_tiny / "cellar"))
    recipe_hash = _index(built_tiny)["spirits"]["tiny"]["recipe_hash"]
    assert find_recipe_by_hash(recipe_hash)["name"] == "tiny" and find_recipe_by_hash("ab" * 16) is None
    fork = tmp_path / "tiny-fork.yaml"
    fork.write_text(f'fork: "{recipe_hash}"\nstill: {{epochs: 1}}\n')
    recipe = load_recipe(fork)
    assert recipe.parent == recipe_hash and recipe["parent"] == recipe_hash
    assert recipe["still"]["epochs"] == 1 and recipe["task"]["type"] == "tool_call"
    missing = tmp_path / "missing.yaml"
    missing.write_text("fork: " + "ab" * 16 + "\n")
    result = run_cli("validate", str(missing))
    assert result.returncode == 2 and "no published Recipe with hash" in result.stderr
    assert "Traceback" not in result.stderr


def _build_site(built):
    out = _cellar_cli(built, "build")
    assert out.returncode == 0, out.stderr
    return built / "cellar" / "site"


def test_every_link_resolves(built_tiny):
    site = _build_site(built_tiny)
    pages = sorted(site.glob("*.html"))
    assert {p.name for p in pages} == {"index.html", "tiny.html"}
    for page in pages:
        for target in re.findall(r"(?:href|src)='([^']+)'", page.read_text()):
            assert (page.parent / target).resolve().exists(), f"{page.name} links to missing {target}"


def _chromium(*args):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=3000", "--allow-file-access-from-files", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    # Chromium logs every console message and uncaught error as an INFO:CONSOLE line without
    # its level, so any such line counts: the Cellar's pages log nothing when all is well.
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@needs_chromium
def test_console_check_catches_errors(tmp_path):
    """Guards the check below against a Chromium whose log format no longer matches."""
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><p>x</p><script>console.error('boom'); missingFunction();</script>")
    messages = _console(_chromium("--dump-dom", page.as_uri()).stderr)
    assert any("boom" in m for m in messages) and any("missingFunction" in m for m in messages)


@needs_chromium
@pytest.mark.parametrize("page", ["index.html", "tiny.html"])
def test_pages_render_in_chromium(built_tiny, tmp_path, page):
    site = _build_site(built_tiny)
    url = (site / page).as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console(dom.stderr) == []
    assert 'data-images-ok="true"' in dom.stdout  # set by the page: every <img> has naturalWidth > 0
    if page == "tiny.html":
        assert "../tiny/loss.png" in dom.stdout and "Tasting Notes" in dom.stdout
    else:
        assert "href=\"tiny.html\"" in dom.stdout and "id=\"task\"" in dom.stdout
    shot = tmp_path / f"{Path(page).stem}.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,900", url)
    assert shot.exists() and shot.stat().st_size > 5000

"""The Cellar site, opened in real headless Chromium: pages load, links resolve, the loss
curve renders, and the browser logs no console errors."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _build_site(built):
    env = {"DISTILL_CELLAR": str(built / "cellar"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "distill.cli", "cellar", "build"], capture_output=True, text=True, env=env)
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


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)")
@pytest.mark.parametrize("page", ["index.html", "tiny.html"])
def test_pages_render_in_chromium(built_tiny, tmp_path, page):
    site = _build_site(built_tiny)
    url = (site / page).as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-images-ok="true"' in dom.stdout  # every image loaded with a real width
    assert "tiny" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and ("Error" in line or "error" in line)]
    assert console == []
    shot = tmp_path / f"{Path(page).stem}.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,900", url)
    assert shot.exists() and shot.stat().st_size > 5000

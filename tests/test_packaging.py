"""A non-editable install carries what a build needs (schema, shipped Recipes) and builds a
Recipe from another directory; the lock file pins what CI installs."""
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import tomllib
import yaml

from tests.conftest import ROOT, tiny_recipe_data


def _venv_with_our_wheel(tmp_path) -> Path:
    """A fresh venv with this project installed from a built wheel (not editable); its
    dependencies are borrowed from the test's environment through a .pth file."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True)
    (wheel,) = wheels.glob("distillarium-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    return python


def test_a_wheel_install_builds_a_recipe_from_elsewhere(tmp_path):
    python = _venv_with_our_wheel(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mine.yaml").write_text(yaml.safe_dump(tiny_recipe_data(), sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTILL_") and k != "PYTHONPATH"}
    env.update(DISTILL_PROGRESS="off", DISTILL_THREADS="2", DISTILL_CELLAR=str(elsewhere / "cellar"))
    run = lambda *args: subprocess.run([str(python), "-m", "distill.cli", *args], cwd=elsewhere, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=600)
    where = run("validate", "needle")  # a shipped Recipe, found inside the installed package
    assert where.returncode == 0, where.stderr
    assert "site-packages" in where.stdout or "lib/python" in where.stdout, where.stdout
    built = run("build", "mine.yaml", "--until", "bottle", "--format", "pt", "--store", str(elsewhere / "store"))
    assert built.returncode == 0, built.stderr[-2000:]
    assert (elsewhere / "cellar" / "mine" / "mine.pt").is_file()
    imported = subprocess.run([str(python), "-c", "import distill; print(distill.__file__)"], cwd=elsewhere, env=env,
                              capture_output=True, text=True)
    assert str(ROOT) not in imported.stdout  # the installed copy, not this checkout


def test_lock_file_pins_every_dependency_exactly():
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    pins = {line.split("==")[0].lower(): line for line in lock if line and not line.startswith(("#", " ", "-"))}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]  # llama: opt-in source build
    names = {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in wanted}
    unpinned = sorted(name for name in names | {"numpy"} if "==" not in pins.get(name, ""))
    assert not unpinned, f"add to requirements.lock (see its header): {unpinned}"

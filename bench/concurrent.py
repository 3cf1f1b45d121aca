"""Two `doit` processes building one Recipe into one store at the same time, N rounds in a row:
both must exit 0, leave one bottle, and that bottle must be byte-identical to a clean build.

    python bench/concurrent.py --rounds 20          # the tiny test Recipe (about 20 s a round)
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the repository, not bench/ (concurrent.py would shadow the standard library)


def build(folder: Path, processes: int) -> tuple[list[int], float]:
    env = {**os.environ, "DISTILL_RECIPES": str(folder / "recipes"), "DISTILL_STORE": str(folder / "store"),
           "DISTILL_CELLAR": str(folder / "cellar"), "DISTILL_PROGRESS": "off", "DISTILL_THREADS": "1"}
    cmd = [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "--dir", str(folder), "bottle:tiny-pt"]
    started = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(processes)]
    codes = [p.wait(timeout=900) for p in procs]
    return codes, time.perf_counter() - started


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    from tests.conftest import tiny_recipe_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="distill-concurrent-"))
    recipe = yaml.safe_dump(tiny_recipe_data(), sort_keys=False)

    def fresh(name):
        folder = scratch / name
        (folder / "recipes").mkdir(parents=True)
        (folder / "recipes" / "tiny.yaml").write_text(recipe)
        return folder

    clean = fresh("clean")
    codes, _ = build(clean, 1)
    reference = digest(clean / "cellar" / "tiny" / "tiny.pt")
    ok = 0
    for i in range(args.rounds):
        folder = fresh(f"round{i}")
        codes, seconds = build(folder, 2)
        bottles = list((folder / "store" / "store" / "bottle").glob("*/*"))
        same = digest(folder / "cellar" / "tiny" / "tiny.pt") == reference
        leftovers = list((folder / "store").rglob(".tmp-*"))
        good = codes == [0, 0] and len(bottles) == 1 and same and not leftovers
        ok += good
        print(f"round {i + 1:2d}: exit codes {codes}, {len(bottles)} bottle, identical to the clean build: {same}, "
              f"temp folders left: {len(leftovers)} ({seconds:.1f} s){'' if good else '  <-- FAILED'}", flush=True)
    print(f"\n{ok}/{args.rounds} rounds: both processes exit 0, one bottle, byte-identical to a clean build")
    sys.exit(0 if ok == args.rounds else 1)


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)

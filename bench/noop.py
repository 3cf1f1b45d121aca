"""What a no-op costs: `doit list` and an up-to-date `doit bottle:<name>-onnx` against plain
`python -c "import doit"`, as medians over repeated whole-process runs (and their ratios).

    doit bottle:needle-onnx && python bench/noop.py          # needs a built needle (store + cellar)
    python bench/noop.py --runs 15 --target bottle:needle-onnx
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seconds(cmd: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {result.stderr.strip().splitlines()[-1:]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--target", default="bottle:needle-onnx")
    args = parser.parse_args()
    commands = {
        "python -c 'import doit'": [sys.executable, "-c", "import doit"],
        "doit list": [sys.executable, "-m", "doit", "list"],
        f"doit {args.target} (up to date)": [sys.executable, "-m", "doit", args.target],
    }
    out = subprocess.run(commands[f"doit {args.target} (up to date)"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0 or any(line.startswith(".  ") for line in out.stdout.splitlines()):
        sys.exit(f"{args.target} is not up to date (or failed): build it first")
    for cmd in commands.values():  # warm the page cache and the recipe/stat caches
        seconds(cmd)
    medians = {}
    for label, cmd in commands.items():
        runs = []
        for _ in range(args.runs):  # interleaved would be fairer on a noisy machine; these are short
            runs.append(seconds(cmd))
        medians[label] = statistics.median(runs)
    base = medians["python -c 'import doit'"]
    print(f"| command | median of {args.runs} | vs import doit |\n|---|---|---|")
    for label, value in medians.items():
        print(f"| `{label}` | {1000 * value:.0f} ms | {value / base:.2f}× |")


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)

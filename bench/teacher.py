"""Mash throughput against a loopback OpenAI-compatible teacher with 200 ms latency per request.

    python bench/teacher.py                 # 200 examples at concurrency 1, 4, 16, 64; 2,000 at 16
Prints examples/s, requests and wall time; the client is the real `openai` SDK.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the repository, not bench/ (concurrent.py would shadow the standard library)
os.environ.setdefault("DISTILL_PROGRESS", "off")
os.environ.setdefault("OPENAI_API_KEY", "sk-loopback")


def run(concurrency: int, examples: int) -> tuple[float, int]:
    from distill.build import Build
    from distill.recipe import load_recipe
    from distill.store import Store
    from tests.conftest import tiny_recipe_data
    from tests.wire_servers import WireServer

    folder = Path(tempfile.mkdtemp(prefix="distill-teacher-bench-"))
    with WireServer(latency_s=0.2) as server:
        data = tiny_recipe_data(("get_weather", "set_timer"))
        data["mash"] = {"examples_per_category": examples // 2, "inputs_per_request": 10}
        data["teacher"] = {"provider": "openai", "model": "gpt-4o", "base_url": server.url + "/v1",
                           "concurrency": concurrency}
        (folder / "bench.yaml").write_text(yaml.safe_dump(data))
        recipe = load_recipe(folder / "bench.yaml")
        started = time.perf_counter()
        Build(recipe, Store(folder / "root")).run("mash")
        return time.perf_counter() - started, len(server.requests)


def main():
    rows = [(c, 200, *run(c, 200)) for c in (1, 4, 16, 64)] + [(16, 2000, *run(16, 2000))]
    print("| concurrency | examples | requests | wall | examples/s |\n|---|---|---|---|---|")
    for concurrency, examples, seconds, requests in rows:
        print(f"| {concurrency} | {examples} | {requests} | {seconds:.1f} s | {examples / seconds:.1f} |")
    sequential = rows[0][2] / 200  # seconds per example at concurrency 1
    print(f"\n2,000 examples at concurrency 16 took {rows[-1][2]:.1f} s; sequentially they would take "
          f"~{2000 * sequential:.0f} s (measured rate at concurrency 1): ratio {rows[-1][2] / (2000 * sequential):.3f}")


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)

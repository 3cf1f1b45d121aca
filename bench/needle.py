"""Build a Recipe from scratch in a fresh store and print what each stage cost and produced.

    python bench/needle.py                  # recipes/needle.yaml, fresh temp store and cellar
    python bench/needle.py recipes/x.yaml --store .distill   # reuse a store (cached stages show ~0 s)
    python bench/needle.py --nproc 2            # the Still in 2 data-parallel processes (DISTILL_NPROC)
    python bench/needle.py --until notes        # stop after the notes (bench/gpu.sh)
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/ (its concurrent.py would shadow the standard library)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("recipe", nargs="?", default="recipes/needle.yaml")
    parser.add_argument("--store", help="store root (default: a fresh temp folder)")
    parser.add_argument("--nproc", type=int, help="processes for the Still (default: $DISTILL_NPROC or 1)")
    parser.add_argument("--until", choices=["notes", "bottle"], default="bottle")
    args = parser.parse_args()
    if args.nproc:
        os.environ["DISTILL_NPROC"] = str(args.nproc)
    started_all, cpu_started = time.perf_counter(), os.times()
    scratch = tempfile.mkdtemp(prefix="distill-bench-")
    os.environ.setdefault("DISTILL_CELLAR", str(Path(scratch) / "cellar"))
    from distill.build import Build
    from distill.spirit import load_spirit

    build = Build.from_path(args.recipe, args.store or Path(scratch) / "store")
    timings = {}
    for stage in ("mash", "cuts", "still", "notes"):
        started = time.perf_counter()
        build.run(stage)
        timings[stage] = time.perf_counter() - started
    bottles = {}
    for fmt in build.recipe["bottle"]["formats"] if args.until == "bottle" else []:
        started = time.perf_counter()
        path = build.run("bottle", fmt)
        timings[f"bottle-{fmt}"] = time.perf_counter() - started
        bottles[fmt] = path

    store, keys = build.store, build.keys
    shards = [store.manifest("mash", k)["stats"] for k in keys.shards.values()]
    cuts = store.manifest("cuts", keys.cuts)["summary"]
    notes = json.loads((store.get("notes", keys.notes) / "notes.json").read_text())
    history = json.loads((store.get("still", keys.still) / "history.json").read_text())
    heads = [json.loads(line) for line in (store.get("cuts", keys.cuts) / "heads.jsonl").read_text().splitlines()]

    rows = [("recipe", f"{build.recipe.name} ({build.recipe.hash})")]
    rows += [(f"time {stage}", f"{seconds:.1f} s") for stage, seconds in timings.items()]
    rows.append(("time total", f"{sum(timings.values()):.1f} s"))
    cpu = os.times()
    rows.append(("wall / CPU (all processes)", f"{time.perf_counter() - started_all:.1f} s / "
                 f"{cpu.user + cpu.system + cpu.children_user + cpu.children_system - sum(cpu_started[:4]):.1f} s, "
                 f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"))
    accepted = sum(s["accepted"] for s in shards)
    generated = sum(s["generated"] for s in shards)
    distinct = sum(s["distinct_input_share"] * s["generated"] for s in shards) / max(1, generated)
    rows += [("mash examples", f"{accepted} accepted of {generated} generated"),
             ("distinct utterances", f"{distinct:.1%}"),
             ("teacher requests", str(sum(s["requests"] for s in shards))),
             ("cuts", f"{cuts['hearts']} hearts / {cuts['heads']} heads ({cuts['heads_unseen_phrasing']} unseen phrasing) / {cuts['tails']} tails"),
             ("parameters", f"{history['parameters']:,}"),
             ("training positions/s", f"{history['positions_per_second']:.0f} ({history.get('processes', 1)} process(es) x "
                                      f"{history['threads']} thread(s), {history.get('device', 'cpu')}, "
                                      f"{history.get('precision', 'fp32')})"),
             ("still seconds (training steps)", f"{store.manifest('still', keys.still)['seconds']:.1f} "
                                                f"({history['train_seconds']:.1f})"),
             ("real-token positions", f"{history.get('real_token_fraction', 0):.1%}"),
             ("model GFLOP/s", f"{history.get('flops_per_second', 0) / 1e9:.1f}"),
             ("proof", f"{notes['proof']['degrees']} {notes['proof']['metric']}")]
    if "argument_exact_match" in notes["proof"]:
        rows.append(("argument exact-match", f"{notes['proof']['argument_exact_match']:.1%}"))
    unseen = notes["proof_unseen_phrasings"]
    if unseen["n"]:
        rows.append(("proof, unseen phrasings", f"{100 * unseen['value']:.0f}° on {unseen['n']}"
                     + (f", exact {unseen['argument_exact_match']:.1%}" if "argument_exact_match" in unseen else "")))
    for fmt, path in bottles.items():
        spirit = load_spirit(path)
        sample = heads[:50]
        started = time.perf_counter()
        for ex in sample:
            spirit.predict_example(ex)
        per = (time.perf_counter() - started) / max(1, len(sample))
        rows.append((f"bottle .{fmt}", f"{path.stat().st_size / 1e6:.1f} MB, pour {per * 1000:.0f} ms/example"))
    width = max(len(r[0]) for r in rows)
    print(f"| {'what'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)

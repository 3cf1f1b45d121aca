"""The Still against this machine's limit: achieved model FLOP/s over the matmul ceiling,
both measured in one run, for Needle's student (Llama decoder, 5.27M) and the 22.7M MiniLM
encoder intent grows from.

    python bench/still.py                       # 1 process x DISTILL_THREADS threads (default 1)
    python bench/still.py --threads 2           # 1 process x 2 threads
    python bench/still.py --nproc 2             # 2 data-parallel gloo processes x 1 thread
    python bench/still.py recipes/needle.yaml --rounds 9 --steps 8

Each round measures the ceiling (a square fp32 matmul — bf16 where the Still autocasts — on the
same threads, in every process at once), then runs `--steps` steps of the Still's own step
(collation, forward, backward, clipping, AdamW: stages/still.py Session.step), then the ceiling
again. The round's ratio is the Still's model FLOP/s (distill/flops.py: real tokens only) over
the mean of the two ceilings around it. The machine is shared and noisy, so the table quotes the
median of the rounds (and their range). The Cuts come from the built-in teacher in a fresh store.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the repository instead of bench/ (whose concurrent.py would shadow the standard library's)
sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/ (its concurrent.py would shadow the standard library)

RECIPES = ["recipes/needle.yaml", "recipes/intent.yaml"]


def _ceiling(session, seconds: float) -> float:
    """This process's matmul ceiling, summed over the processes (they measure at the same time)."""
    import torch

    from distill import devices, distributed
    from distill.flops import matmul_ceiling

    distributed.barrier(session.ranks)
    gpu = session.device.startswith("cuda")
    dtype = torch.bfloat16 if devices.precision(session.device).startswith("bf16") else None
    best = max(matmul_ceiling(seconds / 2, size, session.device, dtype) for size in ((8192,) if gpu else (1024, 2048)))
    return distributed.all_sum([best], session.ranks, session.device)[0]


def _steps(session, batches, start: int, count: int) -> tuple[float, float, int]:
    """(seconds, model FLOPs, real positions) of `count` Still steps, over every process."""
    import torch

    from distill import distributed

    sync = torch.cuda.synchronize if session.device.startswith("cuda") else (lambda: None)
    distributed.barrier(session.ranks)
    sync()
    started = time.perf_counter()
    flops = positions = 0
    for k in range(start, start + count):
        batch = batches[k % len(batches)]
        session.step(batch, 1e-4)
        flops += session.flops(batch)
        positions += sum(session.lengths[i] for i in batch)
    sync()
    distributed.barrier(session.ranks)
    return time.perf_counter() - started, flops, positions


def measure(recipe_path: str, store: str, rounds: int, steps: int, ceiling_seconds: float) -> dict | None:
    from distill import batching, distributed
    from distill.build import Build
    from distill.stages.still import start
    from distill.student import parameter_count

    build = Build.from_path(recipe_path, store)
    session = start(build)
    main = session.ranks.main
    settings = build.recipe["still"]
    batches = batching.epoch_batches(session.lengths, settings["batch_size"], build.recipe["seed"], 0)
    real = sum(session.lengths)
    computed = sum(batching.computed_positions(session.lengths, b, session.ranks.world) for b in batches)
    session.model.train()
    _steps(session, batches, 0, 2)  # warm up: allocator, kernels, DDP buckets
    ceilings, rates, ratios, pps = [], [], [], []
    done = 2
    for _ in range(rounds):
        before = _ceiling(session, ceiling_seconds)
        seconds, flops, positions = _steps(session, batches, done, steps)
        done += steps
        after = _ceiling(session, ceiling_seconds)
        ceilings += [before, after]
        rates.append(flops / seconds)
        ratios.append(flops / seconds / ((before + after) / 2))
        pps.append(positions / seconds)
    distributed.barrier(session.ranks)
    if not main:
        return None
    config = session.model.config
    return {"recipe": build.recipe.name, "arch": config.model_type, "parameters": parameter_count(session.model),
            "real": real / computed, "device": session.device, "processes": session.ranks.world,
            "threads": session.threads, "batch": settings["batch_size"],
            "tokens_per_step": real / len(batches), "ceiling": statistics.median(ceilings),
            "achieved": statistics.median(rates), "ratio": statistics.median(ratios),
            "ratio_range": (min(ratios), max(ratios)), "positions_per_second": statistics.median(pps)}


def table(rows: list[dict]) -> str:
    out = ["| student | parameters | batch (real tokens/step) | real-token positions | layout | ceiling GFLOP/s | "
           "Still GFLOP/s | ratio (median, range) | positions/s |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        layout = f"{r['processes']} proc x {r['threads']} thr, {r['device']}"
        out.append(f"| {r['recipe']} ({r['arch']}) | {r['parameters'] / 1e6:.2f}M | {r['batch']} ({r['tokens_per_step']:.0f}) | "
                   f"{r['real']:.1%} | {layout} | {r['ceiling'] / 1e9:.0f} | {r['achieved'] / 1e9:.0f} | "
                   f"{r['ratio']:.2f} ({r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}) | {r['positions_per_second']:,.0f} |")
    return "\n".join(out)


def worker(args):
    """One process of the run (alone, or one of torchrun's)."""
    rows = [measure(path, args.store, args.rounds, args.steps, args.ceiling_seconds) for path in args.recipes]
    from distill import distributed

    distributed.stop()
    if rows[0] is not None:
        print(table(rows), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", default=RECIPES)
    parser.add_argument("--store", help="store with the Recipes' cuts (default: a fresh temp store, built here)")
    parser.add_argument("--threads", type=int, help="threads per process (default: DISTILL_THREADS, else 1)")
    parser.add_argument("--nproc", type=int, default=1, help="data-parallel processes (torchrun, gloo on the CPU)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=6, help="Still steps per round")
    parser.add_argument("--ceiling-seconds", type=float, default=0.6)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DISTILL_PROGRESS", "off")
    if args.threads:
        os.environ["DISTILL_THREADS"] = str(args.threads)
    if args.worker:
        return worker(args)
    from distill.build import Build

    args.store = args.store or str(Path(tempfile.mkdtemp(prefix="distill-bench-still-")) / "store")
    for path in args.recipes:
        build = Build.from_path(path, args.store)
        for stage in ("mash", "cuts"):
            build.run(stage)
    print(f"bench/still.py: {args.nproc} process(es) x {os.environ.get('DISTILL_THREADS', '1')} thread(s), "
          f"{args.rounds} rounds of {args.steps} steps; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
          flush=True)
    if args.nproc == 1:
        return worker(args)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(args.nproc),
               __file__, "--worker", "--store", args.store, "--rounds", str(args.rounds), "--steps", str(args.steps),
               "--ceiling-seconds", str(args.ceiling_seconds), *args.recipes]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("DISTILL_THREADS", "1")}
    sys.exit(subprocess.run(command, env=env).returncode)


if __name__ == "__main__":
    main()

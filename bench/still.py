"""The Still against this machine's limit: achieved model FLOP/s over the matmul ceiling,
both measured in one run, for Needle's and intent's students (both grown from the packaged 22.7M
MiniLM-L6 encoder; the embedding rows their data never uses are not trained, objective.py).

    python bench/still.py                       # 1 process x DISTILL_THREADS threads (default 1)
    python bench/still.py --threads 2           # 1 process x 2 threads
    python bench/still.py --nproc 2             # 2 data-parallel gloo processes x 1 thread
    python bench/still.py recipes/needle.yaml --rounds 9 --steps 8

Each round measures the ceiling (square fp32 matmuls — bf16 where the Still autocasts — of the
size this machine multiplies fastest, on the same threads, in every process at once, for
--ceiling-seconds), then runs --steps steps of the Still's own step (collation, forward,
backward, clipping, AdamW: stages/still.py Session.step), then the ceiling again. The round's
ratio is the Still's model FLOP/s (distill/flops.py: what runs, on real tokens) over the mean of
the two ceilings around it, both as rates over the wall clock. The machine is shared: other jobs
take the cores at random, so the table also gives both rates per CPU-second of the processes
(the same definition for the matmul and the Still: what a core does while it is ours), and it
quotes medians over the rounds with their range. The Cuts come from the built-in teacher in a
fresh store.
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


def _ceiling(session, seconds: float, size: int) -> tuple[float, float]:
    """Square matmuls (fp32; bf16 where the Still autocasts) for about `seconds` in every process at
    once: (FLOP/s over the wall clock, summed over processes; FLOPs per CPU-second of the processes)."""
    import torch

    from distill import devices, distributed

    dtype = torch.bfloat16 if devices.precision(session.device).startswith("bf16") else torch.float32
    a = torch.randn(size, size, device=session.device, dtype=dtype)
    b = torch.randn(size, size, device=session.device, dtype=dtype)
    sync = torch.cuda.synchronize if session.device.startswith("cuda") else (lambda: None)
    a @ b
    distributed.barrier(session.ranks)
    sync()
    wall, cpu, flops = time.perf_counter(), time.process_time(), 0.0
    while time.perf_counter() - wall < seconds:
        for _ in range(4):
            a @ b
        sync()
        flops += 4 * 2.0 * size ** 3
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rate, flops, cpu = distributed.all_sum([flops / wall, flops, cpu], session.ranks, session.device)
    return rate, flops / cpu


def _steps(session, batches, start: int, count: int) -> tuple[float, float, float]:
    """`count` Still steps: (model FLOP/s over the wall clock, model FLOPs per CPU-second of the
    processes, real positions per second), over every process."""
    import torch

    from distill import distributed

    sync = torch.cuda.synchronize if session.device.startswith("cuda") else (lambda: None)
    distributed.barrier(session.ranks)
    sync()
    wall, cpu = time.perf_counter(), time.process_time()
    flops = positions = 0
    for k in range(start, start + count):
        batch = batches[k % len(batches)]
        session.step(batch, 1e-4)
        flops += session.flops(batch)
        positions += sum(session.lengths[i] for i in batch)
    sync()
    distributed.barrier(session.ranks)
    wall = time.perf_counter() - wall
    cpu = distributed.all_sum([time.process_time() - cpu], session.ranks, session.device)[0]
    return flops / wall, flops / cpu, positions / wall


def _matmul_size(session, seconds: float) -> int:
    """The square size this machine multiplies fastest (its ceiling, not a cache accident)."""
    if session.device.startswith("cuda"):
        return 8192
    return max((1024, 2048), key=lambda size: _ceiling(session, seconds, size)[1])


def measure(recipe_path: str, store: str, rounds: int, steps: int, ceiling_seconds: float) -> dict | None:
    from distill import batching, distributed
    from distill.build import Build
    from distill.stages.still import start, still_seed
    from distill.student import parameter_count

    build = Build.from_path(recipe_path, store)
    session = start(build)
    main = session.ranks.main
    settings = build.recipe["still"]
    batches = batching.epoch_batches(session.lengths, settings["batch_size"], still_seed(build.recipe), 0)
    real = sum(session.lengths)
    computed = sum(batching.computed_positions(session.lengths, b, session.ranks.world) for b in batches)
    session.model.train()
    _steps(session, batches, 0, 2)  # warm up: allocator, kernels, DDP buckets
    size = _matmul_size(session, ceiling_seconds)
    rounds_seen = []
    done = 2
    for _ in range(rounds):
        before = _ceiling(session, ceiling_seconds, size)
        wall_rate, cpu_rate, pps = _steps(session, batches, done, steps)
        done += steps
        after = _ceiling(session, ceiling_seconds, size)
        rounds_seen.append({"ceiling": (before[0] + after[0]) / 2, "achieved": wall_rate,
                            "ratio": wall_rate / ((before[0] + after[0]) / 2),
                            "cpu_ceiling": (before[1] + after[1]) / 2, "cpu_achieved": cpu_rate,
                            "cpu_ratio": cpu_rate / ((before[1] + after[1]) / 2), "positions_per_second": pps})
    distributed.barrier(session.ranks)
    if not main:
        return None
    config = session.model.config
    median = {key: statistics.median(r[key] for r in rounds_seen) for key in rounds_seen[0]}
    return {"recipe": build.recipe.name, "arch": config.model_type, "parameters": parameter_count(session.model),
            "real": real / computed, "device": session.device, "processes": session.ranks.world,
            "threads": session.threads, "batch": settings["batch_size"], "tokens_per_step": real / len(batches),
            "matmul": size, **median, "ratio_range": (min(r["ratio"] for r in rounds_seen), max(r["ratio"] for r in rounds_seen)),
            "cpu_ratio_range": (min(r["cpu_ratio"] for r in rounds_seen), max(r["cpu_ratio"] for r in rounds_seen))}


def table(rows: list[dict]) -> str:
    out = ["| student | parameters | batch (real tokens/step) | real-token positions | layout | ceiling GFLOP/s | "
           "Still GFLOP/s | ratio (range) | per CPU-second: ceiling / Still GFLOP | ratio (range) | positions/s |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        layout = f"{r['processes']} proc x {r['threads']} thr, {r['device']}"
        out.append(f"| {r['recipe']} ({r['arch']}) | {r['parameters'] / 1e6:.2f}M | {r['batch']} ({r['tokens_per_step']:.0f}) | "
                   f"{r['real']:.1%} | {layout} | {r['ceiling'] / 1e9:.0f} | {r['achieved'] / 1e9:.0f} | "
                   f"{r['ratio']:.2f} ({r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}) | "
                   f"{r['cpu_ceiling'] / 1e9:.0f} / {r['cpu_achieved'] / 1e9:.0f} | "
                   f"{r['cpu_ratio']:.2f} ({r['cpu_ratio_range'][0]:.2f}-{r['cpu_ratio_range'][1]:.2f}) | "
                   f"{r['positions_per_second']:,.0f} |")
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
    from distill.errors import exit_reporting

    exit_reporting(main, __file__)

"""Data-parallel Stills on torch.distributed: one process per CPU core (gloo) or per GPU (NCCL),
launched by torchrun.

    distill build needle --nproc 2          # or DISTILL_NPROC=2 doit bottle:needle-onnx

`distill build` (or doit) runs the stages before the Still as usual, then starts torchrun's
launcher in-process (torch.distributed.run, what the `torchrun` command runs) with this module
as the worker: `torchrun --nproc-per-node N --standalone -m distill.distributed <launch.json>`.
Every worker rebuilds the same Build from the normalised Recipe written to launch.json, trains
its slice of every global batch (batching.shard) and all-reduces gradients once per step; rank
0 alone writes checkpoints and publishes the artifact; then the parent process goes on to the
notes and bottles.

Two machines (torchrun's static rendezvous; both need the Recipe's cuts: the same store,
or the same teacher cache, `distill build needle --until cuts` on each):

    machine A (node 0, 10.0.0.1):  distill build needle --nproc 2 --nnodes 2 --node-rank 0 --master 10.0.0.1:29500
    machine B (node 1):            distill build needle --nproc 2 --nnodes 2 --node-rank 1 --master 10.0.0.1:29500

Node 0 holds rank 0: it writes checkpoints, publishes the Still into its store and goes on to the
notes and bottles; node 1 stops after the Still. A killed process (any rank) stops the run;
the same command again resumes every process from rank 0's last checkpoint.
"""
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import DistillError
from .progress import say


@dataclass(frozen=True)
class Ranks:
    """Who this process is in a data-parallel run (rank 0 of 1 when it runs alone)."""

    rank: int = 0
    world: int = 1
    local: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def current() -> Ranks:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return Ranks()


def launched_by_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or ("RANK" in os.environ and "WORLD_SIZE" in os.environ)


def start(device: str) -> Ranks:
    """Join the process group torchrun set up (gloo on the CPU, NCCL on GPUs)."""
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        if device.startswith("cuda"):
            torch.cuda.set_device(device)
            dist.init_process_group("nccl", device_id=torch.device(device))
        else:
            dist.init_process_group("gloo")
    return current()


def stop():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast(value, ranks: Ranks):
    """Rank 0's value on every rank (a resumed checkpoint: rank 0 read and checked it)."""
    if ranks.world == 1:
        return value
    import torch.distributed as dist

    box = [value if ranks.main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_sum(values: list[float], ranks: Ranks, device: str) -> list[float]:
    """Element-wise sum over every rank (losses and counts)."""
    if ranks.world == 1:
        return values
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def same_everywhere(value: str, ranks: Ranks, what: str):
    """Every rank trains the same thing (two machines could hold different Recipes or cuts)."""
    if ranks.world == 1:
        return
    import torch.distributed as dist

    seen = [None] * ranks.world
    dist.all_gather_object(seen, value)
    if len(set(seen)) > 1:
        raise DistillError(f"the processes of this run disagree on the {what} ({', '.join(sorted(set(seen)))}); "
                           "every machine must build the same Recipe from the same cuts")


def barrier(ranks: Ranks):
    if ranks.world > 1:
        import torch.distributed as dist

        dist.barrier()


def maybe_die(ranks: Ranks, step: int):
    """Test hook: DISTILL_TEST_KILL=<rank>:<step> makes that rank kill -9 itself after that step."""
    wanted = os.environ.get("DISTILL_TEST_KILL")
    if wanted and wanted == f"{ranks.rank}:{step}":
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------- launching


@dataclass(frozen=True)
class Launch:
    processes: int = 1  # per node
    nodes: int = 1
    node_rank: int = 0
    master: str = ""  # host:port of node 0, for more than one node

    @property
    def distributed(self) -> bool:
        return self.processes * self.nodes > 1


def _int_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw.strip() else default
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise DistillError(f"{name}={raw!r}: give a whole number, {minimum} or more")
    return value


def launch_settings() -> Launch:
    """DISTILL_NPROC (processes per node), DISTILL_NNODES, DISTILL_NODE_RANK, DISTILL_MASTER;
    `distill build --nproc/--nnodes/--node-rank/--master` set them."""
    launch = Launch(_int_env("DISTILL_NPROC", 1, 1), _int_env("DISTILL_NNODES", 1, 1),
                    _int_env("DISTILL_NODE_RANK", 0, 0), os.environ.get("DISTILL_MASTER", "").strip())
    if launch.nodes > 1 and (":" not in launch.master or not launch.master.rsplit(":", 1)[1].isdigit()):
        raise DistillError("a run on more than one machine needs --master HOST:PORT (DISTILL_MASTER): node 0's "
                           "address and a free port, the same on every machine")
    if launch.node_rank >= launch.nodes:
        raise DistillError(f"--node-rank {launch.node_rank} with --nnodes {launch.nodes}: node ranks run from 0 "
                           f"to {launch.nodes - 1}")
    return launch


def torchrun_args(launch: Launch, spec: Path) -> list[str]:
    args = ["--nproc-per-node", str(launch.processes)]
    if launch.nodes == 1:
        args += ["--standalone"]
    else:
        host, port = launch.master.rsplit(":", 1)
        args += ["--nnodes", str(launch.nodes), "--node-rank", str(launch.node_rank), "--rdzv-backend", "static",
                 "--master-addr", host, "--master-port", port]
    return args + ["--max-restarts", "0", "-m", "distill.distributed", str(spec)]


PEER_FAILED = 3  # a worker's exit status when it stopped because another process of the run failed


def _quiet_torchrun():
    """torchrun's agent logs each failure as a multi-line report; the Still says it in one line."""
    loggers = [logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)
               if name.startswith("torch.distributed")]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    return lambda: [lg.setLevel(level) for lg, level in zip(loggers, before)]


def _failure_line(err, label: str, resume_step: int | None) -> str:
    failures = err.failures
    # the process that failed first, not those that stopped because of it (torchrun's SIGTERM, or our
    # PEER_FAILED: a worker that exits without the interpreter's teardown can be reported first)
    rank = min(failures, key=lambda r: (failures[r].exitcode in (-signal.SIGTERM, PEER_FAILED), failures[r].timestamp, r))
    failure = failures[rank]
    if failure.exitcode < 0:
        how = f"was killed by {failure.signal_name()}"
    else:
        how = f"exited with status {failure.exitcode}" + (" (its error is above)" if failure.exitcode == 2 else "")
    where = f"resume from step {resume_step}" if resume_step else "start again (no checkpoint was saved yet)"
    return f"{label}: training process rank {rank} (pid {failure.pid}) {how}; run the same command again to {where}"


def launch_still(build, launch: Launch) -> dict | None:
    """Run the Still in `launch.processes` processes on this node; the artifact's summary, or
    None on a node other than 0 (rank 0, on node 0, published it there)."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    from .checkpoints import Checkpoints
    from .devices import training_threads

    recipe, store, key = build.recipe, build.store, build.keys.still
    work = store.work_dir("still", key)
    spec = work / "launch.json"
    spec.write_text(json.dumps({"name": recipe.name, "path": str(recipe.path), "data": recipe.data,
                                "parent": recipe.parent, "foreign": recipe.foreign, "store": str(store.root),
                                "still_key": key}))
    args = torchrun_args(launch, spec)
    label = f"still {recipe.name}"
    say(f"{label}: {launch.processes * launch.nodes} processes ({launch.processes} on this node), "
        f"{training_threads()} thread(s) each: torchrun {' '.join(args)}")
    threads = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(training_threads())  # torchrun would set 1 and say so
    restore = _quiet_torchrun()
    try:
        run(get_args_parser().parse_args(args))
    except ChildFailedError as err:
        saved = Checkpoints(work).latest_step()
        raise DistillError(_failure_line(err, label, saved)) from None
    except SignalException:
        raise KeyboardInterrupt from None
    finally:
        restore()
        if threads is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = threads
    if launch.node_rank != 0:
        say(f"{label}: done on node {launch.node_rank}; node 0 published the Still in its store")
        return None
    manifest = store.manifest("still", key)
    if manifest is None:
        raise DistillError(f"{label}: the training processes ended without publishing the Still")
    return manifest["summary"]


def main(argv=None) -> int:
    """A torchrun worker: train this process's share of the Still."""
    from .build import Build
    from .recipe import Recipe
    from .stages.still import train
    from .store import Store

    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text())
    recipe = Recipe(name=spec["name"], path=Path(spec["path"]), data=spec["data"], parent=spec["parent"],
                    foreign=spec["foreign"])
    build = Build(recipe, Store(spec["store"]))
    rank = os.environ.get("RANK", "?")
    try:
        if build.keys.still != spec["still_key"]:
            raise DistillError(f"{argv[0]}: the Recipe does not give the Still key it was launched for")
        train(build)
    except DistillError as err:
        print(f"distill: error: {err}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 130
    except RuntimeError as err:  # a collective whose peer died: the launcher names the process that failed
        if "Connection closed by peer" in str(err) or "Connection reset" in str(err) or "NCCL" in str(err):
            print(f"distill: still worker rank {rank} stopped: another process of the run failed", file=sys.stderr, flush=True)
            return PEER_FAILED
        raise
    finally:
        stop()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The work is done (rank 0 has published), so skip the interpreter's teardown: there gloo's
    # threads can abort a finished worker ("terminate called without an active exception",
    # SIGABRT), seen once in 2-process test runs, which failed a build that had succeeded.
    os._exit(code)

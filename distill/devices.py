"""Where the Still runs: the device, the threads per process, and what each device is good at.

- Device: `still.device` in the Recipe (auto, cpu, cuda, cuda:N), overridden by DISTILL_DEVICE.
  auto is CUDA when torch sees a GPU, else the CPU. The device is not part of any key: it changes
  the last bits of the weights, not what was asked for (README: Determinism).
- Threads: DISTILL_THREADS per process, default 1. Measured on this 2-core machine while other
  jobs ran: 2 threads per step were 4.5x slower than 1 (7.5 vs 34 GFLOP/s on Needle's student;
  bench/still.py). Every small matmul ends in a barrier that waits for the thread whose core
  another job has; one thread never waits. Use more cores with more processes (`--nproc`, one
  thread each, one gradient all-reduce per step) rather than more threads. One thread also makes
  the default result independent of the core count, so two machines of one CPU kind agree.
- On a GPU: bf16 autocast where the GPU supports it (weights, optimizer and loss stay fp32),
  fused AdamW, batches in pinned memory copied without blocking.
"""
import contextlib
import os

from .errors import DistillError

CHOICES = "auto, cpu, cuda or cuda:N"


def training_threads() -> int:
    """Threads per training process: DISTILL_THREADS, else 1 (see the module docstring)."""
    raw = os.environ.get("DISTILL_THREADS", "1")
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if threads < 1:
        raise DistillError(f"DISTILL_THREADS={raw!r}: give a whole number of threads, 1 or more")
    return threads


def set_threads() -> int:
    import torch

    torch.set_num_threads(training_threads())
    return torch.get_num_threads()


def requested(setting: str | None = None) -> str:
    """The device asked for: DISTILL_DEVICE, else the Recipe's still.device, else auto."""
    return (os.environ.get("DISTILL_DEVICE") or setting or "auto").strip().lower()


def resolve(setting: str | None = None, local_rank: int = 0, strict: bool = True) -> str:
    """'cpu' or 'cuda:N' (a process of a data-parallel run takes the GPU of its local rank).
    strict=False: 'cpu' where the GPU asked for is missing (to describe this machine, not to train)."""
    import torch

    choice = requested(setting)
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cpu":
        return "cpu"
    if choice == "cuda" or (choice.startswith("cuda:") and choice[5:].isdigit()):
        if not torch.cuda.is_available():
            if not strict:
                return "cpu"
            raise DistillError(f"the Still was asked to train on {choice} (DISTILL_DEVICE or still.device), but this torch "
                               f"({torch.__version__}) sees no CUDA GPU; set DISTILL_DEVICE=cpu (or auto) to train here")
        index = local_rank if choice == "cuda" else int(choice[5:]) + local_rank
        if index >= torch.cuda.device_count():
            raise DistillError(f"{choice} for process {local_rank}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
        return f"cuda:{index}"
    raise DistillError(f"unknown device {choice!r} (DISTILL_DEVICE or still.device); use {CHOICES}")


def kind(device: str) -> str:
    """What the device is, for the environment record: the CPU model, or the GPU's name and capability."""
    if device.startswith("cuda"):
        import torch

        index = int(device.split(":")[1]) if ":" in device else 0
        major, minor = torch.cuda.get_device_capability(index)
        return f"{torch.cuda.get_device_name(index)} (sm_{major}{minor}, CUDA {torch.version.cuda})"
    from .provenance import cpu_kind

    return cpu_kind()


def autocast(device: str):
    """bf16 autocast on a GPU that supports it; plain fp32 on the CPU (bf16 made training 2x slower there)."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def precision(device: str) -> str:
    import torch

    return "bf16 autocast" if device.startswith("cuda") and torch.cuda.is_bf16_supported() else "fp32"


def adamw(params, device: str, lr: float, weight_decay: float):
    """AdamW, fused into one kernel per step where torch has one (CUDA, and CPU since torch 2.4)."""
    import torch

    try:
        return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):  # an older torch or a device without the fused kernel
        return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=weight_decay)


def to_device(tensors, device: str):
    """Batches move to a GPU from pinned memory without blocking the next step's collation."""
    if device == "cpu":
        return tensors
    return tuple(t.pin_memory().to(device, non_blocking=True) for t in tensors)


def deterministic(device: str):
    """Ask CUDA for its deterministic kernels (the CPU's are deterministic at a fixed thread count)."""
    if device.startswith("cuda"):
        import torch

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False

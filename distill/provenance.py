"""What a training run depended on besides its inputs: library versions, threads, processes,
device, CPU.

Bit-identical reproduction is promised only when these match, so the Still records them, every
Spirit embeds them, and `distill reproduce` / `distill verify` name any difference first.
"""
import platform

LIBRARIES = ("torch", "transformers", "tokenizers", "numpy")


def cpu_kind() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def environment(threads: int | None = None, device: str | None = None, processes: int | None = None) -> dict:
    """The environment of a Still; by default, of one that would train here now (DISTILL_THREADS,
    DISTILL_DEVICE or auto, DISTILL_NPROC x DISTILL_NNODES processes)."""
    from . import devices

    if threads is None:
        threads = devices.training_threads()
    if device is None:
        device = devices.resolve(strict=False)
    if processes is None:
        from .distributed import launch_settings

        launch = launch_settings()
        processes = launch.processes * launch.nodes
    kind = "cuda" if device.startswith("cuda") else device  # cuda:1 and cuda:0 are the same kind
    return {"libraries": library_versions(), "threads": threads, "processes": processes, "device": kind,
            "device_kind": devices.kind(device), "cpu": cpu_kind(), "python": platform.python_version(),
            "os": f"{platform.system()} {platform.machine()}"}


def is_environment(recorded) -> bool:
    """The shape environment() writes (or nothing recorded): a Spirit's copy may be damaged."""
    return recorded is None or (isinstance(recorded, dict) and isinstance(recorded.get("libraries", {}), dict))


def differences(recorded: dict | None, current: dict) -> list[str]:
    """One phrase per difference that can change the weights ("torch 2.13.0 here, 2.12.1 recorded")."""
    if not recorded:
        return ["the Spirit records no training environment (bottled before it was recorded)"]
    out = []
    for name, version in current.get("libraries", {}).items():
        was = recorded.get("libraries", {}).get(name)
        if was != version:
            out.append(f"{name} {version} here, {was or 'unrecorded'} recorded")
    for field in ("threads", "processes", "device", "device_kind", "cpu"):
        if field in ("processes", "device_kind") and field not in recorded:
            continue  # recorded before processes and device kinds were
        if field == "device_kind" and recorded.get("device") == current.get("device") == "cpu":
            continue  # the cpu field names it
        if recorded.get(field) != current.get(field):
            out.append(f"{field} {current.get(field)} here, {recorded.get(field)} recorded")
    return out

"""The .pt bottle: one torch.save'd dict of strings and tensors, loadable with
torch.load(weights_only=True), so reading it never runs code. Its zip members' CRC-32s are
checked before torch reads a byte (torch.load itself does not check them)."""
import json
from pathlib import Path

from ..errors import DistillError
from . import check_marker, first_line
from . import weights_digest as state_digest
from .seal import check_zip

SUFFIX = ".pt"


def write(path, model, tokenizer, meta: dict, options: dict):
    import torch

    torch.save({**meta, "state_dict": model.state_dict()}, path)


def read(path: Path):
    """(strings, state dict) of a .pt Spirit: its zip CRCs checked, then loaded as plain data."""
    import torch

    check_zip(path)
    try:
        # weights_only: a Spirit is data, never code; a pickle that would run code is refused here
        blob = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - any unreadable file is one clear line
        raise DistillError(f"{path}: not a loadable .pt Spirit ({first_line(err)})") from None
    if not isinstance(blob, dict) or blob.get("format") != "distillarium-spirit":
        raise DistillError(f"{path}: not a Distillarium Spirit (missing format marker)")
    meta = {k: v for k, v in blob.items() if isinstance(v, str)}
    check_marker(path, meta, "dict")
    if not isinstance(blob.get("state_dict"), dict):
        raise DistillError(f"{path}: damaged Spirit: no state_dict")
    return meta, blob["state_dict"]


def weights_digest(meta: dict, state_dict) -> tuple[str, str | None]:
    return state_digest(state_dict), json.loads(meta.get("digests", "{}")).get("weights")


def weight_type(meta: dict) -> str:
    return "f32"


def describe(path, meta: dict, state_dict) -> tuple[str, str]:
    return f"pt (PyTorch, {len(state_dict)} tensors, float32)", "zip CRC-32 of every member verified"


def open_runner(path, meta: dict, state_dict, runtime: str):
    from ..runtimes.torch import model_from_state, runner_for

    return runner_for(model_from_state(path, meta["config"], state_dict)), "torch"

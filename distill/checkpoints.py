"""A training run's resumable state, checked like a published artifact.

Each save writes `checkpoint-<step>.pt` (temp name, then rename) and then records it, with its
digest, in `checkpoints.json` (temp name, then rename): the record never names a half-written
file. A resume uses the latest recorded file whose bytes match their digest, else the one
before it, else starts from scratch; a damaged file is reported in one line and deleted, never
loaded. Files are loaded with torch.load(weights_only=True): tensors and strings only.
"""
import json
import os
import sys
from pathlib import Path

from .hashing import digest

RECORD = "checkpoints.json"
KEEP = 2  # the latest and the one before it


def _file_digest(path: Path) -> str:
    return digest(path.read_bytes())


class Checkpoints:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _record(self) -> list[dict]:
        try:
            entries = json.loads((self.folder / RECORD).read_text())
            return [e for e in entries if isinstance(e, dict) and {"file", "digest", "step"} <= set(e)]
        except (OSError, ValueError, TypeError):
            return []

    def _write_record(self, entries: list[dict]):
        tmp = self.folder / f".{RECORD}.{os.getpid()}"
        tmp.write_text(json.dumps(entries))
        os.replace(tmp, self.folder / RECORD)

    def save(self, payload: dict, step: int):
        import torch

        name = f"checkpoint-{step}.pt"
        tmp = self.folder / f".{name}.{os.getpid()}"
        torch.save(payload, tmp)
        entry = {"file": name, "digest": _file_digest(tmp), "step": step}
        os.replace(tmp, self.folder / name)
        kept = [e for e in self._record() if e["file"] != name][-(KEEP - 1):] + [entry]
        self._write_record(kept)
        self._remove_unrecorded(kept)

    def _remove_unrecorded(self, kept: list[dict]):
        names = {e["file"] for e in kept} | {RECORD}
        for path in self.folder.iterdir():
            if path.name not in names and (path.name.startswith(("checkpoint", ".checkpoint")) or path.suffix == ".pt"):
                path.unlink(missing_ok=True)

    def load_latest(self, label: str) -> dict | None:
        """The newest intact checkpoint's contents, or None (nothing saved, or nothing intact)."""
        import torch

        entries = self._record()
        for entry in reversed(entries):
            path = self.folder / entry["file"]
            problem = None
            if not path.is_file():
                problem = "is missing"
            elif _file_digest(path) != entry["digest"]:
                problem = "does not match the digest recorded when it was saved (truncated or changed)"
            if problem is None:
                try:
                    return torch.load(path, weights_only=True, map_location="cpu")  # resumable on any device
                except Exception as err:  # noqa: BLE001 - an unreadable checkpoint is a lost one, not a crash
                    problem = f"cannot be read ({type(err).__name__})"
            print(f"warning: {label}: checkpoint {path} {problem}; it is deleted and not resumed from",
                  file=sys.stderr, flush=True)
            path.unlink(missing_ok=True)
            entries = [e for e in entries if e is not entry]
            self._write_record(entries)
        self._remove_unrecorded(entries)  # files no record vouches for (an older layout, a killed save)
        return None

    def latest_step(self) -> int | None:
        """The step of the newest recorded checkpoint (not checked: for messages)."""
        entries = self._record()
        return entries[-1]["step"] if entries else None

    def clear(self):
        for path in self.folder.iterdir():
            path.unlink(missing_ok=True)

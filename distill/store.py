"""The content-addressed store: one immutable folder per (stage, key), with a manifest.

Artifacts are built in a temp folder beside their final place, fsynced, then renamed into
place, so a crash leaves no half artifact and two builders of one key cannot corrupt it.
A manifest whose files do not match their digests is a miss (warned about), never a success.
With a remote configured (DISTILL_REMOTE, see remote_tier.py) a local miss asks the remote next,
and every artifact built here is uploaded once it is in place.
"""
import contextlib
import fcntl
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .hashing import digest

MANIFEST = "manifest.json"


def default_root() -> Path:
    return Path(os.environ.get("DISTILL_STORE", ".distill")).resolve()


def _file_digest(path: Path) -> str:
    return digest(path.read_bytes())


class StatCache:
    """Digests of files remembered with their size and mtime, as doit's file checker does: a file
    whose stat is unchanged is not read again. Losing this file (or a concurrent writer's
    update) only costs a re-hash, never correctness of content checks that matter: `distill
    verify` always re-hashes."""

    def __init__(self, path: Path):
        self.path, self.changed, self._entries = path, False, None

    @property
    def entries(self) -> dict:
        if self._entries is None:
            try:
                self._entries = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self._entries = {}
        return self._entries

    def digest(self, path: Path, compute) -> str | None:
        """compute(path) unless the stat matches what was remembered; None if the file is missing."""
        try:
            st = path.stat()
        except OSError:
            return None
        signature = [st.st_size, st.st_mtime_ns]
        remembered = self.entries.get(str(path))
        if remembered and remembered[:2] == signature:
            return remembered[2]
        value = compute(path)
        self.entries[str(path)] = [*signature, value]
        self.changed = True
        return value

    def save(self):
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(self.entries))
            os.replace(tmp, self.path)
            self.changed = False
        except OSError:
            pass


def _fsync_tree(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


AUTO = "auto"  # Store(remote=AUTO): the remote the user configured, if any


class Store:
    """`remote`: AUTO (DISTILL_REMOTE or the user config), None (this store alone) or a RemoteTier."""

    def __init__(self, root=None, remote=AUTO):
        self.root = Path(root).resolve() if root else default_root()
        self.stats = StatCache(self.root / "stat-cache.json")
        self._remote = remote

    @property
    def remote(self):
        """The remote tier, opened on first use (so a store without one never imports s3fs)."""
        if self._remote == AUTO:
            from .remote_tier import RemoteTier
            from .settings import remote_url

            url = remote_url()
            self._remote = RemoteTier.for_url(url) if url else None
        return self._remote

    # where things live
    @property
    def artifacts(self) -> Path:
        return self.root / "store"

    @property
    def teacher_cache(self) -> Path:
        return self.root / "teacher-cache"

    def work_dir(self, stage: str, key: str) -> Path:
        """Scratch space for a build in progress (e.g. resumable Still checkpoints)."""
        path = self.root / "work" / stage / key
        path.mkdir(parents=True, exist_ok=True)
        return path

    def path(self, stage: str, key: str) -> Path:
        return self.artifacts / stage / key[:2] / key

    # queries
    def manifest(self, stage: str, key: str) -> dict | None:
        try:
            return json.loads((self.path(stage, key) / MANIFEST).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def has(self, stage: str, key: str, verify: bool = True) -> bool:
        """True when the artifact is here or, failing that, could be fetched intact from the remote."""
        if self.has_local(stage, key, verify):
            return True
        return self.remote is not None and self.remote.fetch(self, stage, key)

    def has_local(self, stage: str, key: str, verify: bool = True) -> bool:
        """True when the artifact exists here (and, with verify, every file matches its digest). A
        corrupt artifact is named in a warning and removed, so the next build replaces it."""
        manifest = self.manifest(stage, key)
        if manifest is None:
            return False
        if verify:
            return self._intact(stage, key, manifest)
        folder = self.path(stage, key)
        return all((folder / name).is_file() for name in manifest["files"])

    def _intact(self, stage, key, manifest) -> bool:
        bad = self.corrupt_files(stage, key, manifest)
        if bad:
            print(f"warning: {stage} artifact {key} is corrupt ({', '.join(bad)}); it will be rebuilt", file=sys.stderr)
            self.remove(stage, key)
        return not bad

    def corrupt_files(self, stage, key, manifest=None) -> list[str]:
        manifest = manifest or self.manifest(stage, key) or {"files": {}}
        folder = self.path(stage, key)
        bad = []
        for name, info in manifest["files"].items():
            path = folder / name
            if not path.is_file() or path.stat().st_size != info["bytes"] or \
                    self.stats.digest(path, _file_digest) != info["digest"]:
                bad.append(name)
        self.stats.save()
        return bad

    def get(self, stage: str, key: str) -> Path:
        """The artifact folder, checked against its manifest; a corrupt artifact is removed and a miss."""
        if not self.has(stage, key):
            raise KeyError(f"{stage}/{key}")
        return self.path(stage, key)

    @contextlib.contextmanager
    def lock(self, name: str, waiting: str = ""):
        """An exclusive lock between processes sharing this store (released if the holder dies)."""
        path = self.root / "locks" / f"{name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting:
                    print(f"waiting: {waiting}", file=sys.stderr, flush=True)
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _remove_stale_temps(self, folder: Path, key: str):
        """Temp folders of this key left by a killed build (called with the key's lock held)."""
        for stale in folder.glob(f".tmp-{key}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in folder.glob(f".trash-{key}-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def keys(self, stage: str) -> list[str]:
        folder = self.artifacts / stage
        if not folder.exists():
            return []
        return sorted(p.name for p in folder.glob("*/*") if (p / MANIFEST).exists())

    def remove(self, stage, key):
        final = self.path(stage, key)
        if final.exists():
            trash = final.with_name(f".trash-{final.name}-{os.getpid()}")
            os.replace(final, trash)
            shutil.rmtree(trash, ignore_errors=True)

    def log_usage(self, recipe: str, stage: str, category: str, stats: dict):
        """Append what a teacher was asked to `<root>/teacher-usage.jsonl`: an audit trail, never a key."""
        self.root.mkdir(parents=True, exist_ok=True)
        line = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "recipe": recipe, "stage": stage,
                "category": category, "requests": stats.get("requests", 0),
                "cached_responses": stats.get("cached_responses", 0),
                "estimated_cost_usd": stats.get("estimated_cost_usd", 0.0)}
        with open(self.root / "teacher-usage.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    # building
    @contextlib.contextmanager
    def build(self, stage: str, key: str, section=None, upstream=None):
        """Yield a temp folder; on clean exit, write its manifest and publish it atomically.

        Builders of one key take turns (a lock per key), so temp folders left by a killed build
        can be removed safely here. The caller may put extra manifest fields in `building.extra`."""
        final = self.path(stage, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        with self.lock(f"artifact-{stage}-{key}"):
            self._remove_stale_temps(final.parent, key)
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=final.parent))
            building = _Building(tmp)
            started = time.time()
            try:
                yield building
                self._publish(tmp, final, stage, key, {"section": section, "upstream": upstream or {},
                                                       "seconds": round(time.time() - started, 3), **building.extra})
                if self.remote is not None:
                    self.remote.upload(self, stage, key)  # a warning, never a failure, if the remote is away
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)

    def _publish(self, tmp: Path, final: Path, stage: str, key: str, fields: dict):
        files = {}
        for path in sorted(tmp.rglob("*")):
            if path.is_file() and path.name != MANIFEST:
                files[str(path.relative_to(tmp))] = {"bytes": path.stat().st_size, "digest": _file_digest(path)}
        manifest = {"stage": stage, "key": key, "section": fields.pop("section"), "upstream": fields.pop("upstream"),
                    "files": files, "seconds": fields.pop("seconds"),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        self.place(tmp, stage, key)

    def place(self, tmp: Path, stage: str, key: str):
        """Move a complete artifact folder (manifest written) into place: fsync, then one rename.
        Called with the key's lock held."""
        _fsync_tree(tmp)
        final = self.path(stage, key)
        if final.exists() and self.has_local(stage, key, verify=True):
            return  # someone else published the same key first: theirs is identical by construction
        self.remove(stage, key)
        os.replace(tmp, final)


class _Building:
    def __init__(self, folder: Path):
        self.folder = folder
        self.extra = {}

    def __truediv__(self, name):
        return self.folder / name


"""The store's remote tier: the same content-addressed artifacts on an object store a team shares.

Layout under the remote URL: store/<stage>/<key[:2]>/<key>/<files> + manifest.json, as locally.

- Upload: every file first, the manifest last. A reader takes an artifact to exist only when
  its manifest does, so an upload cut short (a killed process, a dead server) is never seen.
- Download: into a temp folder beside the local artifact; each file's size and digest are
  checked against the manifest while it streams in; then the manifest, fsync, one rename. A
  file that does not match is a miss with a warning, never used, and the next upload repairs it.
- During builds the remote only ever helps: when it cannot be reached, one warning line says so
  and the build goes on locally. `distill push` / `pull` (explicit) stop with one line instead.
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path, PurePosixPath

import xxhash

from .remote import RemoteError, open_remote
from .store import MANIFEST

MAX_MANIFEST_BYTES = 16 << 20
DEFAULT_MAX_ARTIFACT_BYTES = 16 << 30  # a downloaded artifact's files, together; DISTILL_REMOTE_MAX_BYTES overrides
_DOWN: dict[str, str] = {}  # remote URL -> why it was given up on, for the rest of this process


def max_artifact_bytes() -> int:
    return int(os.environ.get("DISTILL_REMOTE_MAX_BYTES", DEFAULT_MAX_ARTIFACT_BYTES))


def warn(message: str):
    print(f"warning: {message}", file=sys.stderr, flush=True)


def prefix(stage: str, key: str) -> str:
    return f"store/{stage}/{key[:2]}/{key}"


def safe_name(name) -> bool:
    """A manifest's file name stays inside its artifact folder: relative, no '..', no manifest."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and all(p not in ("", ".", "..") for p in path.parts) and name != MANIFEST


def check_manifest(data, stage: str, key: str) -> str | None:
    """Why a downloaded manifest cannot be used, or None. It is someone else's data: its names
    could point outside the artifact and its sizes could be anything."""
    if not isinstance(data, dict) or data.get("stage") != stage or data.get("key") != key:
        return "its manifest names another artifact"
    files = data.get("files")
    if not isinstance(files, dict):
        return "its manifest lists no files"
    total = 0
    for name, info in files.items():
        if not safe_name(name):
            return f"its manifest names an unsafe path {name!r}"
        if not isinstance(info, dict) or not isinstance(info.get("bytes"), int) or info["bytes"] < 0 \
                or not isinstance(info.get("digest"), str):
            return f"its manifest has no size and digest for {name}"
        total += info["bytes"]
    if total > max_artifact_bytes():
        return f"it is {total:,} bytes, more than DISTILL_REMOTE_MAX_BYTES={max_artifact_bytes():,}"
    return None


class RemoteTier:
    """Artifacts on one remote. `fetch` and `upload` used by builds never raise for the remote's
    sake (see `strict`): a team's cache must not be able to break a local build."""

    def __init__(self, remote):
        self.remote = remote
        self._absent = set()  # (stage, key) looked up and missing in this process
        self._bad = set()  # (stage, key) whose remote copy failed its digests: the next upload replaces it

    @classmethod
    def for_url(cls, url: str) -> "RemoteTier":
        return cls(open_remote(url, "DISTILL_REMOTE"))

    @property
    def url(self) -> str:
        return self.remote.url

    @property
    def down(self) -> bool:
        return self.url in _DOWN

    def give_up(self, err: RemoteError):
        """One warning per process: later lookups skip the remote instead of waiting on it again."""
        if not self.down:
            _DOWN[self.url] = str(err)
            warn(f"remote store unreachable, building locally and uploading nothing this run: {err}")

    # ------------------------------------------------------------------ reading
    def manifest(self, stage: str, key: str) -> tuple[dict | None, str | None]:
        """(the remote manifest, None) or (None, why it is unusable); (None, None) when absent."""
        raw = self.remote.read(f"{prefix(stage, key)}/{MANIFEST}", MAX_MANIFEST_BYTES)
        if raw is None:
            return None, None
        try:
            data = json.loads(raw)
        except ValueError:
            return None, "its manifest is not JSON"
        problem = check_manifest(data, stage, key)
        return (None, problem) if problem else (data, None)

    def fetch(self, store, stage: str, key: str, strict: bool = False) -> bool:
        """Copy one artifact into the local store if the remote has an intact one. A miss is
        quiet; a damaged remote artifact is a miss with a warning."""
        if self.down or (stage, key) in self._absent or (stage, key) in self._bad:
            return False  # known missing or damaged in this process: said once, not asked again
        try:
            return self._fetch(store, stage, key)
        except RemoteError as err:
            if strict:
                raise
            self.give_up(err)
            return False

    def _fetch(self, store, stage, key) -> bool:
        manifest, problem = self.manifest(stage, key)
        if manifest is None:
            if problem:
                self._damaged(stage, key, problem)
            else:
                self._absent.add((stage, key))
            return False
        final = store.path(stage, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        with store.lock(f"artifact-{stage}-{key}"):
            if store.has_local(stage, key):
                return True  # another process fetched or built it while we waited
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=final.parent))
            try:
                problem = self._download_files(manifest, stage, key, tmp)
                if problem:
                    self._damaged(stage, key, problem)
                    return False
                (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
                store.place(tmp, stage, key)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return True

    def _download_files(self, manifest, stage, key, tmp: Path) -> str | None:
        for name, info in sorted(manifest["files"].items()):
            dest = tmp / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            hasher = xxhash.xxh3_128()
            got = self.remote.download(f"{prefix(stage, key)}/{name}", dest, info["bytes"], hasher)
            if got is None:
                return f"{name} is missing"
            if got != info["bytes"] or hasher.hexdigest() != info["digest"]:
                return f"{name} does not match its digest"
        return None

    def _damaged(self, stage, key, problem):
        self._bad.add((stage, key))
        warn(f"remote {stage} artifact {key} at {self.remote.where(prefix(stage, key))} is damaged ({problem}); "
             "not using it")

    # ------------------------------------------------------------------ writing
    def upload(self, store, stage: str, key: str, strict: bool = False) -> bool | None:
        """Put a local artifact on the remote: True uploaded, False it was there already, None the
        remote was given up on (builds only; with `strict` the RemoteError is raised)."""
        if self.down and not strict:
            return None
        try:
            return self._upload(store, stage, key)
        except RemoteError as err:
            if strict:
                raise
            self.give_up(err)
            return None

    def _upload(self, store, stage, key) -> bool:
        where = prefix(stage, key)
        repair = (stage, key) in self._bad
        if not repair and self.remote.exists(f"{where}/{MANIFEST}"):
            return False
        folder, manifest = store.path(stage, key), store.manifest(stage, key)
        if repair:  # readers must not pair the damaged copy's manifest with new files
            self.remote.delete(f"{where}/{MANIFEST}")
        for name in sorted(manifest["files"]):
            self.remote.upload(folder / name, f"{where}/{name}")
        self.remote.upload(folder / MANIFEST, f"{where}/{MANIFEST}")  # last: now the artifact exists
        self._bad.discard((stage, key))
        self._absent.discard((stage, key))
        return True

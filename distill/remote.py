"""Object stores by URL: one small class per scheme, all through fsspec.

    s3://bucket/prefix      any S3-compatible service (AWS, GCS interop, MinIO, SeaweedFS), via s3fs
    file:///shared/folder   a shared disk
    https://host/path       read-only: a Cellar someone published (http:// too, e.g. on loopback)

Credentials come from the environment only (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN) and go only to the URL the user configured; without them requests are
anonymous. They are handed to s3fs explicitly, so botocore's own chain (~/.aws files, instance
metadata) is never consulted. The endpoint of a non-AWS service: AWS_ENDPOINT_URL_S3 or
AWS_ENDPOINT_URL. Every failure of the service becomes a RemoteError: one line naming the URL.
"""
import os
import uuid
from urllib.parse import urlsplit

from .errors import DistillError

CHUNK = 8 << 20  # streamed reads: memory stays flat for any object size


class RemoteError(DistillError):
    """The object store failed or could not be reached; the message names the URL."""


class Remote:
    """Paths below the URL, as "a/b/c": read, stream into a file, write, upload, list."""

    writable = True

    def __init__(self, url: str, base: str):
        self.url, self.base = url.rstrip("/"), base.rstrip("/")
        self._fs = None

    # -------------------------------------------------------------- subclasses say how
    def _filesystem(self):
        raise NotImplementedError

    def _write(self, path: str, data: bytes):
        self.fs.pipe_file(path, data)

    def _upload(self, local, path: str):
        self.fs.put_file(str(local), path)

    # -------------------------------------------------------------- shared
    @property
    def fs(self):
        if self._fs is None:
            self._fs = self._filesystem()
        return self._fs

    def where(self, rel: str = "") -> str:
        return f"{self.url}/{rel}" if rel else self.url

    def _path(self, rel: str) -> str:
        return f"{self.base}/{rel}" if rel else self.base

    def _fail(self, what: str, rel: str, exc: BaseException):
        if isinstance(exc, PermissionError):
            raise RemoteError(f"{self.where(rel)}: access denied while trying to {what}; set AWS_ACCESS_KEY_ID and "
                              "AWS_SECRET_ACCESS_KEY for this store in the environment") from None
        raise RemoteError(f"{self.where(rel)}: could not {what} ({_reason(exc)})") from None

    def read(self, rel: str, limit: int) -> bytes | None:
        """The whole object, or None when there is none; larger than `limit` is an error (it is data
        from elsewhere, so its size is bounded before it is read)."""
        try:
            with self.fs.open(self._path(rel), "rb") as f:
                size = getattr(f, "size", None)
                if size is not None and size > limit:
                    raise RemoteError(f"{self.where(rel)}: {size:,} bytes, more than the {limit:,} allowed")
                data = f.read(limit + 1)
        except FileNotFoundError:
            return None
        except RemoteError:
            raise
        except Exception as exc:  # noqa: BLE001 - s3fs, botocore and aiohttp raise many kinds
            self._fail("read", rel, exc)
        if len(data) > limit:
            raise RemoteError(f"{self.where(rel)}: more than the {limit:,} bytes allowed")
        return data

    def download(self, rel: str, dest, limit: int, hasher) -> int | None:
        """Stream an object into `dest`, feeding `hasher`; returns the bytes written (None if absent).
        Stops past `limit` bytes, so a remote object can never fill the disk."""
        written = 0
        try:
            with self.fs.open(self._path(rel), "rb", block_size=CHUNK) as f, open(dest, "wb") as out:
                size = getattr(f, "size", None)
                if size is not None and size > limit:
                    return size  # the caller compares with what it expected: a miss, nothing read
                while written <= limit:
                    block = f.read(min(CHUNK, limit + 1 - written))
                    if not block:
                        break
                    hasher.update(block)
                    out.write(block)
                    written += len(block)
                out.flush()
                os.fsync(out.fileno())
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001
            self._fail("download", rel, exc)
        return written

    def write(self, rel: str, data: bytes):
        """One object, whole: readers see the old one or the new one."""
        self._writable(rel)
        try:
            self._write(self._path(rel), data)
        except Exception as exc:  # noqa: BLE001
            self._fail("write", rel, exc)

    def upload(self, local, rel: str):
        self._writable(rel)
        try:
            self._upload(local, self._path(rel))
        except Exception as exc:  # noqa: BLE001
            self._fail("upload", rel, exc)

    def exists(self, rel: str) -> bool:
        try:
            return bool(self.fs.exists(self._path(rel)))
        except Exception as exc:  # noqa: BLE001
            self._fail("look up", rel, exc)

    def list(self, rel: str) -> list[str]:
        """Names directly under a folder ([] when it does not exist)."""
        try:
            found = self.fs.ls(self._path(rel), detail=False)
        except FileNotFoundError:
            return []
        except Exception as exc:  # noqa: BLE001
            self._fail("list", rel, exc)
        return sorted(str(p).rstrip("/").rsplit("/", 1)[-1] for p in found)

    def delete(self, rel: str):
        self._writable(rel)
        try:
            self.fs.rm_file(self._path(rel))
        except FileNotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001
            self._fail("delete", rel, exc)

    def _writable(self, rel):
        if not self.writable:
            raise RemoteError(f"{self.where(rel)}: {self.url.split(':', 1)[0]}:// is read-only here; "
                              "publish and push to s3://bucket/prefix or file:///shared/folder")


class S3Remote(Remote):
    def _filesystem(self):
        import s3fs

        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        credentials = {"key": key, "secret": secret, "token": os.environ.get("AWS_SESSION_TOKEN") or None} \
            if key and secret else {"anon": True}
        client = {"region_name": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"}
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            client["endpoint_url"] = endpoint
        fs = s3fs.S3FileSystem(**credentials, client_kwargs=client, use_listings_cache=False, skip_instance_cache=True,
                               config_kwargs={"connect_timeout": 5, "read_timeout": 60,
                                              "retries": {"max_attempts": 3, "mode": "standard"}})
        fs.retries = 2  # s3fs retries on top of botocore's: a dead server should cost seconds, not a minute
        fs.loop.set_exception_handler(_quiet_about_dropped_connections)
        return fs


class FileRemote(Remote):
    """A shared folder. A write goes to a temp name first, then is renamed: the same
    whole-or-nothing visibility an object store gives a PUT."""

    def _filesystem(self):
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(auto_mkdir=True)

    def _temp(self, path: str) -> str:
        folder, name = path.rsplit("/", 1)
        return f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"

    def _write(self, path, data):
        tmp = self._temp(path)
        self.fs.pipe_file(tmp, data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)

    def _upload(self, local, path):
        tmp = self._temp(path)
        self.fs.put_file(str(local), tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)


class HTTPRemote(Remote):
    """A Cellar someone published on a web server: read-only, no credentials."""

    writable = False

    def _filesystem(self):
        from fsspec.implementations.http import HTTPFileSystem

        return HTTPFileSystem(simple_links=False)

    def list(self, rel):
        raise RemoteError(f"{self.where(rel)}: a web server cannot be listed; read index.json instead")


SCHEMES = {"s3": S3Remote, "file": FileRemote, "http": HTTPRemote, "https": HTTPRemote}


def open_remote(url: str, what: str = "remote") -> Remote:
    """A Remote for a URL the user gave; a URL that cannot work is one line saying what would."""
    if not isinstance(url, str) or "://" not in url:
        raise DistillError(f"{what} {url!r}: expected a URL such as s3://bucket/prefix, file:///shared/folder "
                           "or https://host/cellar")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise DistillError(f"{what} {url}: unsupported scheme '{scheme}://'; use one of "
                           + ", ".join(f"{s}://" for s in SCHEMES))
    if parts.username or parts.password:
        raise DistillError(f"{what} {url.split('@')[-1]}: remove the credentials from the URL; they come from the "
                           "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
    if parts.query or parts.fragment:
        raise DistillError(f"{what} {url}: a store URL takes no ?query or #fragment")
    if scheme == "s3":
        if not parts.netloc:
            raise DistillError(f"{what} {url}: name a bucket, as in s3://bucket/prefix")
        return S3Remote(url, f"{parts.netloc}{parts.path}")
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise DistillError(f"{what} {url}: a file URL needs an absolute path, as in file:///shared/folder")
        return FileRemote(url, parts.path)
    return HTTPRemote(url, url.rstrip("/"))


def _quiet_about_dropped_connections(loop, context):
    """When the server dies mid-request, aiohttp leaves body-writing tasks whose connection error
    nobody awaits, and asyncio prints each with a traceback. The request itself fails and is
    reported in one line, so these echoes are dropped; anything else is reported as usual."""
    exc = context.get("exception")
    if context.get("message") == "Task exception was never retrieved" and isinstance(exc, OSError):
        return
    loop.default_exception_handler(context)


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, without the chain of wrappers around it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]

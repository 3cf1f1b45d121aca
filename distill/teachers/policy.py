"""One retry and pacing policy for every provider (the SDKs' own retries are switched off).

A provider only says what a failure *is* (a Failure: worth retrying or not, and for how long the
server asked us to wait); this module decides how long to wait and how fast to send.
"""
import email.utils
import threading
import time
from dataclasses import dataclass

MAX_BACKOFF_S = 60.0
MAX_RETRY_AFTER_S = 600.0  # a server asking for more than this is treated as asking for this
RETRY_STATUSES = {408, 409, 425, 429}  # plus every 5xx


@dataclass
class Failure:
    """A failed teacher call, as the user should read it."""

    retryable: bool
    reason: str  # one line, no credentials
    retry_after: float | None = None  # seconds the server asked for (429 / 503 Retry-After)


def one_line(text, limit=200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_failure(status: int, message, headers=None) -> Failure:
    """An HTTP error status: 408/409/425/429 and 5xx are worth retrying, the rest are the caller's fault."""
    retryable = status in RETRY_STATUSES or status >= 500
    hint = {401: " (check the API key)", 403: " (check the API key's permissions)",
            404: " (check teacher.model and teacher.base_url)"}.get(status, "")
    return Failure(retryable, f"HTTP {status}{hint}: {one_line(message)}",
                   retry_after(headers) if retryable else None)


def retry_after(headers) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date); None when absent."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return min(MAX_RETRY_AFTER_S, max(0.0, float(value) * scale))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
            return min(MAX_RETRY_AFTER_S, max(0.0, when.timestamp() - time.time()))
        except (TypeError, ValueError):
            pass
    return None


def backoff(attempt: int, base: float, rng) -> float:
    """Exponential backoff with jitter, so threads that failed together do not retry together."""
    ceiling = min(MAX_BACKOFF_S, base * 2 ** attempt)
    return ceiling * (0.5 + rng.random() / 2)


class Pacer:
    """Requests-per-minute spacing shared by all worker threads, plus a shared pause after a
    Retry-After: when the server says "slow down", every thread listens, not just the one told."""

    def __init__(self, per_minute: float = 0):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._next = 0.0
        self._hold_until = 0.0
        self._lock = threading.Lock()

    def wait(self, stop: threading.Event):
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next, self._hold_until)
            self._next = start + self.interval
        if start > now:
            stop.wait(start - now)

    def hold(self, seconds: float):
        with self._lock:
            self._hold_until = max(self._hold_until, time.monotonic() + seconds)

"""Teachers, registered by provider name, all behind one interface and one client wrapper.

A provider turns a request dict (prompt, answer schema, spec, sample index) into an Answer and
says what a failure is (`classify`). TeacherClient wraps every provider the same way: response
cache, retries with backoff, a requests-per-minute pace, a concurrency limit, and counting.
"""
import importlib
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import DistillError
from ..hashing import canonical_json, digest

PROVIDERS = {
    "builtin": "distill.teachers.builtin",
    "openai": "distill.teachers.openai_teacher",
    "anthropic": "distill.teachers.anthropic_teacher",
    "gemini": "distill.teachers.gemini_teacher",
}
CACHE_VERSION = 1  # bumped by hand if what a cached answer means changes
CACHED_FIELDS = ("text", "input_tokens", "output_tokens", "model", "cost_usd")


class TeacherError(DistillError):
    """A teacher call that failed for good; answers received before it stay cached."""


@dataclass
class Answer:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    cost_usd: float = 0.0
    cached: bool = False
    retries: int = 0

    def json(self):
        return json.loads(self.text)

    def to_cache(self) -> str:
        return json.dumps({k: getattr(self, k) for k in CACHED_FIELDS}, ensure_ascii=False)


@dataclass
class Usage:
    """What teacher traffic cost; recorded per shard in its manifest. Cost is split into what this
    build paid (fresh requests) and what cached answers had cost when first bought."""

    requests: int = 0
    cached: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cached_cost_usd: float = 0.0
    models: set = field(default_factory=set)

    def add(self, answer: Answer):
        if answer.cached:
            self.cached += 1
            self.cached_cost_usd += answer.cost_usd
        else:
            self.requests += 1
            self.cost_usd += answer.cost_usd
        self.retries += answer.retries
        self.input_tokens += answer.input_tokens
        self.output_tokens += answer.output_tokens
        if answer.model:
            self.models.add(answer.model)

    def as_dict(self):
        return {"requests": self.requests, "cached_responses": self.cached, "retries": self.retries,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "estimated_cost_usd": round(self.cost_usd, 6), "cached_cost_usd": round(self.cached_cost_usd, 6),
                "teacher_models": sorted(self.models)}


def endpoint(settings: dict) -> str:
    """Where a teacher's requests, and the user's key with them, would go: "builtin" (nowhere),
    the Recipe's teacher.base_url, or the provider's own API ("openai", "anthropic", "gemini")."""
    if settings["provider"] == "builtin":
        return "builtin"
    return settings.get("base_url") or settings["provider"]


def allowed_endpoints() -> set[str]:
    """Endpoints the user allowed for Recipes they did not write: DISTILL_ALLOW_ENDPOINTS (comma-separated)."""
    import os

    return {e.strip() for e in os.environ.get("DISTILL_ALLOW_ENDPOINTS", "").split(",") if e.strip()}


def make_teacher(settings: dict, seed: int):
    name = settings["provider"]
    try:
        module = importlib.import_module(PROVIDERS[name])
    except KeyError:
        raise DistillError(f"unknown teacher provider '{name}'; valid: {', '.join(PROVIDERS)}") from None
    return module.Teacher(settings, seed)


class TeacherClient:
    """Cache + retries + pace + concurrency around one provider. Answers come back in request order.

    `on_answer(usage)` is called after every answer (fresh or cached) with the running totals.
    `replay_only` (a sentence saying why) serves cached answers only: the provider is never
    created, so no key is read and nothing is sent; a missing answer stops with that sentence."""

    def __init__(self, settings: dict, seed: int, cache_dir=None, on_answer=None, replay_only: str | None = None):
        self.settings = settings
        self.seed = seed
        self.replay_only = replay_only
        # a missing key fails here, before any request
        self.teacher = make_teacher(settings, seed) if not replay_only else None
        self.usage = Usage()
        self.on_answer = on_answer
        self._cache = None
        if cache_dir is not None and (replay_only or getattr(self.teacher, "cacheable", True)):
            from .cache import open_cache

            self._cache = open_cache(cache_dir)
        from .policy import Pacer

        self._pacer = Pacer(settings.get("requests_per_minute", 0))
        self._stop = threading.Event()  # set when one request failed for good: others stop retrying
        self._rng = random.Random()
        self._lock = threading.Lock()
        self._pool = None
        self.asked = []  # cache keys of every request, in order: the answers a Mash shard was built from

    def cache_key(self, request: dict) -> str:
        """The full request that determines the answer: provider, model, output-changing params,
        seed, prompt and sample index. Never a credential, never an operational setting."""
        from ..recipe.schema import output_fields

        identity = {"version": CACHE_VERSION, "teacher": output_fields("teacher", self.settings),
                    "seed": self.seed, "request": request}
        return digest(canonical_json(identity).encode())

    def ask(self, request: dict) -> Answer:
        key = self.cache_key(request) if self._cache is not None else None
        if key is not None:
            self.asked.append(key)
        answer = self._cached(key) if key else None
        if answer is None:
            answer = self._call(request)
            if key is not None:
                # stored before anyone parses it: a paid response is never thrown away or bought twice
                self._cache.set(key, answer.to_cache())
        with self._lock:
            self.usage.add(answer)
        if self.on_answer is not None:
            self.on_answer(self.usage)
        return answer

    def ask_many(self, requests: list[dict]) -> list[Answer]:
        workers = max(1, int(self.settings.get("concurrency", 1)))
        if workers == 1 or len(requests) <= 1:
            return [self.ask(r) for r in requests]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="teacher")
        futures = [self._pool.submit(self.ask, r) for r in requests]
        try:
            return [f.result() for f in futures]
        except BaseException:
            # stop queued requests; those in flight finish and are cached, so a rerun resumes
            self._stop.set()
            for f in futures:
                f.cancel()
            raise

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._cache is not None:
            self._cache.close()

    # ------------------------------------------------------------ internals

    def _cached(self, key: str) -> Answer | None:
        try:
            hit = self._cache.get(key)
            fields = json.loads(hit) if hit is not None else None
        except ValueError:  # unreadable or pickled entry: ask again rather than trust it
            return None
        if not isinstance(fields, dict):
            return None
        return Answer(**{k: fields[k] for k in CACHED_FIELDS if k in fields}, cached=True)

    def _call(self, request: dict) -> Answer:
        """One request with the shared retry policy; raises TeacherError when it gives up."""
        from .policy import backoff
        from .pricing import cost

        if self.replay_only:
            self._stop.set()
            raise TeacherError(f"teacher {self.settings['provider']} at {endpoint(self.settings)}: an answer this "
                               f"build needs is not in the teacher cache, and {self.replay_only}")
        attempts = int(self.settings.get("max_retries", 6)) + 1
        for attempt in range(attempts):
            self._pacer.wait(self._stop)
            try:
                answer = self.teacher.complete(request)
            except Exception as exc:  # noqa: BLE001 - classify() says which are teacher failures
                failure = self._classify(exc)
                if failure is None:
                    raise
                if not failure.retryable or attempt + 1 == attempts or self._stop.is_set():
                    raise TeacherError(self._explain(failure, attempt + 1)) from None
                with self._lock:
                    self.usage.retries += 1
                if failure.retry_after is not None:
                    self._pacer.hold(failure.retry_after)  # every thread waits, as the server asked
                else:
                    self._stop.wait(backoff(attempt, float(self.settings.get("backoff_s", 1.0)), self._rng))
                continue
            answer.retries = attempt
            answer.cost_usd = cost(self.settings, answer.model, answer.input_tokens, answer.output_tokens)
            return answer
        raise AssertionError("unreachable")

    def _classify(self, exc):
        classify = getattr(self.teacher, "classify", None)
        return classify(exc) if classify else None

    def _explain(self, failure, attempts: int) -> str:
        s = self.settings
        line = (f"teacher {s['provider']} ({s['model']}): {failure.reason} after {attempts} attempt(s); "
                f"answers received so far are cached, so running the build again resumes")
        for secret in getattr(self.teacher, "secrets", lambda: [])():
            if secret:
                line = line.replace(secret, "***")
        return line

"""Teachers, registered by provider name, all behind one interface and one client wrapper.

A provider turns a request dict (prompt, answer schema, structured spec, sample index) into an
Answer. TeacherClient wraps every provider the same way: response cache, concurrency, counting.
"""
import importlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import DistillError
from ..hashing import canonical_json, digest

PROVIDERS = {"builtin": "distill.teachers.builtin"}


@dataclass
class Answer:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    cost_usd: float = 0.0
    cached: bool = False

    def json(self):
        return json.loads(self.text)


@dataclass
class Usage:
    """What a Mash cost; recorded per shard in its manifest."""

    requests: int = 0
    cached: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    models: set = field(default_factory=set)

    def add(self, answer: Answer):
        if answer.cached:
            self.cached += 1
        else:
            self.requests += 1
        self.input_tokens += answer.input_tokens
        self.output_tokens += answer.output_tokens
        self.cost_usd += answer.cost_usd
        if answer.model:
            self.models.add(answer.model)

    def as_dict(self):
        return {"requests": self.requests, "cached_responses": self.cached, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "estimated_cost_usd": round(self.cost_usd, 6),
                "teacher_models": sorted(self.models)}


def make_teacher(settings: dict, seed: int):
    name = settings["provider"]
    try:
        module = importlib.import_module(PROVIDERS[name])
    except KeyError:
        raise DistillError(f"unknown teacher provider '{name}'; valid: {', '.join(PROVIDERS)}") from None
    return module.Teacher(settings, seed)


class TeacherClient:
    """Cache + concurrency around one provider. Requests are answered in order given."""

    def __init__(self, settings: dict, seed: int, cache_dir=None):
        self.settings = settings
        self.teacher = make_teacher(settings, seed)
        self.seed = seed
        self._cache = None
        if cache_dir is not None and getattr(self.teacher, "cacheable", True):
            import diskcache

            self._cache = diskcache.Cache(str(cache_dir))
        self._lock = threading.Lock()

    def cache_key(self, request: dict) -> str:
        """The full request that determines the answer; never a credential."""
        s = self.settings
        identity = {"provider": s["provider"], "model": s["model"], "temperature": s["temperature"],
                    "prompt_version": s["prompt_version"], "seed": self.seed, "request": request}
        return digest(canonical_json(identity).encode())

    def ask(self, request: dict) -> Answer:
        key = self.cache_key(request) if self._cache is not None else None
        if key is not None:
            hit = self._cache.get(key)
            if hit is not None:
                return Answer(**{**json.loads(hit), "cached": True})
        answer = self.teacher.complete(request)
        if key is not None:
            # Stored before anyone parses it: a paid response is never thrown away.
            self._cache.set(key, json.dumps({k: v for k, v in answer.__dict__.items() if k != "cached"}))
        return answer

    def ask_many(self, requests: list[dict]) -> list[Answer]:
        workers = max(1, int(self.settings.get("concurrency", 1)))
        if workers == 1 or len(requests) <= 1:
            return [self.ask(r) for r in requests]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self.ask, requests))

    def close(self):
        if self._cache is not None:
            self._cache.close()

"""What the API teachers (openai, anthropic, gemini) share: the key from the environment, the
prompt as sent, per-sample seeds, and how the Stainless-built SDKs (openai, anthropic) fail.

Provider modules import their SDK at module level; this module imports none, so loading the
build graph never pays for an SDK.
"""
import json
import os

from ..errors import DistillError
from ..hashing import canonical_json, digest
from .policy import Failure, one_line, status_failure

SYSTEM = ("You write training data for a small model. Follow the instructions exactly and answer with "
          "JSON only, matching the requested schema.")
DEFAULT_MAX_OUTPUT_TOKENS = 4096


def api_key(settings: dict, provider: str, env_names: tuple) -> str:
    """The key from the provider's usual variable (or teacher.api_key_env); fails at once, one line."""
    names = (settings["api_key_env"],) if settings.get("api_key_env") else env_names
    for name in names:
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    where = f" (any non-empty value if the server at {settings['base_url']} ignores keys)" if settings.get("base_url") else ""
    raise DistillError(f"teacher {provider}: set {' or '.join(names)} to your API key{where}; "
                       f"keys are read from the environment, never from a Recipe")


def wire_prompt(request: dict) -> str:
    """The prompt as sent. Input batches for one category share a prompt, so each names its batch:
    without it a caching proxy or a low temperature would return the same utterances every time."""
    if request["step"] == "inputs":
        return (f"{request['prompt']}\n\nThis is batch {request['sample'] + 1}: make these different from "
                f"other batches in wording, values and length.")
    return request["prompt"]


def sample_seed(seed: int, request: dict) -> int:
    """A sampling seed per request, for providers that take one (best-effort reproducibility)."""
    return int(digest(canonical_json([seed, request["step"], request["sample"]]).encode())[:8], 16) % 2**31


def max_output_tokens(settings: dict) -> int:
    return int(settings.get("max_output_tokens") or DEFAULT_MAX_OUTPUT_TOKENS)


class RemoteTeacher:
    """Base for the SDK teachers: checks settings and the key before any request is made."""

    provider = ""
    key_env: tuple = ()
    example_model = ""
    cacheable = True

    def __init__(self, settings: dict, seed: int):
        self.settings, self.seed = settings, seed
        if settings["model"].startswith("builtin"):
            raise DistillError(f"teacher.model: name the {self.provider} model to use, e.g. "
                               f"model: {self.example_model}")
        self.key = api_key(settings, self.provider, self.key_env)
        self.client = self.connect()

    def secrets(self) -> list[str]:
        return [self.key]

    def connect(self):
        raise NotImplementedError

    def classify(self, exc) -> Failure | None:
        raise NotImplementedError


def stainless_failure(exc, sdk) -> Failure | None:
    """Failures of the openai and anthropic SDKs (same shape, separate class trees)."""
    if isinstance(exc, sdk.APIStatusError):
        return status_failure(exc.status_code, getattr(exc, "message", exc), exc.response.headers)
    if isinstance(exc, sdk.APITimeoutError):
        return Failure(True, "timed out (teacher.timeout_s)")
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return Failure(True, f"connection failed: {one_line(cause or exc)}")
    return common_failure(exc)


def common_failure(exc) -> Failure | None:
    """A reply that is not JSON at the HTTP level (a proxy's error page, a cut body) is transient."""
    if isinstance(exc, json.JSONDecodeError) or type(exc).__name__ == "APIResponseValidationError":
        return Failure(True, f"malformed response body: {one_line(exc)}")
    return None

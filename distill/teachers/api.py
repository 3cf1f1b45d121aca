"""What the API teachers share: reading the key from the environment, turning SDK errors into
retry decisions, and rough cost estimates. Keys are read here and never stored anywhere."""
import os

from ..errors import DistillError

# USD per million input / output tokens; unknown models cost 0 (shown as an estimate only)
PRICES = {
    "gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6), "gpt-4.1": (2.0, 8.0), "gpt-4.1-mini": (0.4, 1.6),
    "claude-sonnet-5": (3.0, 15.0), "claude-sonnet-4-5": (3.0, 15.0), "claude-haiku-4-5": (1.0, 5.0), "claude-opus-4-1": (15.0, 75.0),
    "gemini-2.5-flash": (0.3, 2.5), "gemini-2.5-pro": (1.25, 10.0), "gemini-2.5-flash-lite": (0.1, 0.4),
}


class RetryableError(Exception):
    """A failed request worth trying again (429, 5xx, timeout, dropped connection)."""

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


def api_key(provider: str, variables: tuple[str, ...]) -> str:
    for name in variables:
        if os.environ.get(name):
            return os.environ[name]
    raise DistillError(f"teacher.provider '{provider}' needs an API key: set {' or '.join(variables)} in the environment "
                       "(or use provider: builtin, which needs none)")


def cost(model: str, input_tokens: int, output_tokens: int) -> float:
    price = next((p for name, p in PRICES.items() if model.startswith(name)), (0.0, 0.0))
    return (input_tokens * price[0] + output_tokens * price[1]) / 1e6


def retry_after_seconds(headers) -> float | None:
    try:
        value = headers.get("retry-after") if headers is not None else None
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def classify_sdk_error(err, status_error, timeout_error, connection_error):
    """Map an OpenAI/Anthropic-style SDK exception to RetryableError, or re-raise it."""
    if isinstance(err, (timeout_error, connection_error)):
        raise RetryableError(f"{type(err).__name__}: {err}") from err
    if isinstance(err, status_error):
        status = err.status_code
        if status == 429 or status >= 500:
            raise RetryableError(f"HTTP {status}", retry_after_seconds(err.response.headers)) from err
        raise DistillError(f"teacher request failed with HTTP {status}: {str(err)[:200]}") from err
    raise err

"""Estimated teacher cost: list prices in USD per million tokens (input, output).

Estimates only, from the providers' published price lists (2025); a Recipe can override them
with teacher.price_per_million_tokens (an OpenAI-compatible server of your own, a discount).
The longest matching prefix wins, so dated model versions reported by the API match too.
"""
PRICES = {
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.0-flash-lite": (0.075, 0.30),
    "gemini-2.0-flash": (0.10, 0.40),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-opus-4-5": (5.00, 25.00),
    "claude-opus-4": (15.00, 75.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
}


def price(settings: dict, reported_model: str = "") -> tuple[float, float] | None:
    """(input, output) USD per million tokens for this teacher, or None when unknown."""
    override = settings.get("price_per_million_tokens")
    if override:
        return float(override["input"]), float(override["output"])
    for name in (settings.get("model", ""), reported_model):
        matches = [prefix for prefix in PRICES if name.startswith(prefix)]
        if matches:
            return PRICES[max(matches, key=len)]
    return None


def cost(settings: dict, reported_model: str, input_tokens: int, output_tokens: int) -> float:
    rates = price(settings, reported_model)
    if rates is None:
        return 0.0
    return (input_tokens * rates[0] + output_tokens * rates[1]) / 1_000_000

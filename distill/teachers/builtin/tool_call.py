"""Built-in teacher for tool calling: utterances from the catalog's per-tool phrasings, wrapped in
paraphrase templates, filled with values drawn from each parameter's type, then roughened with
realistic noise (casing, typos, politeness, punctuation) that never touches an argument value."""
import random

from ...hashing import canonical_json, digest
from ...tasks.common import parse_phrasing

# Politeness and framing around a phrasing; "{x}" is the phrasing itself.
WRAPPERS = [
    "{x}", "{x}", "{x}", "{x}", "please {x}", "{x} please", "{x}, please", "{x}, thanks", "{x}, thank you",
    "hey, {x}", "hi! {x}", "ok so {x}", "quick one: {x}", "assistant, {x}", "{x} thx", "um, {x}",
    "hello, {x}", "{x} asap", "yo {x}", "{x}, cheers", "so... {x}", "right, {x}", "{x} pls",
]
ENDINGS = ["", "", "", "?", ".", "!", " ?"]
VAGUE = ["there", "it", "that one", "the usual"]
UNGROUNDED_RATE = 0.02  # how often the simulated teacher forgets to put a value into the utterance


def _rng(*parts) -> random.Random:
    return random.Random(int(digest(canonical_json(list(parts)).encode())[:16], 16))


def _value(rng, param, taken):
    kind = param["type"]
    if kind == "string":
        return rng.choice(param["examples"])
    if kind == "enum":  # e.g. from/to currency: never the same value twice in one call
        return rng.choice([v for v in param["values"] if v not in taken] or param["values"])
    lo, hi = param.get("minimum", 1), param.get("maximum", 60)
    if kind == "integer":
        return rng.randint(int(lo), int(hi))
    value = round(rng.uniform(lo, hi), rng.choice([0, 0, 1, 2]))
    return int(value) if value == int(value) else value


def _typo(rng, word):
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def _noisy(rng, text, rate):
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) >= 4 and word.isalpha() and rng.random() < rate:
            words[i] = _typo(rng, word)
    return " ".join(words)


def plan(tool: dict, seed: int, temperature: float, sample: int, item: int) -> dict:
    """Everything about one example, derived from where it sits in the Mash."""
    rng = _rng("tool_call", seed, tool["name"], sample, item)
    index = rng.randrange(len(tool["phrasings"]))
    pieces = parse_phrasing(tool["phrasings"][index])
    arguments = {}
    ungrounded = rng.random() < UNGROUNDED_RATE * temperature

    def render(pieces, out):
        for kind, value in pieces:
            if kind == "text":
                out.append((True, value))
            elif kind == "slot":
                arguments[value] = _value(rng, tool["parameters"][value], set(map(str, arguments.values())))
                out.append((False, str(arguments[value])))
            elif rng.random() < 0.5:  # optional segment: include its arguments half the time
                render(value, out)
        return out

    parts = render(pieces, [])
    if ungrounded:
        slot_positions = [i for i, (is_text, _) in enumerate(parts) if not is_text]
        if slot_positions:
            i = rng.choice(slot_positions)
            parts[i] = (True, rng.choice(VAGUE))
    noise = 0.06 * temperature
    lower_all = rng.random() < 0.3 * temperature
    rendered = []
    for is_template, text in parts:
        if is_template:
            text = _noisy(rng, text.lower() if lower_all else text, noise)
        rendered.append(text)
    text = " ".join("".join(rendered).split())
    text = rng.choice(WRAPPERS).replace("{x}", text) + rng.choice(ENDINGS)
    if rng.random() < 0.5 and parts[0][0]:
        text = text[0].upper() + text[1:]
    return {"text": text, "phrasing": f"{tool['name']}#{index}",
            "target": {"name": tool["name"], "arguments": arguments}}


def inputs(request: dict, seed: int, temperature: float) -> dict:
    spec = request["spec"]
    return {"utterances": [
        {k: v for k, v in plan(spec["tool"], seed, temperature, request["sample"], item).items() if k != "target"}
        for item in range(spec["count"])
    ]}


def replan(origin: dict, seed: int, temperature: float) -> dict:
    return plan(origin["tool"], seed, temperature, origin["sample"], origin["item"])

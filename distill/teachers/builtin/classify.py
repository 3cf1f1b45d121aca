"""Built-in teacher for classification: a message from one of the label's phrasings, its slots
filled with the Recipe's values or new ones, then written the way a person would send it (a
register from voice.py: terse, angry, rambling, an email, texting, misspelt...)."""
from ...tasks.common import parse_phrasing
from . import plan_rng as _rng
from .values import slot_value
from .voice import dress, join

VERSION = 3  # 3: registers and framing from voice.py, values beyond the Recipe's slot lists


def plan(label: dict, all_slots: dict, seed: int, temperature: float, sample: int, item: int) -> dict:
    rng = _rng("classify", seed, label["name"], sample, item)
    index = rng.randrange(len(label["phrasings"]))
    parts = []

    def render(pieces):
        for kind, value in pieces:
            if kind == "text":
                parts.append(value)
            elif kind == "slot":
                parts.append(slot_value(rng, value, all_slots.get(value)))
            elif rng.random() < 0.5:
                render(value)

    render(parse_phrasing(label["phrasings"][index]))
    core = " ".join("".join(parts).split())
    if rng.random() < 0.5:
        core = core[0].upper() + core[1:]
    segments, register = dress(rng, [(core, None)], temperature)
    text, _ = join(segments)
    if register not in ("lower", "texting", "shouting", "email") and rng.random() < 0.4 and text[-1:].isalnum():
        text += rng.choice(["?", ".", "!", " ?", "..."])
    return {"text": text, "phrasing": f"{label['name']}#{index}", "target": {"label": label["name"]}}


def inputs(request, seed, temperature):
    spec = request["spec"]
    return {"texts": [{k: v for k, v in plan(spec["label"], spec["slots"], seed, temperature, request["sample"], i).items()
                       if k != "target"} for i in range(spec["count"])]}


def replan(origin, seed, temperature):
    return plan(origin["label"], origin["slots"], seed, temperature, origin["sample"], origin["item"])

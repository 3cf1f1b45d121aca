"""Built-in teacher for classification: messages from each label's seed phrasings, filled from
the task's slot values, wrapped and roughened like the tool-calling teacher's utterances."""
from ...tasks.common import parse_phrasing
from .tool_call import ENDINGS, WRAPPERS, _noisy, _rng

LABEL_NOISE_RATE = 0.01  # how often the simulated teacher writes a message for a neighbouring label


def plan(label: dict, all_slots: dict, seed: int, temperature: float, sample: int, item: int) -> dict:
    rng = _rng("classify", seed, label["name"], sample, item)
    index = rng.randrange(len(label["phrasings"]))
    parts = []

    def render(pieces):
        for kind, value in pieces:
            if kind == "text":
                parts.append(value)
            elif kind == "slot":
                parts.append(rng.choice(all_slots[value]))
            elif rng.random() < 0.5:
                render(value)

    render(parse_phrasing(label["phrasings"][index]))
    text = " ".join("".join(parts).split())
    if rng.random() < 0.3 * temperature:
        text = text.lower()
    text = _noisy(rng, text, 0.05 * temperature)
    text = rng.choice(WRAPPERS).replace("{x}", text) + rng.choice(ENDINGS)
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    return {"text": text, "phrasing": f"{label['name']}#{index}", "target": {"label": label["name"]}}


def inputs(request, seed, temperature):
    spec = request["spec"]
    return {"texts": [{k: v for k, v in plan(spec["label"], spec["slots"], seed, temperature, request["sample"], i).items()
                       if k != "target"} for i in range(spec["count"])]}


def replan(origin, seed, temperature):
    return plan(origin["label"], origin["slots"], seed, temperature, origin["sample"], origin["item"])

"""The built-in offline teacher: deterministic from the Recipe's seed, no key, no network.

It simulates a careful LLM teacher: it plans each example (wording, values, noise), reveals the
input in one request and, in a separate request that carries only the input and where it came
from, re-derives its plan and reveals the target. It is free, so its answers are not cached.
"""
import importlib
import json
import random

from ...hashing import canonical_json, digest
from .. import Answer

GENERATORS = {
    "tool_call": "distill.teachers.builtin.tool_call",
    "classify": "distill.teachers.builtin.classify",
    "ner": "distill.teachers.builtin.ner",
    "sql": "distill.teachers.builtin.sql",
}


def plan_rng(*parts) -> random.Random:
    """The random source of one planned example, fixed by where it sits in the Mash."""
    return random.Random(int(digest(canonical_json(list(parts)).encode())[:16], 16))


def generator_version(task: str) -> int:
    """Bumped by hand in a generator module when its output changes: part of the Mash key."""
    return getattr(importlib.import_module(GENERATORS[task]), "VERSION", 1)


class Teacher:
    cacheable = False

    def __init__(self, settings: dict, seed: int):
        self.settings = settings
        self.seed = seed

    def complete(self, request: dict) -> Answer:
        generator = importlib.import_module(GENERATORS[request["task"]])
        temperature = self.settings["temperature"]
        if request["step"] == "inputs":
            answer = generator.inputs(request, self.seed, temperature)
        else:
            answer = self._label(generator, request["spec"], temperature)
        text = json.dumps(answer, ensure_ascii=False)
        return Answer(text=text, input_tokens=len(request["prompt"]) // 4, output_tokens=len(text) // 4,
                      model=self.settings["model"])

    def _label(self, generator, spec: dict, temperature: float) -> dict:
        """Re-derive the plan behind an input it wrote and reveal that plan's target."""
        planned = generator.replan(spec["origin"], self.seed, temperature)
        if planned["text"] != spec["text"]:
            return {"error": "the built-in teacher can only label inputs it wrote"}
        return planned["target"]

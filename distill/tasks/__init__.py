"""Task types, registered by name. Each module says what to ask the teacher, how to validate its
answer, how an example becomes student text, how a prediction is parsed, the proof metric and
the verdict on one example."""
import importlib

from ..errors import DistillError

TASK_MODULES = {
    "tool_call": "distill.tasks.tool_call",
    "classify": "distill.tasks.classify",
    "ner": "distill.tasks.ner",
    "sql": "distill.tasks.sql",
}


class Rejected(Exception):
    """A teacher answer that cannot become an example; the reason is counted in the manifest."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def task_type(name: str):
    try:
        return importlib.import_module(TASK_MODULES[name])
    except KeyError:
        raise DistillError(f"unknown task type '{name}'; valid: {', '.join(TASK_MODULES)}") from None

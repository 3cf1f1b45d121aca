"""The interface every task type implements (tool_call, classify, ner, sql), and the checks
every catalog shares. A task module is a plain module of functions; TaskType spells them out
so that mash, cuts, still, notes and the runtimes can call any of them without probing."""
from typing import Protocol


class TaskType(Protocol):
    PROOF_METRIC: str  # what the headline proof measures ("macro-F1")
    HEADS: dict  # student.arch -> head: "causal_lm" (decoder), "sequence" or "token" (encoder)
    DEFAULT_ARCH: str  # "llama" or "bert", for student.arch: auto
    ENCODING_VERSION: int  # in the Still key: a change to encode() retrains rather than reusing a checkpoint
    DECODING_VERSION: int  # in the notes key: a change to predict() re-measures proofs rather than keeping stale ones
    DEFAULT_INIT: str  # "scratch" or a packaged base, for student.init: auto

    # the Recipe's catalog
    def check(self, task: dict): ...  # yields (field path under task, problem) for what the schema cannot say
    def categories(self, task: dict) -> list: ...  # [(name, spec)]: one Mash shard each
    def shard_size(self, spec, per_category: int, n_categories: int) -> int: ...  # examples in one shard

    # the teacher (inputs and targets are separate requests)
    def inputs_request(self, task: dict, category: str, spec, count: int) -> dict: ...
    def target_request(self, task: dict, category: str, item: dict, origin: dict) -> dict: ...
    def parse_inputs(self, answer: dict) -> list[dict]: ...
    def parse_target(self, answer: dict, item: dict, task: dict, category: str) -> dict: ...  # raises Rejected
    def field_target(self, row: dict, task: dict) -> dict: ...  # a field example's target; ValueError says why not

    # the cuts
    def input_text(self, example: dict) -> str: ...
    def skeleton(self, example: dict) -> str: ...  # the wording without its values
    def near_duplicate_text(self, example: dict) -> str: ...
    def tail_reason(self, example: dict) -> str | None: ...
    def category_of(self, target: dict) -> str: ...
    def present(self, example: dict, task: dict, rng, distractors: int) -> dict: ...  # the example as the student sees it

    # the student
    def output_names(self, task: dict) -> list[str]: ...  # an encoder head's outputs in logit order
    def num_labels(self, task: dict) -> int: ...
    def tokenizer_text(self, example: dict, task: dict) -> str: ...
    def encode(self, tokenizer, example: dict, task: dict, student: dict): ...  # (ids, labels); student: the Recipe's
    def example_context(self, example: dict): ...
    def text_budget(self, spirit, context=None) -> int | None: ...  # tokens of input read; None: all (windows)
    def predict(self, spirit, text: str, context=None) -> dict: ...

    # the proof
    def verdict(self, gold: dict, pred: dict) -> str: ...
    def proof(self, golds: list, preds: list, task: dict | None = None) -> dict: ...
    def extra_notes(self, texts: list, golds: list, preds: list, task: dict, folder) -> dict: ...


def missing_members(module) -> list[str]:
    """What a task module lacks of the TaskType interface (a test holds every module to it)."""
    wanted = [name for name in vars(TaskType) if not name.startswith("_")] + list(TaskType.__annotations__)
    return sorted({name for name in wanted if not hasattr(module, name)})


def unique_names(items: list[dict], path: list, what: str):
    """Every catalog (tools, labels, entity types, tables, a table's columns): names are unique."""
    seen = {}
    for i, item in enumerate(items):
        name = item.get("name")
        if name in seen:
            yield path + [i, "name"], f"duplicate {what} name '{name}' (also at {path[-1]}[{seen[name]}]); rename one"
        seen.setdefault(name, i)


# Defaults for the members a task type has no use for.


def every_shard_alike(spec, per_category: int, n_categories: int) -> int:
    """Most task types ask for mash.examples_per_category in every shard."""
    return per_category


def present_as_is(example, task, rng, distractors):
    """Most task types show the student the input alone (tool calling adds the offered tools)."""
    return example


def no_head(task: dict) -> list[str]:
    """Decoders have no classification head."""
    return []


def no_extra_notes(texts, golds, preds, task, folder) -> dict:
    return {"pictures": []}

"""Spirits: load any bottle and pour predictions from it, the same way for every format.

A Spirit is a runner (runtimes/) plus what the bottle says about itself (its strings: Recipe,
tokenizer, config, proof, digests). Formats are reached through the registry (formats/), so
this module knows no file layout and no runtime internals.
"""
import os
from pathlib import Path

from .decoding import TokenPieces, choose
from .errors import DistillError, RecipeError
from .formats import first_line, format_of, json_field
from .formats import module as format_module
from .provenance import is_environment
from .recipe import check_normalised
from .student import load_tokenizer, special_ids
from .tasks import task_type

CHARS_PER_TOKEN_AT_MOST = 32  # no byte-level BPE token of a small vocabulary is longer


def clean_text(text) -> str:
    """Text as valid Unicode: undecodable bytes (an argument or stdin that is not UTF-8) become U+FFFD."""
    if isinstance(text, bytes):
        return text.decode("utf-8", "replace")
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if _escaped_bytes_only(text) \
            else text.encode("utf-8", "replace").decode("utf-8")


def _escaped_bytes_only(text: str) -> bool:
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in text)


class Spirit:
    """A loaded bottle (or the freshly trained model): runner + tokenizer + the Recipe that made it."""

    def __init__(self, path, fmt: str, runner, runtime: str, meta: dict, payload=None):
        self.path, self.format, self.runner, self.runtime = path, fmt, runner, runtime
        self.meta, self.payload = meta, payload  # payload: what the format read (state dict, ModelProto, GGUFReader)
        where = path or "the trained model"
        try:
            self.tokenizer = load_tokenizer(meta["tokenizer"])
        except Exception as err:  # noqa: BLE001 - a damaged string is one line
            raise DistillError(f"{where}: damaged Spirit metadata 'tokenizer' ({first_line(err)})") from None
        self.recipe = json_field(where, meta, "recipe")
        self.proof = json_field(where, meta, "proof")
        self.config = json_field(where, meta, "config")
        self.environment = json_field(where, meta, "environment", default={}) or None
        if not is_environment(self.environment):
            raise DistillError(f"{where}: damaged Spirit metadata 'environment' (not a training environment)")
        self.field_proof = json_field(where, meta, "field_proof", default={}) or None
        self.recipe_hash = meta["recipe_hash"]
        if path is not None:  # a file anyone may have written (a trained model's Recipe was checked on loading)
            self._check_recipe(where)
        self.task = task_type(self.recipe["task"].get("type"))
        self.eos_id = special_ids(self.tokenizer)["eos"]
        self.pieces = TokenPieces(self.tokenizer)

    def _check_recipe(self, where):
        """Pour reads the catalog, labels and schema from the embedded Recipe: a damaged one stops here."""
        try:
            check_normalised(self.recipe, "recipe")
        except RecipeError as err:
            at = f" at {err.field}" if err.field else ""
            raise DistillError(f"{where}: damaged Spirit metadata 'recipe'{at}: {err.problem}; re-download the Spirit "
                               "or rebuild it from its Recipe") from None

    @property
    def max_length(self) -> int:
        """The window the student was trained on (a pretrained base's positions may reach further)."""
        positions = self.config.get("max_position_embeddings", 512)
        return min(positions, self.recipe.get("student", {}).get("max_length", positions))

    @property
    def weight_type(self) -> str:
        """f32 for .pt and .onnx; a .gguf's own type (f32, f16, q8_0, q4_0)."""
        return format_module(self.format).weight_type(self.meta) if self.path else "f32"

    def field_examples(self) -> list[dict]:
        """The field set the Spirit was measured on at bottling (real text), if it has one."""
        rows = json_field(self.path, self.meta, "field", default=[]) or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) and "input" in r and "target" in r for r in rows):
            raise DistillError(f"{self.path}: damaged Spirit metadata 'field' (not a list of examples)")
        return rows

    def weights_digest(self) -> tuple[str, str | None]:
        """(digest of the weights as this runtime reads them, the digest recorded at bottling)."""
        return format_module(self.format).weights_digest(self.meta, self.payload)

    def generate(self, prompt_ids: list[int], valid=None, complete=None) -> str:
        """Decoder Spirits: constrained greedy continuation of the prompt, as text (decoding.choose)."""

        def pick(logits, out_ids):
            return choose(logits, self.tokenizer.decode(out_ids), self.pieces, valid, self.eos_id, complete)

        budget = max(1, self.max_length - len(prompt_ids))
        out_ids = self.runner.generate(prompt_ids, budget, self.eos_id, pick)
        text = self.tokenizer.decode(out_ids)
        if complete is None or complete(text):
            return text
        # the window ran out before a whole answer: keep the longest whole answer on the way
        for end in range(len(out_ids) - 1, 0, -1):
            shorter = self.tokenizer.decode(out_ids[:end])
            if complete(shorter):
                return shorter
        return text

    def forward(self, ids: list[int]):
        """Encoder Spirits: logits for one input (labels, or tokens x tags), as numpy."""
        return self.runner.forward(ids)

    def forward_many(self, batch: list[list[int]]):
        """Encoder Spirits: logits for several inputs of the same length, in one batch."""
        return self.runner.forward_many(batch)

    def prepare(self, text: str, context=None) -> tuple[str, str | None]:
        """The input as the Spirit will read it, and a sentence when that is not all of it: text
        that is not valid UTF-8 has its bad bytes replaced; a text longer than the window is cut
        to the tokens the Spirit can read (taggers read any length, window by window)."""
        text, note = clean_text(text), None
        budget = self.task.text_budget(self, context)
        if budget is None:
            return text, note
        if budget < 1:
            raise DistillError(f"{self.path}: the offered tools fill this Spirit's {self.max_length}-token window; "
                               "offer fewer tools (--tools)")
        head = text[: budget * CHARS_PER_TOKEN_AT_MOST]  # never tokenize megabytes to keep a few hundred tokens
        enc = self.tokenizer.encode(head, add_special_tokens=False)
        if len(enc.ids) > budget or len(head) < len(text):
            cut = enc.offsets[min(budget, len(enc.ids)) - 1][1] if enc.ids else 0
            note = (f"input cut to its first {cut:,} of {len(text):,} characters: this Spirit reads at most "
                    f"{budget} tokens of input")
            text = text[:cut]
        return text, note

    def predict(self, text: str, context=None) -> dict:
        """One prediction; context is task-specific (the tools offered, for tool calling)."""
        return self.task.predict(self, self.prepare(text, context)[0], context)

    def predict_example(self, example) -> dict:
        return self.predict(self.task.input_text(example), self.task.example_context(example))


def spirit_from_model(model, tokenizer, recipe: dict, recipe_hash="", proof=None) -> Spirit:
    """The trained model poured like a bottle (the notes stage measures proof this way)."""
    import json

    from .runtimes.torch import runner_for

    meta = {"recipe": json.dumps(recipe), "recipe_hash": recipe_hash, "proof": json.dumps(proof),
            "config": model.config.to_json_string(), "tokenizer": tokenizer.to_str()}
    return Spirit(None, "torch", runner_for(model), "torch", meta)


def read_bottle(path) -> tuple[str, dict, object]:
    """(format, strings, payload) of one bottle, checked as its format checks it; one line on failure."""
    path = Path(path)
    if not path.is_file():
        raise DistillError(f"{path}: no such Spirit file")
    fmt = format_of(path)
    meta, payload = format_module(fmt).read(path)
    return fmt, meta, payload


def load_spirit(path, runtime: str | None = None) -> Spirit:
    """Load any bottle; every failure is one DistillError line. `runtime` (or $DISTILL_GGUF_RUNTIME)
    picks how a .gguf runs: llama.cpp when llama-cpp-python is installed, else torch ("auto")."""
    fmt, meta, payload = read_bottle(path)
    runner, used = format_module(fmt).open_runner(Path(path), meta, payload,
                                                  runtime or os.environ.get("DISTILL_GGUF_RUNTIME", "auto"))
    return Spirit(Path(path), fmt, runner, used, meta, payload)

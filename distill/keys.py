"""Which inputs determine which artifact: the part of the normalised Recipe each stage's key
covers. build.py's stage table adds the upstream keys; hashing.py does the arithmetic.

Each key covers exactly the Recipe section its stage reads plus its upstream keys, so editing
`still.lr` leaves the Mash and Cuts keys alone and a fork reuses them for free.
"""
from dataclasses import dataclass

from .recipe import Recipe
from .recipe.schema import output_fields


@dataclass(frozen=True)
class Keys:
    shards: dict  # category -> mash shard key
    cuts: str
    still: str
    notes: str
    bottles: dict  # bottle variant ("pt", "onnx", "gguf", "gguf-q4_0", ...) -> bottle key

    def of(self, stage: str):
        """One stage's key, or its {instance: key} for the stages built per instance."""
        return {"mash": self.shards, "bottle": self.bottles}.get(stage) or getattr(self, stage)


def shard_section(recipe: Recipe, category_spec) -> dict:
    teacher = output_fields("teacher", recipe["teacher"])
    if teacher["provider"] == "builtin":  # the offline teacher's code is its model: version it
        from .teachers.builtin import generator_version

        teacher["generator_version"] = generator_version(recipe["task"]["type"])
    return {
        "task_type": recipe["task"]["type"],
        "category": category_spec,
        "seed": recipe["seed"],
        "teacher": teacher,
        "mash": recipe["mash"],
    }


def cuts_section(recipe: Recipe, _=None) -> dict:
    """An aged Recipe's reviewed rows override Mash examples here: their digest is in the key."""
    section = {"task": recipe["task"], "cuts": recipe["cuts"], "seed": recipe["seed"]}
    if (recipe.data.get("age") or {}).get("reviews_digest"):
        section["reviews_digest"] = recipe["age"]["reviews_digest"]
    return section


def still_section(recipe: Recipe, _=None) -> dict:
    """What the student is, how it trains, and how the task turns examples into its inputs."""
    from .tasks import task_type

    encoding = task_type(recipe["task"]["type"]).ENCODING_VERSION
    section = {"student": recipe["student"], "still": output_fields("still", recipe["still"]), "seed": recipe["seed"],
               "encoding": encoding}
    if recipe.data.get("age"):  # aging: how the new slice is mixed (the parent's Still key is an upstream)
        section["age"] = {k: recipe["age"][k] for k in ("replay", "epochs", "review_repeats")}
    return section


def notes_section(recipe: Recipe, _=None) -> dict:
    """The notes read the field set too (proof.field and its digest), not only the heads, and
    measure what the task's decoding answers (its version: new decoding rules re-measure)."""
    from .tasks import task_type

    return {"notes": recipe["notes"], "task_type": recipe["task"]["type"], "proof": recipe.data.get("proof") or {},
            "decoding": task_type(recipe["task"]["type"]).DECODING_VERSION}


# Bumped by hand when one format's file layout changes, so only that format's bottles rebuild.
# onnx 2: decoders carry a KV cache; gguf 2: encoders are llama.cpp "bert" files (tensor names,
# bert.* keys, rank pooling), no longer "distill-bert" with Hugging Face names; gguf 3: a WordPiece
# tokenizer (students grown from a BERT base) is llama.cpp's "bert" vocabulary, not "gpt2"
# wasm 1: the .wasm.html page; it embeds distill/browser/*.js and the npm runtimes, so bump it when a
# change there changes what a page answers (bottles are rebuilt from the cached Still, cheaply)
BOTTLE_LAYOUTS = {"pt": 1, "onnx": 2, "gguf": 3, "wasm": 1}


def bottle_variants(recipe: Recipe) -> dict:
    """Every bottle a Recipe asks for: variant -> (format, type). The first GGUF type is plain
    "gguf" (so `doit bottle:<name>-gguf` stays the name); further types are "gguf-<type>"."""
    variants = {}
    for fmt in recipe["bottle"]["formats"]:
        if fmt != "gguf":
            variants[fmt] = (fmt, None)
            continue
        for i, gguf_type in enumerate(recipe["bottle"].get("gguf_types", ["q8_0"])):  # older Recipes: none
            variants["gguf" if i == 0 else f"gguf-{gguf_type}"] = ("gguf", gguf_type)
    return variants


def variants_of(recipe: Recipe, fmt: str) -> list[str]:
    """The variants one `bottle:<name>-<fmt>` task builds (every GGUF type for "gguf")."""
    return [v for v, (f, _) in bottle_variants(recipe).items() if f == fmt]


def bottle_section(recipe: Recipe, variant: str) -> dict:
    """A bottle reads only its own format's options; the recipe hash is in because the bottle embeds the Recipe."""
    fmt, gguf_type = bottle_variants(recipe)[variant]
    options = {"onnx_opset": recipe["bottle"]["onnx_opset"]} if fmt in ("onnx", "wasm") else {}  # wasm embeds the .onnx graph
    if gguf_type:
        options["type"] = gguf_type
    return {"format": fmt, "layout": BOTTLE_LAYOUTS[fmt], "options": options, "recipe_hash": recipe.hash}

"""Which inputs determine which artifact: the content key of every stage of one Recipe.

Each key covers exactly the normalised Recipe section its stage reads plus its upstream keys,
so editing `still.lr` leaves the Mash and Cuts keys alone and a fork reuses them for free.
"""
from dataclasses import dataclass

from .hashing import stage_key
from .recipe import Recipe, output_fields
from .tasks import task_type


@dataclass(frozen=True)
class Keys:
    shards: dict  # category -> mash shard key
    cuts: str
    still: str
    notes: str
    bottles: dict  # format -> bottle key


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


def cuts_section(recipe: Recipe) -> dict:
    return {"task": recipe["task"], "cuts": recipe["cuts"], "seed": recipe["seed"]}


def still_section(recipe: Recipe) -> dict:
    return {"student": recipe["student"], "still": output_fields("still", recipe["still"]), "seed": recipe["seed"]}


def notes_section(recipe: Recipe) -> dict:
    return {"notes": recipe["notes"], "task_type": recipe["task"]["type"]}


def bottle_section(recipe: Recipe, fmt: str) -> dict:
    options = {k: v for k, v in recipe["bottle"].items() if k != "formats"}
    return {"format": fmt, "options": options, "recipe_hash": recipe.hash}


def recipe_keys(recipe: Recipe) -> Keys:
    categories = task_type(recipe["task"]["type"]).categories(recipe["task"])
    shards = {name: stage_key("mash", shard_section(recipe, spec)) for name, spec in categories}
    cuts = stage_key("cuts", cuts_section(recipe), list(shards.values()))
    still = stage_key("still", still_section(recipe), [cuts])
    notes = stage_key("notes", notes_section(recipe), [still, cuts])
    bottles = {fmt: stage_key("bottle", bottle_section(recipe, fmt), [still, notes])
               for fmt in recipe["bottle"]["formats"]}
    return Keys(shards=shards, cuts=cuts, still=still, notes=notes, bottles=bottles)

"""Aging in casks: a Recipe that continues training its parent's Spirit on a new Mash slice.

    age: {parent: needle, replay: 0.25, epochs: 2, reviews: needle.reviewed.jsonl}

- Recipe: the aged Recipe inherits every field of its parent (as a fork does); catalog lists
  (task.tools, task.labels, task.entities, ...) merge by name, so it lists only what is new. Its
  task type and student must be the parent's: the weights continue. The parent's normalised
  Recipe is embedded (age.parent_recipe), so the aged Recipe stands alone and its recipe hash
  covers the whole chain.
- Keys: the Mash shards of unchanged categories have the parent's keys (reused, no teacher
  request); the reviews' digest is a Cuts-key input; the parent's Still key is an upstream of the
  aged Still (build.py's stage table).
- Still: starts from the parent's weights and tokenizer and trains `age.epochs` epochs on the new
  slice (hearts the parent never trained on), reviewed rows (`age.review_repeats` times each) and
  a replay share of the parent's hearts (`age.replay`, chosen by content hash).
- Lineage: every Spirit carries its cask history (lineage()); notes carry deltas (deltas()).
"""
import copy
import json
from pathlib import Path

from .errors import DistillError, RecipeError
from .hashing import canonical_json, digest

WRITTEN = ("parent_hash", "parent_recipe", "reviews_digest", "reviewed")  # age fields Distillarium writes
MAX_REVIEW_BYTES = 20_000_000


def is_aged(recipe) -> bool:
    return bool((recipe.data if hasattr(recipe, "data") else recipe).get("age"))


# ---------------------------------------------------------------- the Recipe


def merge_aged(parent: dict, child: dict) -> dict:
    """Child over parent, as a fork merges, except that a list of named mappings (a catalog:
    tools, labels, entity types, tables) merges by name: same name replaces, a new name appends."""
    merged = copy.deepcopy(parent)
    for key, value in child.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = merge_aged(old, value)
        elif _named_list(value) and _named_list(old):
            names = {item["name"]: i for i, item in enumerate(old)}
            out = list(old)
            for item in value:
                if item["name"] in names:
                    out[names[item["name"]]] = copy.deepcopy(item)
                else:
                    out.append(copy.deepcopy(item))
            merged[key] = out
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _named_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and "name" in v for v in value)


def age_spec(raw: dict, path: Path, lines: dict) -> dict:
    """`age: needle` or `age: {parent: needle, ...}`, as a mapping without written fields."""
    from .recipe.schema import line_for

    age = raw["age"]
    if isinstance(age, str):
        age = {"parent": age}
    if not isinstance(age, dict) or not isinstance(age.get("parent"), str) or not age["parent"]:
        raise RecipeError(path, line_for(lines, ["age"]), "age", "name the parent: `age: <recipe name or recipe hash>` "
                                                                "or `age: {parent: <name>, replay: 0.25, epochs: 2}`")
    if "fork" in raw:
        raise RecipeError(path, line_for(lines, ["fork"]), "fork", "a Recipe either forks or ages a parent, not both; "
                                                                  "keep `age:` to continue the parent's weights")
    return {k: v for k, v in age.items() if k not in WRITTEN}


def check_task_type(raw: dict, parent: dict, path: Path, lines: dict):
    """Before merging: a child that names another task type would otherwise fail on the parent's catalog."""
    from .recipe.schema import line_for

    mine = raw.get("task", {}).get("type") if isinstance(raw.get("task"), dict) else None
    if mine is not None and mine != parent["task"]["type"]:
        raise RecipeError(path, line_for(lines, ["task", "type"]), "task.type",
                          f"{mine} differs from the parent's {parent['task']['type']}: an aged Spirit keeps its "
                          "parent's task type; remove task.type, or start a new Recipe with `fork:`")


def check_compatible(data: dict, parent: dict, path: Path, lines: dict):
    """An aged Spirit continues its parent's weights: same task type, same student."""
    from .recipe.schema import line_for

    if data["task"]["type"] != parent["task"]["type"]:
        raise RecipeError(path, line_for(lines, ["task", "type"]), "task.type",
                          f"{data['task']['type']} differs from the parent's {parent['task']['type']}: an aged Spirit "
                          "keeps its parent's task type; remove task.type, or start a new Recipe with `fork:`")
    for key in sorted(set(data["student"]) | set(parent["student"])):
        mine, theirs = data["student"].get(key), parent["student"].get(key)
        if mine != theirs:
            raise RecipeError(path, line_for(lines, ["student", key]), f"student.{key}",
                              f"{mine!r} differs from the parent's {theirs!r}: an aged Spirit continues its parent's "
                              f"weights, so it keeps its student; remove student.{key}, or start a new Recipe with `fork:`")


def review_row_for_field(module_name: str, text: str, target: dict) -> dict:
    """A review's target in the shape the task type's field_target checks."""
    return {"text": text, "call": target} if module_name == "tool_call" else {"text": text, **target}


def read_reviews(data: dict, path: Path, lines: dict) -> list[Path]:
    """age.reviews: every row checked now (one line naming file, line and fix), its digest written
    into the Recipe (a Cuts-key input). Returns the file, for the parsed-Recipe cache."""
    from .field import field_path
    from .recipe.schema import line_for
    from .tasks import task_type

    age = data["age"]
    age.pop("reviews_digest", None)
    age.pop("reviewed", None)
    if not age.get("reviews"):
        return []
    at = field_path(path, age["reviews"])
    try:
        if at.stat().st_size > MAX_REVIEW_BYTES:
            raise RecipeError(at, None, None, f"larger than {MAX_REVIEW_BYTES:,} bytes; a review file holds tails")
        text_lines = at.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RecipeError(path, line_for(lines, ["age", "reviews"]), "age.reviews",
                          f"{at} does not exist; write one with `distill tails {data['age']['parent']}`, "
                          "correct its targets, and name it here (relative to the Recipe)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise RecipeError(at, None, None, f"cannot read as UTF-8 JSON Lines ({err})") from None
    module = task_type(data["task"]["type"])
    rows = []
    for number, line in enumerate(text_lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append(check_review_row(line, at, number, module, data["task"]))
    if not rows:
        raise RecipeError(at, None, "age.reviews", "no reviewed rows (only comments or blank lines)")
    age["reviews_digest"] = digest(canonical_json(rows).encode())
    age["reviewed"] = rows  # the Recipe stands alone: verify and reproduce need no file
    return [at]


def check_review_row(line: str, at: Path, number: int, module, task: dict) -> dict:
    """One reviewed row: {"id", "input", "target"} with a target the task type accepts, or "reject": true."""
    def fail(field, fix):
        return RecipeError(at, number, field, fix)

    try:
        row = json.loads(line)
    except ValueError:
        raise fail(None, "not a JSON object; each line is one row written by `distill tails`") from None
    if not isinstance(row, dict):
        raise fail(None, "not a JSON object; each line is one row written by `distill tails`")
    if not isinstance(row.get("id"), str) or not row["id"]:
        raise fail("id", "missing; keep the id `distill tails` wrote (it names the Mash example)")
    if not isinstance(row.get("input"), str) or not row["input"].strip():
        raise fail("input", "missing; keep the input `distill tails` wrote")
    if row.get("reject") not in (None, False, True):
        raise fail("reject", 'must be true (drop the example) or absent')
    if row.get("reject") is True:
        return {"id": row["id"], "input": row["input"], "reject": True}
    if not isinstance(row.get("target"), dict):
        raise fail("target", 'must be the corrected answer (an object, as written), or set "reject": true')
    try:
        target = module.field_target(review_row_for_field(module.__name__.rsplit(".", 1)[-1], row["input"],
                                                          row["target"]), task)
    except (ValueError, TypeError, AttributeError) as err:
        raise fail("target", f"{' '.join(str(err).split())}; correct it, or set \"reject\": true") from None
    return {"id": row["id"], "input": row["input"], "target": target}


def reviewed_rows(recipe) -> list[dict]:
    """The checked rows the Recipe was read with (embedded in it, so a Recipe from a Spirit or a
    cellar index has them too), held to their digest."""
    age = recipe.data.get("age") or {}
    rows = age.get("reviewed") or []
    if digest(canonical_json(rows).encode()) != age.get("reviews_digest"):
        raise DistillError(f"{recipe.path}: age.reviewed does not match age.reviews_digest; the Recipe was edited "
                           "after it was read: read it again from its file")
    return rows


def apply_reviews(examples: list[dict], rows: list[dict], module, where: str) -> list[dict]:
    """The Mash with reviewed rows as overrides: a corrected target replaces the teacher's (and the
    example is marked reviewed: it always trains), a rejected one is dropped."""
    by_id = {ex["id"]: i for i, ex in enumerate(examples)}
    out, dropped = list(examples), set()
    for row in rows:
        if row["id"] not in by_id:
            raise DistillError(f"{where}: id {row['id']} is not an example of this Recipe's Mash; keep the ids "
                               "`distill tails` wrote, or remove the row")
        i = by_id[row["id"]]
        if module.input_text(examples[i]) != row["input"]:
            raise DistillError(f"{where}: the input of id {row['id']} differs from the Mash example's; a review "
                               "corrects the target, not the input")
        if row.get("reject"):
            dropped.add(i)
            continue
        out[i] = {**examples[i], "target": row["target"], "meta": {**examples[i].get("meta", {}), "reviewed": True}}
    return [ex for i, ex in enumerate(out) if i not in dropped]


# ---------------------------------------------------------------- the parent


def parent_recipe(recipe):
    """The parent as a Recipe (from the normalised data the aged Recipe embeds)."""
    from .recipe import Recipe

    data = recipe.data["age"]["parent_recipe"]
    return Recipe(name=data["name"], path=recipe.path.with_name(f"{data['name']}.yaml"), data=data,
                  parent=data.get("parent"), _lines={}, foreign=recipe.foreign)


def parent_build(build, built=True):
    """The parent's Build on the same store; with `built`, its Still is built first if missing."""
    from .build import Build

    parent = Build(parent_recipe(build.recipe), build.store, build.allow)
    if built and not parent.has("still"):
        parent.build_through("still", report=lambda line: None)
    return parent


def grow_head(model, old_names: list, new_names: list, seed: int):
    """An encoder head grown to a larger label set: the rows of labels the parent knew are copied
    (same weights, same bias), rows of new labels are initialised as transformers initialises a
    fresh head (normal(0, initializer_range), zero bias; seeded). Decoders have no head to grow:
    their output is the vocabulary, and the parent's tokenizer spells any new name."""
    import torch

    if model.config.model_type == "llama" or not old_names or list(old_names) == list(new_names):
        return model
    old = model.classifier
    torch.manual_seed(seed)
    new = torch.nn.Linear(old.in_features, len(new_names))
    with torch.no_grad():
        new.weight.normal_(0.0, model.config.initializer_range)
        new.bias.zero_()
        for i, name in enumerate(new_names):
            if name in old_names:
                new.weight[i] = old.weight[old_names.index(name)]
                new.bias[i] = old.bias[old_names.index(name)]
    model.classifier = new
    model.config.num_labels = len(new_names)
    model.num_labels = len(new_names)
    return model


def start_from_parent(build, module, task: dict, seed: int):
    """(model, tokenizer) for an aged Still: the parent's trained weights and tokenizer."""
    parent = parent_build(build)
    model, tokenizer, _ = parent.load("still")
    parent_task = parent.recipe["task"]
    grow_head(model, module.output_names(parent_task), module.output_names(task), seed)
    model.train()
    return model, tokenizer


def _unit(*parts) -> float:
    return int(digest(canonical_json(list(parts)).encode())[:12], 16) / float(1 << 48)


def _presented_again(example: dict, recipe, times: int) -> list[dict]:
    """A reviewed row `times` times, each shown as the cuts would show a new example (tool calling:
    other offered tools, sometimes without the target's tool), so the correction is learned for
    its input, not for one list of offered tools. Task types that show the input alone repeat it."""
    import random

    from .tasks import task_type

    raw = {k: v for k, v in example.items() if k not in ("shown", "withheld_call")}
    raw["target"] = example.get("withheld_call") or example["target"]
    module, seed = task_type(recipe["task"]["type"]), recipe["seed"]
    return [module.present(raw, recipe["task"], random.Random(int(example["id"][:16], 16) ^ seed ^ (k * 7919)),
                           recipe["cuts"]["distractors"]) for k in range(times)]


def training_examples(build, hearts: list[dict]) -> tuple[list[dict], dict]:
    """The aged Still's training set from the aged hearts: the new slice (hearts the parent never
    trained on), every reviewed row `review_repeats` times, and `replay` of the parent's hearts."""
    from .tasks import task_type

    age, seed = build.recipe["age"], build.recipe["seed"]
    parent = parent_build(build)
    parent_ids = {ex["id"] for ex in parent.load("cuts", "hearts")}
    old_categories = {name for name, _ in task_type(parent.recipe["task"]["type"]).categories(parent.recipe["task"])}
    new, replay, reviewed = [], [], []
    for ex in hearts:
        if ex.get("meta", {}).get("reviewed"):
            reviewed.extend(_presented_again(ex, build.recipe, age["review_repeats"]))
        elif ex["id"] not in parent_ids:
            new.append(ex)
        elif _unit("replay", seed, ex["id"]) < age["replay"]:
            replay.append(ex)
    categories = sorted({ex["category"] for ex in new} - old_categories)
    # "moved": examples of old categories the parent did not train on (its heads or tails of then,
    # hearts now: held-out phrasings are re-drawn when the catalog grows)
    slice_ = {"new": len(new), "replay": len(replay), "reviewed": len(reviewed) // max(1, age["review_repeats"]),
              "review_repeats": age["review_repeats"], "new_categories": categories,
              "moved": sum(ex["category"] in old_categories for ex in new), "parent_hearts": len(parent_ids)}
    if not new and not reviewed:
        raise DistillError(f"{build.recipe.path}: nothing new to age on: every heart was already the parent's; add "
                           "tools or labels, more examples (mash.examples_per_category), or reviewed tails (age.reviews)")
    return new + reviewed + replay, slice_


# ---------------------------------------------------------------- lineage


def describe_slice(build, history: dict) -> str:
    s = history.get("slice")
    if not s:
        return f"{history.get('train_examples', '?')} hearts, {len(build.keys.shards)} shards, from scratch or base"
    cats = ", ".join(s["new_categories"][:6]) + (" ..." if len(s["new_categories"]) > 6 else "")
    return (f"{s['new']} new hearts ({cats or 'no new category'}; {s.get('moved', 0)} of old categories), "
            f"{s['reviewed']} reviewed x{s['review_repeats']}, "
            f"{s['replay']} of the parent's {s['parent_hearts']} hearts replayed")


def own_entry(build) -> dict:
    from .formats import weights_digest

    model, _, history = build.load("still")
    runs = history.get("runs") or [{}]
    return {"name": build.recipe.name, "recipe_hash": build.recipe.hash, "still": build.keys.still,
            "weights": weights_digest(model.state_dict()), "slice": describe_slice(build, history),
            "date": (runs[-1].get("started") or "")[:10]}


def lineage(build) -> list[dict]:
    """The cask history, oldest first, this Spirit last: each generation's name, recipe hash,
    weights digest (as `distill inspect` shows it), slice and date."""
    chain = lineage(parent_build(build)) if is_aged(build.recipe) else []
    return chain + [own_entry(build)]


def lineage_line(chain: list[dict]) -> str:
    return " -> ".join(f"{e['name']} ({e['recipe_hash'][:8]})" for e in chain)


# ---------------------------------------------------------------- deltas


def deltas(build, heads: list[dict], preds: list[dict], field_examples=(), field_preds=()) -> dict:
    """The aged Spirit against its parent, on the same examples: the parent's categories
    (forgetting), the new ones, each category, and the field set. Heads the parent trained on
    are left out (its score there would flatter it)."""
    from .spirit import spirit_from_model
    from .stages.notes import predict_heads
    from .tasks import task_type
    from .tasks.common import degrees

    recipe = build.recipe
    module, task = task_type(recipe["task"]["type"]), recipe["task"]
    parent = parent_build(build)
    model, tokenizer, _ = parent.load("still")
    same_head = model.config.model_type == "llama" or module.output_names(parent.recipe["task"]) == module.output_names(task)
    spirit = spirit_from_model(model, tokenizer, recipe.data if same_head else parent.recipe.data, parent.recipe.hash)
    trained = {ex["id"] for ex in parent.load("cuts", "hearts")}
    old_categories = {name for name, _ in module.categories(parent.recipe["task"])}
    kept = [(ex, p) for ex, p in zip(heads, preds) if ex["id"] not in trained]
    before = predict_heads(spirit, [ex for ex, _ in kept], desc=f"parent {parent.recipe.name}")

    def row(label, keep):
        items = [(ex["target"], b, a) for (ex, a), b in zip(kept, before) if keep(ex)]
        if not items:
            return None
        golds = [g for g, _, _ in items]
        was = module.proof(golds, [b for _, b, _ in items], task)["value"]
        now = module.proof(golds, [a for _, _, a in items], task)["value"]
        return {"set": label, "n": len(items), "before": degrees(was), "after": degrees(now),
                "before_value": was, "after_value": now, "delta": round((now - was) * 100)}

    rows = [row("parent's categories (forgetting)", lambda ex: ex["category"] in old_categories),
            row("new categories", lambda ex: ex["category"] not in old_categories)]
    for category in sorted({ex["category"] for ex, _ in kept}):
        label = ("new " if category not in old_categories else "") + f"category {category}"
        rows.append(row(label, lambda ex, c=category: ex["category"] == c))
    if field_examples:
        before_field = predict_heads(spirit, list(field_examples), desc=f"parent field {parent.recipe.name}")
        golds = [ex["target"] for ex in field_examples]
        was, now = module.proof(golds, before_field, task)["value"], module.proof(golds, list(field_preds), task)["value"]
        rows.append({"set": "field set (real text)", "n": len(golds), "before": degrees(was), "after": degrees(now),
                     "before_value": was, "after_value": now, "delta": round((now - was) * 100)})
    return {"parent": parent.recipe.name, "parent_hash": parent.recipe.hash, "left_out_parent_hearts": len(heads) - len(kept),
            "rows": [r for r in rows if r]}


def render_deltas(aging: dict, md) -> list[str]:
    """The delta table for notes.md: `md` escapes text (notes.md's own escaper)."""
    lines = ["", f"## Aged from {md(aging['parent'])} ({aging['parent_hash']})", "",
             "Both Spirits on the same held-out examples (heads the parent trained on are left out: "
             f"{aging['left_out_parent_hearts']}).", "",
             "| set | n | parent | aged | delta |", "|---|---|---|---|---|"]
    for r in aging["rows"]:
        lines.append(f"| {md(r['set'])} | {r['n']} | {r['before']} | {r['after']} | {r['delta']:+d} |")
    return lines


def delta_summary(aging: dict) -> str:
    """One line: "parent's categories 98° -> 97° (-1), new categories 96°"."""
    parts = []
    for r in aging["rows"][:2]:
        parts.append(f"{r['set']} {r['before']} -> {r['after']} ({r['delta']:+d})")
    return "; ".join(parts)

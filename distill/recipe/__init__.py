"""Recipes: load YAML, resolve forks, validate against the schema, fill defaults, hash.

A normalised Recipe is standalone: forks are merged in, every default is written out, so
two spellings of the same Recipe have the same hash and the same stage keys.
"""
import copy
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RecipeError
from ..hashing import stage_key
from . import schema
from .forks import INHERITED_EXCEPT, RECIPE_HASH_RE, deep_merge, resolve_parent
from .schema import field_path, fill_defaults, line_for, validate
from .yamlfile import read_yaml

__all__ = ["RECIPE_HASH_RE", "Recipe", "check_normalised", "load_recipe", "load_recipes", "recipe_hash"]
# Fields that describe a Recipe without changing what it builds stay out of its hash.
UNHASHED_FIELDS = ("description", "parent")


@dataclass
class Recipe:
    """A normalised Recipe: `data` is a full standalone dict with defaults filled in."""

    name: str
    path: Path
    data: dict
    parent: str | None = None
    sources: list = field(default_factory=list, repr=False)  # parent files it was merged from
    _lines: dict | None = field(default=None, repr=False)
    # Where a Recipe's teacher endpoint was named by someone else: "embedded" for a Recipe read
    # from a Spirit or cellar index, or the fork parent's hash when teacher.base_url came from
    # it. Such an endpoint never receives a credential unless the user allows it (teachers/).
    foreign: str | None = None

    @property
    def hash(self) -> str:
        return recipe_hash(self.data)

    @property
    def lines(self) -> dict:
        """Field path -> line in the file, for error messages (re-read when it came from a cache)."""
        if self._lines is None:
            self._lines = read_yaml(self.path)[1] if self.path.is_file() else {}
        return self._lines

    def __getitem__(self, section):
        return self.data[section]


def recipe_hash(data: dict) -> str:
    hashed = {k: v for k, v in data.items() if k not in UNHASHED_FIELDS}
    return stage_key("recipe", hashed)


def check_normalised(data, where) -> None:
    """A normalised Recipe read from a Spirit or a cellar index, where anyone may have written it:
    the schema's shapes and the task type's own checks, as a Recipe file gets, so a damaged one is
    one line here rather than a traceback wherever a field is first read."""
    from ..tasks import task_type

    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise RecipeError(where, None, "(top level)", "not a normalised Recipe (a mapping with a name)")
    validate({k: v for k, v in data.items() if k != "parent"}, where, {})
    for parts, problem in task_type(data["task"]["type"]).check(data["task"]):
        raise RecipeError(where, None, field_path(["task", *parts]), problem)


def normalise(raw: dict, path: Path, lines: dict) -> dict:
    """Validate, fill defaults and run the task type's own catalog checks."""
    from ..tasks import task_type

    validate(raw, path, lines)
    data = fill_defaults(copy.deepcopy(raw), schema.schema())
    data.pop("fork", None)
    if data["still"].get("seed") == data["seed"]:  # the default written out: the same Still, the same keys
        del data["still"]["seed"]
    module = task_type(data["task"]["type"])
    if data["student"]["arch"] == "auto":
        data["student"]["arch"] = module.DEFAULT_ARCH
    _grow_from_base(data["student"], module, path, lines)
    if data["student"]["arch"] not in module.HEADS:
        raise RecipeError(path, line_for(lines, ["student", "arch"]), "student.arch",
                          f"a {data['task']['type']} student can be {' or '.join(module.HEADS)}, not {data['student']['arch']}")
    for parts, problem in module.check(data["task"]):
        full = ["task"] + list(parts)
        raise RecipeError(path, line_for(lines, full), field_path(full), problem)
    return data


def _read_field_set(data: dict, path: Path, lines: dict) -> list[Path]:
    """proof.field: checked row by row now (one line if malformed), its digest written into the
    Recipe so the notes key covers it. Returns the file, for the parsed-Recipe cache."""
    from .. import field
    from ..tasks import task_type

    proof = data.get("proof") or {}
    proof.pop("field_digest", None)
    if not proof.get("field"):
        return []
    at = field.field_path(path, proof["field"])
    rows = field.read_rows(at, path, task_type(data["task"]["type"]), data["task"])
    proof["field_digest"] = field.rows_digest(rows)
    return [at]


def _grow_from_base(student: dict, module, path: Path, lines: dict):
    """student.init: a pretrained base decides the architecture, sizes and tokenizer, and its
    weights digest is written into the Recipe (so it is a Still-key input)."""
    from ..bases import is_scratch, resolve
    from ..errors import DistillError

    if student["init"] == "auto":
        student["init"] = module.DEFAULT_INIT
    student.pop("init_digest", None)
    if is_scratch(student["init"]):
        return
    where = line_for(lines, ["student", "init"])
    try:
        base = resolve(student["init"], path.parent)
        config, arch = base.config, base.arch
    except DistillError as err:
        raise RecipeError(path, where, None, str(err)) from None
    if arch not in module.HEADS:
        raise RecipeError(path, where, "student.init", f"'{student['init']}' is a {arch} model; this task's student "
                                                         f"can be {' or '.join(module.HEADS)} (or init: scratch)")
    student.update(arch=arch, hidden_size=config["hidden_size"], layers=config["num_hidden_layers"],
                   heads=config["num_attention_heads"], intermediate_size=config["intermediate_size"],
                   vocab_size=config["vocab_size"], max_length=min(student["max_length"], config["max_position_embeddings"]),
                   init_digest=base.digest)


def load_recipe(path, _seen=None) -> Recipe:
    """Load, fork-resolve, validate and normalise one Recipe file."""
    path = Path(path)
    seen = set(_seen or ()) | {path.resolve()}
    raw, lines = read_yaml(path)
    raw.setdefault("name", path.stem)
    parent_hash, sources, foreign, aged_from = None, [], None, None
    if "age" in raw:  # aging (aging.py): inherits like a fork, catalogs merge by name
        from ..aging import age_spec, check_task_type, merge_aged

        age = age_spec(raw, path, lines)
        parent_data, aged_hash, sources = resolve_parent(path, lines, age["parent"], load_recipe, seen,
                                                         field=("age", "parent"))
        check_task_type(raw, parent_data, path, lines)
        foreign = _inherited_endpoint({**raw, "fork": age["parent"]}, parent_data, aged_hash)
        child = {k: v for k, v in raw.items() if k != "age"}
        raw = merge_aged({k: v for k, v in parent_data.items() if k not in (*INHERITED_EXCEPT, "age")}, child)
        raw["age"] = age
        aged_from = (parent_data, aged_hash)
    elif "fork" in raw:
        parent_data, parent_hash, sources = resolve_parent(path, lines, raw["fork"], load_recipe, seen)
        foreign = _inherited_endpoint(raw, parent_data, parent_hash)
        child = {k: v for k, v in raw.items() if k != "fork"}
        raw = deep_merge({k: v for k, v in parent_data.items() if k not in INHERITED_EXCEPT}, child)
    data = normalise(raw, path, lines)
    if parent_hash:
        data["parent"] = parent_hash
    sources = [*sources, *_read_field_set(data, path, lines)]
    if aged_from:
        from ..aging import check_compatible, read_reviews

        check_compatible(data, aged_from[0], path, lines)
        data["age"].update(parent_hash=aged_from[1], parent_recipe=aged_from[0])
        sources = [*sources, *read_reviews(data, path, lines)]
    if data["student"].get("init_digest"):  # the cache re-reads this Recipe if its base is reinstalled
        from ..bases import resolve

        sources = [*sources, resolve(data["student"]["init"], path.parent).folder / "config.json"]
    return Recipe(name=data["name"], path=path, data=data, parent=parent_hash, sources=sources, _lines=lines,
                  foreign=foreign)


def _inherited_endpoint(child: dict, parent: dict, parent_hash: str) -> str | None:
    """A fork by hash that keeps its parent's teacher.base_url: that endpoint was named by a
    cellar index, not by the user (a sibling file the user keeps is the user's own)."""
    if not RECIPE_HASH_RE.match(str(child.get("fork"))):
        return None
    own = child.get("teacher", {}) if isinstance(child.get("teacher"), dict) else {}
    inherited = (parent.get("teacher") or {}).get("base_url")
    return parent_hash if inherited and "base_url" not in own else None


def load_recipes(folder, cache=None) -> tuple[list[Recipe], list[RecipeError]]:
    """Every *.yaml in a folder, sorted by name, and one error per file that does not load:
    one broken Recipe never hides the others. `cache` (a RecipeCache) skips unchanged files."""
    recipes, errors, names = [], [], {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            recipe = cache.load(path, load_recipe) if cache is not None else load_recipe(path)
        except RecipeError as err:
            errors.append(err)
            continue
        if recipe.name in names:
            errors.append(RecipeError(recipe.path, line_for(recipe.lines, ["name"]), "name",
                                      f"'{recipe.name}' is also the name of {names[recipe.name]}; names must be unique"))
            continue
        names[recipe.name] = recipe.path
        recipes.append(recipe)
    if cache is not None:
        cache.save()
    return recipes, errors

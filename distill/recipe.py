"""Recipes: load YAML, resolve forks, validate against schemas/, fill defaults, hash.

A normalised Recipe is standalone: forks are merged in, every default is written out, so
two spellings of the same Recipe have the same hash and the same stage keys.
"""
import copy
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from .errors import RecipeError
from .hashing import stage_key

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "recipe.schema.json"
RECIPE_HASH_RE = re.compile(r"^[0-9a-f]{32}$")
# Fields that describe a Recipe without changing what it builds stay out of its hash.
UNHASHED_FIELDS = ("description", "parent")


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@dataclass
class Recipe:
    """A normalised Recipe: `data` is a full standalone dict with defaults filled in."""

    name: str
    path: Path
    data: dict
    parent: str | None = None
    lines: dict = field(default_factory=dict, repr=False)

    @property
    def hash(self) -> str:
        return recipe_hash(self.data)

    def __getitem__(self, section):
        return self.data[section]


def recipe_hash(data: dict) -> str:
    hashed = {k: v for k, v in data.items() if k not in UNHASHED_FIELDS}
    return stage_key("recipe", hashed)


# ---------------------------------------------------------------- YAML with line numbers


def _line_map(node, path=(), out=None):
    """Map every field path in a YAML node tree to the 1-based line it starts on."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = path + (key_node.value,)
            _line_map(value_node, child, out)
            out[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, path + (i,), out)
    return out


def read_yaml(path: Path):
    """Parse a YAML file; returns (data, line map). Syntax errors become one RecipeError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(path, None, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise RecipeError(path, None, None, f"cannot read: {err}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(err, "problem", None) or str(err)
        raise RecipeError(path, line, None, f"YAML syntax error: {problem}; fix the indentation or quoting") from None
    if not isinstance(data, dict):
        raise RecipeError(path, 1, None, "a Recipe must be a YAML mapping (key: value lines)")
    return data, (_line_map(node) if node is not None else {})


def field_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_for(lines: dict, parts) -> int | None:
    parts = tuple(parts)
    while parts not in lines and parts:
        parts = parts[:-1]
    return lines.get(parts)


# ---------------------------------------------------------------- forks


def deep_merge(parent: dict, child: dict) -> dict:
    """Child overrides parent; mappings merge recursively, lists and scalars replace."""
    merged = copy.deepcopy(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _resolve_parent(path: Path, lines: dict, ref, seen):
    if not isinstance(ref, str) or not ref:
        raise RecipeError(path, _line_for(lines, ["fork"]), "fork",
                          'must be a recipe name or a recipe hash; quote a hash that YAML reads as a number: fork: "0123..."')
    if RECIPE_HASH_RE.match(ref):
        from .cellar import find_recipe_by_hash  # only needed for hash forks

        data = find_recipe_by_hash(ref)
        if data is None:
            raise RecipeError(path, _line_for(lines, ["fork"]), "fork",
                              f"no published Recipe with hash {ref} in the cellar index; build or fetch it first")
        return data, ref
    parent_path = path.with_name(f"{ref}.yaml")
    if not parent_path.exists():
        siblings = sorted(p.stem for p in path.parent.glob("*.yaml") if p != path)
        raise RecipeError(path, _line_for(lines, ["fork"]), "fork",
                          f"parent recipe '{ref}' not found (no {parent_path}); valid: {', '.join(siblings) or 'none'}")
    if parent_path.resolve() in seen:
        raise RecipeError(path, _line_for(lines, ["fork"]), "fork", f"fork cycle through '{ref}'")
    parent = load_recipe(parent_path, _seen=seen)
    return parent.data, parent.hash


# ---------------------------------------------------------------- validation


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        return f"unknown key {', '.join(map(repr, unknown))}; valid keys: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{error.instance!r} is not valid; use one of: {', '.join(map(str, error.validator_value))}"
    if error.validator == "required":
        return f"{error.message}; add it"
    if error.validator == "pattern":
        return f"{error.instance!r} does not match {error.validator_value} (lowercase letters, digits, dashes)"
    return error.message


def _deepest(error):
    """For if/then and oneOf failures, report the innermost concrete problem."""
    while error.context:
        error = jsonschema.exceptions.best_match(error.context)
    return error


def validate(data: dict, path: Path, lines: dict):
    validator = jsonschema.Draft202012Validator(schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    error = _deepest(jsonschema.exceptions.best_match(errors))
    parts = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        parts = parts + unknown[:1]
    raise RecipeError(path, _line_for(lines, parts), field_path(parts) or "(top level)", _describe(error))


def fill_defaults(data, node_schema):
    """Write out every schema default, recursively (also inside $ref'd and if/then task schemas)."""
    node_schema = _deref(node_schema)
    if isinstance(data, dict):
        props = dict(node_schema.get("properties", {}))
        for clause in node_schema.get("allOf", []):
            cond = clause.get("if", {}).get("properties", {})
            if all(data.get(k) == v.get("const") for k, v in cond.items()):
                props.update(_deref(clause["then"]).get("properties", {}))
        for key, sub in props.items():
            sub = _deref(sub)
            if key not in data and "default" in sub:
                data[key] = copy.deepcopy(sub["default"])
            if key in data:
                data[key] = fill_defaults(data[key], sub)
        extra = node_schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in data:
                if key not in props:
                    data[key] = fill_defaults(data[key], extra)
    elif isinstance(data, list) and "items" in node_schema:
        data = [fill_defaults(item, node_schema["items"]) for item in data]
    return data


def _deref(node):
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return schema()["$defs"][name]
    return node


def output_fields(section_name: str, section: dict) -> dict:
    """The part of a section that changes outputs: fields marked x-affects-output: false are dropped."""
    props = schema()["properties"][section_name].get("properties", {})
    return {k: v for k, v in section.items() if props.get(k, {}).get("x-affects-output", True)}


# ---------------------------------------------------------------- entry points


def load_recipe(path, _seen=None) -> Recipe:
    """Load, fork-resolve, validate and normalise one Recipe file."""
    path = Path(path)
    seen = set(_seen or ()) | {path.resolve()}
    raw, lines = read_yaml(path)
    raw.setdefault("name", path.stem)
    parent_hash = None
    if "fork" in raw:
        parent_data, parent_hash = _resolve_parent(path, lines, raw["fork"], seen)
        child = {k: v for k, v in raw.items() if k != "fork"}
        parent_data = {k: v for k, v in parent_data.items() if k not in ("name", "description", "parent")}
        raw = deep_merge(parent_data, child)
    validate(raw, path, lines)
    data = fill_defaults(copy.deepcopy(raw), schema())
    data.pop("fork", None)
    if parent_hash:
        data["parent"] = parent_hash
    from .tasks import task_type  # task-specific checks (e.g. phrasings name real parameters)

    module = task_type(data["task"]["type"])
    if data["student"]["arch"] == "auto":
        data["student"]["arch"] = module.DEFAULT_ARCH
    for parts, problem in module.check(data["task"]):
        full = ["task"] + list(parts)
        raise RecipeError(path, _line_for(lines, full), field_path(full), problem)
    return Recipe(name=data["name"], path=path, data=data, parent=parent_hash, lines=lines)


def load_recipes(folder) -> list[Recipe]:
    """Every *.yaml in a folder, sorted by name; the first broken one raises RecipeError."""
    recipes = [load_recipe(p) for p in sorted(Path(folder).glob("*.yaml"))]
    names = {}
    for recipe in recipes:
        if recipe.name in names:
            raise RecipeError(recipe.path, _line_for(recipe.lines, ["name"]), "name",
                              f"'{recipe.name}' is also the name of {names[recipe.name]}; names must be unique")
        names[recipe.name] = recipe.path
    return recipes

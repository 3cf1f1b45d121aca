"""The Recipe schema (schemas/recipe.schema.json, shipped as distill.schemas): validation with
one clear line per problem, defaults written out, and which fields change outputs.

jsonschema is imported only when a Recipe is actually validated: loading the build graph from
the parsed-recipe cache never pays for it.
"""
import copy
import json
from functools import lru_cache
from pathlib import Path

from ..errors import RecipeError


def schema_path() -> Path:
    """The checkout's own schemas/ when the package runs from one (an editable install may point
    at another checkout), else the copy shipped as distill.schemas."""
    beside = Path(__file__).resolve().parents[2] / "schemas" / "recipe.schema.json"
    if beside.is_file():
        return beside
    import distill.schemas

    return Path(distill.schemas.__file__).parent / "recipe.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(schema_path().read_text())


def field_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_for(lines: dict, parts) -> int | None:
    """The line of the deepest field path the YAML has (a default has no line of its own)."""
    parts = tuple(parts)
    while parts not in lines and parts:
        parts = parts[:-1]
    return lines.get(parts)


def _describe(error) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        return f"unknown key {', '.join(map(repr, unknown))}; valid keys: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{error.instance!r} is not valid; use one of: {', '.join(map(str, error.validator_value))}"
    if error.validator == "required":
        return f"{error.message}; add it"
    if error.validator == "pattern":
        hint = error.schema.get("x-pattern-hint")
        return f"{error.instance!r} does not match {error.validator_value}" + (f" ({hint})" if hint else "")
    return error.message


def _deepest(error):
    """For if/then and oneOf failures, report the innermost concrete problem."""
    import jsonschema

    while error.context:
        error = jsonschema.exceptions.best_match(error.context)
    return error


def validate(data: dict, path: Path, lines: dict):
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    error = _deepest(jsonschema.exceptions.best_match(errors))
    parts = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        parts = parts + unknown[:1]
    raise RecipeError(path, line_for(lines, parts), field_path(parts) or "(top level)", _describe(error))


def _deref(node):
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return schema()["$defs"][name]
    return node


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


def output_fields(section_name: str, section: dict) -> dict:
    """The part of a section that changes outputs: fields marked x-affects-output: false are dropped."""
    props = schema()["properties"][section_name].get("properties", {})
    return {k: v for k, v in section.items() if props.get(k, {}).get("x-affects-output", True)}

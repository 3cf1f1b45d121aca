"""`distill`: validate, build, pour and inspect keys without doit (same stage functions)."""
import argparse
import json
import sys
from pathlib import Path

from .errors import DistillError


def _recipe_path(ref: str) -> Path:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return Path("recipes") / f"{ref}.yaml"


def cmd_validate(args):
    from .keys import recipe_keys
    from .recipe import load_recipe

    for ref in args.recipes:
        recipe = load_recipe(_recipe_path(ref))
        keys = recipe_keys(recipe)
        print(f"ok {recipe.path}: {recipe.name} (recipe {recipe.hash}, {len(keys.shards)} mash shards)")


def cmd_keys(args):
    from .keys import recipe_keys
    from .recipe import load_recipe

    recipe = load_recipe(_recipe_path(args.recipe))
    keys = recipe_keys(recipe)
    print(json.dumps({"recipe": recipe.hash, "mash": keys.shards, "cuts": keys.cuts, "still": keys.still,
                      "notes": keys.notes, "bottle": keys.bottles}, indent=2))


def cmd_build(args):
    from .stages import Build

    Build(_recipe_path(args.recipe), args.store).build_through(args.until, args.format)


def _tools_from_file(path: str) -> list[str]:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise DistillError(f"{path}: cannot read tools ({err}); give a JSON/YAML list of tools or tool names") from None
    if isinstance(data, dict):
        data = data.get("tools", data.get("task", {}).get("tools"))
    if not isinstance(data, list) or not data:
        raise DistillError(f"{path}: expected a list of tools (names or objects with a 'name')")
    names = [t["name"] if isinstance(t, dict) and "name" in t else t for t in data]
    if not all(isinstance(n, str) for n in names):
        raise DistillError(f"{path}: every tool needs a 'name' string")
    return names


def cmd_pour(args):
    from .spirit import load_spirit

    spirit = load_spirit(args.spirit)
    shown = _tools_from_file(args.tools) if args.tools else None
    texts = args.text or [line.strip() for line in sys.stdin if line.strip()]
    if args.redact and spirit.recipe["task"]["type"] != "ner":
        raise DistillError(f"{args.spirit}: --redact needs a NER Spirit, this one is {spirit.recipe['task']['type']}")
    for text in texts:
        prediction = spirit.predict(text, shown)
        if args.redact:
            from .tasks.ner import redact

            print(redact(text, prediction["spans"]))
        else:
            print(json.dumps(prediction, ensure_ascii=False))


def cmd_inspect(args):
    from .label import read_label, render_label

    labels = [read_label(path) for path in args.spirits]
    if args.json:
        print(json.dumps(labels if len(labels) > 1 else labels[0], indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(render_label(label) for label in labels))


def cmd_verify(args):
    from .verify import render, verify

    checks = verify(args.spirits, args.store)
    print(render(checks, args.json))
    if not all(c.ok for c in checks):
        raise SystemExit(1)


def cmd_reproduce(args):
    from .reproduce import reproduce

    result = reproduce(args.ref, args.store)
    if args.json:
        print(json.dumps(result, indent=2))
    if not (result["bit_identical"] or result["proof_within_tolerance"]):
        raise SystemExit(1)


def cmd_cellar(args):
    from .cellar import listing

    if args.action == "build":
        from .site import build_site

        print(f"wrote {build_site() / 'index.html'}")
    else:
        print(listing())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="distill", description="Distil a teacher LLM into a small Spirit.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check Recipes; one clear line per problem")
    p.add_argument("recipes", nargs="+", help="recipe files or names in recipes/")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("keys", help="print the content key of every stage of a Recipe")
    p.add_argument("recipe")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("build", help="build a Recipe through a stage without doit")
    p.add_argument("recipe")
    p.add_argument("--until", default="bottle", choices=["mash", "cuts", "still", "notes", "bottle"])
    p.add_argument("--format", choices=["pt", "onnx", "gguf"], help="only this bottle")
    p.add_argument("--store", help="store root (default: $DISTILL_STORE or .distill)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("pour", help="run a Spirit on text; prints one JSON line per input")
    p.add_argument("spirit")
    p.add_argument("text", nargs="*", help="inputs (default: one per line on stdin)")
    p.add_argument("--tools", help="JSON/YAML list of tools to offer instead of the Recipe's catalog")
    p.add_argument("--redact", action="store_true", help="NER Spirits: print the text with spans replaced by [TYPE]")
    p.set_defaults(func=cmd_pour)

    p = sub.add_parser("inspect", help="show what a Spirit file holds: format, architecture, parameters, tokenizer, "
                                        "recipe, proof, digests")
    p.add_argument("spirits", nargs="+", metavar="SPIRIT", help=".pt, .onnx or .gguf files")
    p.add_argument("--json", action="store_true", help="machine-readable")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("verify", help="re-check published Spirits: recipe hash, digests, runtime, proof, agreement")
    p.add_argument("spirits", nargs="+")
    p.add_argument("--json", action="store_true", help="machine-readable result for CI")
    p.add_argument("--store", help="store for rebuilding heads (default: $DISTILL_STORE or .distill)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("reproduce", help="rebuild a published Spirit from its Recipe hash (or file) and compare")
    p.add_argument("ref", help="a recipe hash from the cellar index, or a Spirit file")
    p.add_argument("--store", help="scratch store to rebuild in (default: a new temp folder)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("cellar", help="list the Spirits in the cellar index; 'cellar build' writes the static site")
    p.add_argument("action", nargs="?", choices=["list", "build"], default="list")
    p.set_defaults(func=cmd_cellar)

    args, extra = parser.parse_known_args(argv)
    if args.command == "pour" and not any(e.startswith("-") for e in extra):
        args.text = list(args.text) + extra  # texts given after an option such as --tools
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        args.func(args)
    except DistillError as err:
        print(f"distill: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("distill: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

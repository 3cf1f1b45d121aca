"""`distill`: validate, build, pour, inspect, verify and reproduce without doit (the same stage
functions doit runs); push, pull and publish for teams."""
import argparse
import json
import os
import sys
from pathlib import Path

from .errors import DistillError


def recipes_folder() -> Path:
    """$DISTILL_RECIPES, else ./recipes, else the Recipes shipped in the package."""
    if os.environ.get("DISTILL_RECIPES"):
        return Path(os.environ["DISTILL_RECIPES"])
    if Path("recipes").is_dir():
        return Path("recipes")
    import distill.recipes

    return Path(distill.recipes.__file__).parent


def recipe_path(ref: str) -> Path:
    """A Recipe file as given, or a Recipe name looked up in the recipes folder."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return recipes_folder() / f"{ref}.yaml"


def cmd_validate(args):
    from .build import recipe_keys
    from .recipe import load_recipe

    failed = 0
    for ref in args.recipes:
        try:
            recipe = load_recipe(recipe_path(ref))
        except DistillError as err:
            print(f"distill: error: {err}", file=sys.stderr)
            failed += 1
            continue
        keys = recipe_keys(recipe)
        print(f"ok {recipe.path}: {recipe.name} (recipe {recipe.hash}, {len(keys.shards)} mash shards)")
    if failed:
        raise SystemExit(2)


def cmd_keys(args):
    from .build import recipe_keys
    from .recipe import load_recipe

    recipe = load_recipe(recipe_path(args.recipe))
    keys = recipe_keys(recipe)
    print(json.dumps({"recipe": recipe.hash, "mash": keys.shards, "cuts": keys.cuts, "still": keys.still,
                      "notes": keys.notes, "bottle": keys.bottles}, indent=2))


def cmd_build(args):
    from .build import Build
    from .recipe import load_recipe
    from .store import Store

    # the Still reads these (as doit does): set here so every stage sees one source of truth
    for option, variable in (("nproc", "DISTILL_NPROC"), ("nnodes", "DISTILL_NNODES"), ("node_rank", "DISTILL_NODE_RANK"),
                             ("master", "DISTILL_MASTER")):
        if getattr(args, option) is not None:
            os.environ[variable] = str(getattr(args, option))
    Build(load_recipe(recipe_path(args.recipe)), Store(args.store), args.allow_endpoint).build_through(args.until, args.format)


MAX_TOOLS_FILE_BYTES = 1_000_000


def _tools_from_file(path: str, catalog: list[str]) -> list[str]:
    """The tools to offer, read from a JSON/YAML list of names (or of tools with a name) and held
    to the Spirit's catalog: a Spirit can only call tools it was trained on."""
    import yaml

    from .recipe.yamlfile import MAX_NODES, expanded_size

    try:
        raw = Path(path).read_bytes() if Path(path).stat().st_size <= MAX_TOOLS_FILE_BYTES else None
    except OSError as err:
        raise DistillError(f"{path}: cannot read tools ({err.strerror or err})") from None
    if raw is None:
        raise DistillError(f"{path}: larger than {MAX_TOOLS_FILE_BYTES:,} bytes; a tools file lists names")
    try:
        loader = yaml.SafeLoader(raw.decode("utf-8"))
        node = loader.get_single_node()
        if node is not None and expanded_size(node) > MAX_NODES:
            raise DistillError(f"{path}: its YAML aliases expand too far")
        data = loader.construct_document(node) if node is not None else None
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError):
        raise DistillError(f"{path}: not a JSON or YAML list of tools; give tool names or objects with a 'name'") from None
    if isinstance(data, dict):
        data = data.get("tools", (data.get("task") or {}).get("tools") if isinstance(data.get("task"), dict) else None)
    if not isinstance(data, list) or not data:
        raise DistillError(f"{path}: expected a list of tools (names or objects with a 'name')")
    names = [t.get("name") if isinstance(t, dict) else t for t in data]
    if not all(isinstance(n, str) for n in names):
        raise DistillError(f"{path}: every tool needs a 'name' string")
    unknown = sorted({n for n in names if n not in catalog})
    if unknown:
        shown = ", ".join(unknown[:8]) + (f" and {len(unknown) - 8} more" if len(unknown) > 8 else "")
        raise DistillError(f"{path}: this Spirit was not trained on {shown}; it can call: {', '.join(catalog)}")
    return list(dict.fromkeys(names))


def _inputs(args):
    """The texts to pour: the arguments, else one per line on stdin (read as bytes: any encoding)."""
    if args.text:
        return args.text
    return [line.decode("utf-8", "replace").strip() for line in sys.stdin.buffer if line.strip()]


def _today(value: str | None):
    """--today: the day relative dates are read against ("tomorrow", "next Friday"); default: today."""
    import datetime as dt

    if value is None:
        return dt.date.today().isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise DistillError(f"--today {value!r}: give a date as YYYY-MM-DD") from None


def cmd_pour(args):
    from .spirit import load_spirit

    spirit = load_spirit(args.spirit)
    task = spirit.recipe["task"]
    if args.redact and task["type"] != "ner":
        raise DistillError(f"{args.spirit}: --redact needs a NER Spirit, this one is {task['type']}")
    if args.tools and task["type"] != "tool_call":
        raise DistillError(f"{args.spirit}: --tools needs a tool-calling Spirit, this one is {task['type']}")
    shown = _tools_from_file(args.tools, [t["name"] for t in task["tools"]]) if args.tools else None
    context = {"tools": shown, "today": _today(args.today)} if task["type"] == "tool_call" else shown
    for text in _inputs(args):
        text, note = spirit.prepare(text, context)
        if not text.strip():
            raise DistillError("an input is empty; give the text to pour as an argument or one per line on stdin")
        if note:
            print(f"distill: warning: {note}", file=sys.stderr)
        prediction = spirit.predict(text, context)
        if args.redact:
            from .tasks.ner import redact

            print(redact(text, prediction["spans"]))
        else:
            print(json.dumps(prediction, ensure_ascii=False))


def cmd_inspect(args):
    from .commands.inspect import read_label, render_label

    labels = [read_label(path) for path in args.spirits]
    if args.json:
        print(json.dumps(labels if len(labels) > 1 else labels[0], indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(render_label(label) for label in labels))


def cmd_verify(args):
    from .commands.verify import render, verify_refs

    if not args.spirits and not args.cellar:
        raise DistillError("name Spirit files or bottle URLs to verify, or a published Cellar with --cellar <url>")
    checks = verify_refs(args.spirits, args.store, args.allow_endpoint, args.cellar)
    print(render(checks, args.json))
    if not all(c.ok for c in checks):
        raise SystemExit(1)


def cmd_tails(args):
    from .build import Build
    from .commands.tails import write_review_file
    from .recipe import load_recipe
    from .store import Store

    path = recipe_path(args.recipe)
    build = Build(load_recipe(path), Store(args.store), args.allow_endpoint)
    out = Path(args.out) if args.out else path.with_name(f"{build.recipe.name}.tails.jsonl")
    n = write_review_file(build, out, args.heads)
    print(f"{out}: {n} row(s) to review; correct \"target\" or add \"reject\": true, then name the file in an "
          f"aged Recipe: age: {{parent: {build.recipe.name}, reviews: {out.name}}}")


def cmd_reproduce(args):
    from .commands.reproduce import reproduce

    result = reproduce(args.ref, args.store, allow=args.allow_endpoint, cellar=args.cellar)
    if args.json:
        print(json.dumps(result, indent=2))
    if not (result["bit_identical"] or result["proof_within_tolerance"]):
        raise SystemExit(1)


def cmd_cellar(args):
    from .cellar.index import listing

    if args.action == "build" and args.source:
        from .cellar.site import build_remote_site

        print(f"wrote {build_remote_site(args.source, Path(args.out)) / 'index.html'}")
    elif args.action == "build":
        from .cellar.site import build_site

        print(f"wrote {build_site() / 'index.html'}")
    elif args.source:
        from .cellar.remote import read_index
        from .remote import open_remote

        print(listing(read_index(open_remote(args.source, "--from")), args.source))
    else:
        print(listing())


def _builds(refs, store_root):
    """One Build per named Recipe, or per Recipe in the recipes folder when none is named."""
    from .build import Build
    from .recipe import load_recipe, load_recipes
    from .store import Store

    store = Store(store_root)
    if refs:
        return [Build(load_recipe(recipe_path(ref)), store) for ref in refs]
    recipes, problems = load_recipes(recipes_folder())
    for problem in problems:
        print(f"distill: warning: skipped {problem}", file=sys.stderr)
    return [Build(recipe, store) for recipe in recipes]


def cmd_push(args):
    from .commands.sync import push

    for build in _builds(args.recipes, args.store):
        push(build, args.remote)


def cmd_pull(args):
    from .commands.sync import pull

    for build in _builds(args.recipes, args.store):
        pull(build, args.remote)


def cmd_publish(args):
    from .cellar.publish import publish
    from .formats import SUFFIXES

    path = Path(args.ref)
    if path.is_file() and path.name.lower().endswith(tuple(SUFFIXES)):
        from .spirit import load_spirit

        spirit = load_spirit(path)
        name, recipe_hash = spirit.recipe["name"], spirit.recipe_hash
    else:
        from .recipe import load_recipe

        recipe = load_recipe(recipe_path(args.ref))
        name, recipe_hash = recipe.name, recipe.hash
    publish(name, recipe_hash, args.to)


def _allow_option(parser):
    parser.add_argument("--allow-endpoint", action="append", default=[], metavar="URL",
                        help="let this teacher endpoint (a base_url, or openai/anthropic/gemini for their own APIs) "
                             "receive your API key although the Recipe naming it came from a Spirit, a cellar index "
                             "or a fork parent; repeatable")


def main(argv=None):
    from .build import STAGE_NAMES
    from .formats import names as format_names

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
    p.add_argument("--until", default="bottle", choices=STAGE_NAMES)
    p.add_argument("--format", choices=format_names(), help="only this bottle")
    p.add_argument("--store", help="store root (default: $DISTILL_STORE or .distill)")
    p.add_argument("--nproc", type=int, metavar="N", help="train the Still in N data-parallel processes on this machine "
                                                           "(torchrun; gloo on the CPU, one thread each; NCCL, one per GPU); "
                                                           "default $DISTILL_NPROC or 1")
    p.add_argument("--nnodes", type=int, metavar="M", help="machines taking part (each runs this command; default 1)")
    p.add_argument("--node-rank", type=int, metavar="R", help="this machine's number, 0 to M-1 (node 0 publishes the Still)")
    p.add_argument("--master", metavar="HOST:PORT", help="node 0's address and a free port, the same on every machine")
    _allow_option(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("pour", help="run a Spirit on text; prints one JSON line per input")
    p.add_argument("spirit")
    p.add_argument("text", nargs="*", help="inputs (default: one per line on stdin)")
    p.add_argument("--tools", help="JSON/YAML list of tools to offer instead of the Recipe's catalog")
    p.add_argument("--redact", action="store_true", help="NER Spirits: print the text with spans replaced by [TYPE]")
    p.add_argument("--today", help="tool-calling Spirits: the day 'tomorrow' or 'next Friday' is counted from (YYYY-MM-DD)")
    p.set_defaults(func=cmd_pour)

    p = sub.add_parser("inspect", help="show what a Spirit file holds: format, architecture, parameters, tokenizer, "
                                        "recipe, proof, digests")
    p.add_argument("spirits", nargs="+", metavar="SPIRIT", help=".pt, .onnx or .gguf files")
    p.add_argument("--json", action="store_true", help="machine-readable")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("verify", help="re-check published Spirits: recipe hash, digests, runtime, proof, agreement")
    p.add_argument("spirits", nargs="*", metavar="SPIRIT", help="bottle files or bottle URLs (s3://, https://, file://)")
    p.add_argument("--cellar", metavar="URL", help="verify every bottle of the Cellar published at URL")
    p.add_argument("--json", action="store_true", help="machine-readable result for CI")
    p.add_argument("--store", help="store for rebuilding heads (default: $DISTILL_STORE or .distill)")
    _allow_option(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("tails", help="write a Recipe's tails (and worst heads) as a review file for aging (age.reviews)")
    p.add_argument("recipe")
    p.add_argument("--heads", type=int, default=0, metavar="N", help="also the first N heads the Spirit answers wrong")
    p.add_argument("-o", "--out", help="the review file (default: <recipe>.tails.jsonl beside the Recipe)")
    p.add_argument("--store", help="store root (default: $DISTILL_STORE or .distill)")
    _allow_option(p)
    p.set_defaults(func=cmd_tails)

    p = sub.add_parser("reproduce", help="rebuild a published Spirit from its Recipe hash (or file) and compare")
    p.add_argument("ref", help="a recipe hash from the cellar index, or a Spirit file")
    p.add_argument("--cellar", metavar="URL", help="find the recipe hash in the Cellar published at URL (s3://, https://)")
    p.add_argument("--store", help="scratch store to rebuild in (default: a new temp folder)")
    p.add_argument("--json", action="store_true")
    _allow_option(p)
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("cellar", help="list the Spirits in the cellar index; 'cellar build' writes the static site")
    p.add_argument("action", nargs="?", choices=["list", "build"], default="list")
    p.add_argument("--from", dest="source", metavar="URL", help="a Cellar published at URL instead of the local one")
    p.add_argument("--out", default="cellar-site", help="with --from: where to write the site (default: cellar-site)")
    p.set_defaults(func=cmd_cellar)

    for name, verb, direction in (("push", cmd_push, "to"), ("pull", cmd_pull, "from")):
        p = sub.add_parser(name, help=f"copy a Recipe's artifacts and teacher answers {direction} the remote store")
        p.add_argument("recipes", nargs="*", metavar="RECIPE", help="recipe files or names (default: every Recipe)")
        p.add_argument("--remote", metavar="URL", help="instead of DISTILL_REMOTE: s3://bucket/prefix or file:///folder")
        p.add_argument("--store", help="store root (default: $DISTILL_STORE or .distill)")
        p.set_defaults(func=verb)

    p = sub.add_parser("publish", help="put a Spirit (bottles, notes, loss curve) into a shared Cellar and its index")
    p.add_argument("ref", metavar="RECIPE|SPIRIT", help="a Recipe name or file, or a bottle of the local cellar")
    p.add_argument("--to", required=True, metavar="URL", help="the Cellar: s3://bucket/prefix or file:///folder")
    p.set_defaults(func=cmd_publish)

    args, extra = parser.parse_known_args(argv)
    if args.command == "pour" and not any(e.startswith("-") for e in extra):
        args.text = list(args.text) + extra  # texts given after an option such as --tools
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        args.func(args)
        sys.stdout.flush()
    except DistillError as err:
        print(f"distill: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("distill: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `distill keys needle | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


if __name__ == "__main__":
    sys.exit(main())

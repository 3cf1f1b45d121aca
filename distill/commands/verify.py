"""Verify published Spirits: every claim a bottle makes about itself is re-checked.

For each file: it loads in its runtime (a .pt only as plain data), its embedded Recipe
re-hashes to the recorded hash, its weights and tokenizer match the digests recorded at
bottling, and the proof re-measured on its heads matches the recorded proof (the trained
model's) within the tolerance its weight type allows. Lossless files of one Spirit given
together must also agree on every head; a quantised one reports how many heads it answers
differently. Heads are rebuilt from the embedded Recipe through the store (free for the
built-in teacher; cached responses for API teachers).
"""
import json
from dataclasses import asdict, dataclass

from ..devices import resolve
from ..errors import DistillError
from ..hashing import digest
from ..provenance import differences, environment
from ..recipe import recipe_hash

# Proof points a bottle may differ from the trained model's proof on the same heads. Lossless
# weights must give the same proof exactly (runtimes differ only in rounding, which has not
# changed an answer on any head measured); a quantised .gguf is held to the loss budget of its
# type: q8_0 at most 0.5 points (Needle measured 0.0), q4_0 at most 2 (Needle measured 0.0).
PROOF_TOLERANCE_POINTS = {"f32": 0.0, "f16": 0.5, "q8_0": 0.5, "q4_0": 2.0}
LOSSLESS = "f32"


def weight_type(spirit) -> str:
    """f32 for .pt and .onnx; a .gguf's own type (f32, f16, q8_0, q4_0)."""
    wtype = spirit.weight_type
    return wtype if wtype in PROOF_TOLERANCE_POINTS else LOSSLESS  # an unknown type gets no allowance


def proof_within_tolerance(measured: float, recorded: float, wtype: str) -> bool:
    return abs(measured - recorded) * 100 <= PROOF_TOLERANCE_POINTS[wtype] + 1e-9


@dataclass
class Check:
    file: str
    check: str
    ok: bool
    detail: str


def _weights_check(spirit) -> tuple[bool, str]:
    actual, expected = spirit.weights_digest()
    if expected is None:
        return False, "no weights digest recorded"
    return actual == expected, "weights match the digest recorded at bottling" if actual == expected else \
        f"weights digest {actual} does not match the recorded {expected}: the weights were changed"


def _heads(spirit, store_root, allow=()):
    from ..build import Build

    build = Build.from_data(spirit.recipe, store_root, allow)
    if build.recipe.hash != spirit.recipe_hash:
        raise DistillError("the embedded Recipe does not rebuild to the recorded hash")
    for stage in ("mash", "cuts"):
        if not build.is_built(stage):
            build.run(stage)
    return build.load("cuts", "heads")


def environment_check(name: str, spirit) -> Check:
    """Informational: what differs from the machine that trained it (the proof tolerance still applies)."""
    found = differences(spirit.environment, environment(device=resolve((spirit.recipe.get("still") or {}).get("device"), strict=False)))
    return Check(name, "environment", True, "same libraries, threads and CPU as at training" if not found
                 else "differs from training: " + "; ".join(found))


def verify_file(path, store_root=None, heads_cache=None, allow=(), label=None) -> tuple[list[Check], object, list]:
    """`label`: how the file is named in the report (the URL it was downloaded from)."""
    from ..spirit import load_spirit

    name = label or str(path)
    try:
        spirit = load_spirit(path)
    except DistillError as err:
        return [Check(name, "loads", False, str(err))], None, []
    checks = [Check(name, "loads", True, f"loads in {spirit.runtime}"), environment_check(name, spirit)]
    actual_hash = recipe_hash(spirit.recipe)
    checks.append(Check(name, "recipe hash", actual_hash == spirit.recipe_hash,
                        "embedded Recipe re-hashes to the recorded hash" if actual_hash == spirit.recipe_hash else
                        f"embedded Recipe hashes to {actual_hash}, the bottle claims {spirit.recipe_hash}: the Recipe was edited"))
    ok, detail = _weights_check(spirit)
    checks.append(Check(name, "weights", ok, detail))
    recorded = json.loads(spirit.meta.get("digests", "{}")).get("tokenizer")
    actual = digest(spirit.meta.get("tokenizer", "").encode())
    checks.append(Check(name, "tokenizer", actual == recorded, "tokenizer matches its digest" if actual == recorded
                        else f"tokenizer digest {actual} does not match the recorded {recorded}: the tokenizer was swapped"))
    if "lineage" in spirit.meta:
        checks.append(lineage_check(name, spirit))
    if not all(c.ok for c in checks):
        return checks, spirit, []
    heads_cache = {} if heads_cache is None else heads_cache
    try:
        if spirit.recipe_hash not in heads_cache:
            heads_cache[spirit.recipe_hash] = _heads(spirit, store_root, allow)
    except DistillError as err:  # e.g. an API teacher's heads with no cached responses: report, go on
        return checks + [Check(name, "proof", False, f"cannot rebuild the heads to re-measure: {err}")], spirit, []
    heads = heads_cache[spirit.recipe_hash]
    preds = [spirit.predict_example(ex) for ex in heads]
    measured = spirit.task.proof([ex["target"] for ex in heads], preds, spirit.recipe["task"])["value"]
    checks.append(_proof_check(name, measured, spirit.proof["value"], weight_type(spirit), len(heads)))
    if spirit.field_proof:
        checks.append(_field_check(name, spirit))
    return checks, spirit, preds


def lineage_check(name, spirit) -> Check:
    """The cask history's links that can be resolved: this Spirit is the last generation (its
    recipe hash and weights digest), each generation's Recipe names the one before as its aged
    parent (in the embedded chain of parent Recipes), and an ancestor found in the cellar index
    records the same history up to itself (same recipe hashes, same weights)."""
    from ..cellar.index import read_index

    try:
        chain = json.loads(spirit.meta["lineage"])
        last = chain[-1]
        if not all(isinstance(generation, dict) for generation in chain):
            raise TypeError("a generation is not a record")
    except (ValueError, TypeError, IndexError, KeyError):
        return Check(name, "lineage", False, "the embedded cask history is damaged")
    recorded = json.loads(spirit.meta.get("digests", "{}")).get("weights")
    if last.get("recipe_hash") != spirit.recipe_hash or last.get("weights") != recorded:
        return Check(name, "lineage", False, "the last generation of the cask history is not this Spirit "
                                             "(its recipe hash or weights digest differ)")
    recipe, links = spirit.recipe, 0
    for i in range(len(chain) - 1, 0, -1):  # walk the embedded parent Recipes back to the first cask
        age = recipe.get("age") or {}
        parent = age.get("parent_recipe")
        if not parent or age.get("parent_hash") != chain[i - 1].get("recipe_hash") or \
                recipe_hash(parent) != chain[i - 1].get("recipe_hash"):
            return Check(name, "lineage", False, f"generation {i + 1} ({chain[i].get('name')}) does not name "
                                                 f"generation {i} ({chain[i - 1].get('name')}) as its aged parent")
        recipe, links = parent, links + 1
    indexed, resolved = {e.get("recipe_hash"): e for e in read_index()["spirits"].values()}, 0
    for i, entry in enumerate(chain[:-1]):
        known = indexed.get(entry.get("recipe_hash"))
        if not known or not known.get("lineage"):
            continue
        if known["lineage"] != chain[:i + 1]:
            return Check(name, "lineage", False, f"the cellar index records {entry.get('name')} with another "
                                                 "history or other weights than this Spirit's cask history")
        resolved += 1
    return Check(name, "lineage", True, f"{len(chain)} generation(s); {links} parent link(s) checked in the embedded "
                                        f"Recipes, {resolved} ancestor(s) matched in the cellar index")


def _field_check(name, spirit) -> Check:
    """The field proof re-measured on the real examples the Spirit carries."""
    try:
        examples = spirit.field_examples()
    except DistillError as err:
        return Check(name, "field proof", False, str(err))
    preds = [spirit.predict_example(ex) for ex in examples]
    measured = spirit.task.proof([ex["target"] for ex in examples], preds, spirit.recipe["task"])["value"]
    check = _proof_check(name, measured, spirit.field_proof["value"], weight_type(spirit), len(examples))
    return Check(name, "field proof", check.ok, check.detail.replace("heads", "real field examples"))


def _proof_check(name, measured: float, recorded: float, wtype: str, heads: int) -> Check:
    ok = proof_within_tolerance(measured, recorded, wtype)
    allowed = PROOF_TOLERANCE_POINTS[wtype]
    rule = "must match exactly" if allowed == 0 else f"{wtype} allows ±{allowed:g} points"
    return Check(name, "proof", ok, f"re-measured {100 * measured:.2f}° on {heads} heads, "
                                    f"recorded {100 * recorded:.2f}° ({rule})")


def verify(paths, store_root=None, allow=(), labels=None) -> list[Check]:
    """All checks for all files, then agreement between bottles of the same Spirit. `allow`: teacher
    endpoints the user lets receive a credential when heads must be rebuilt (none by default)."""
    checks, poured, heads_cache = [], {}, {}
    labels = labels or [str(p) for p in paths]
    for path, label in zip(paths, labels):
        file_checks, spirit, preds = verify_file(path, store_root, heads_cache, allow, label)
        checks += file_checks
        if preds:
            poured.setdefault(spirit.recipe_hash, []).append((label, weight_type(spirit), preds))
    for group in poured.values():
        group.sort(key=lambda entry: entry[1] != LOSSLESS)  # compare against a lossless bottle when there is one
        first_path, first_type, first = group[0]
        for other_path, other_type, other in group[1:]:
            checks.append(_agreement_check(other_path, first_path, other, first, {first_type, other_type}))
    return checks


def _agreement_check(path, reference_path, preds, reference, types: set) -> Check:
    """Lossless bottles must answer alike on every head; a quantised one reports how many it changes
    (its proof check holds it to its type's budget)."""
    check = f"agrees with {reference_path}"
    differ = sum(a != b for a, b in zip(preds, reference))
    if differ == 0:
        return Check(path, check, True, f"identical on {len(reference)} heads")
    lossy = sorted(types - {LOSSLESS})
    detail = f"differs on {differ} of {len(reference)} heads"
    if lossy:
        return Check(path, check, True, f"{detail} ({', '.join(lossy)} weights are lossy)")
    return Check(path, check, False, detail)


def render(checks: list[Check], as_json: bool) -> str:
    if as_json:
        return json.dumps({"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}, indent=2)
    width = max(len(c.file) for c in checks)
    lines = [f"{'file'.ljust(width)}  {'check':<24} result  detail"]
    lines += [f"{c.file.ljust(width)}  {c.check:<24} {'ok' if c.ok else 'FAIL':<6}  {c.detail}" for c in checks]
    failed = sum(not c.ok for c in checks)
    lines.append(f"{len(checks) - failed} passed, {failed} failed" if failed else f"all {len(checks)} checks passed")
    return "\n".join(lines)


def is_url(ref: str) -> bool:
    return "://" in str(ref)


def verify_refs(refs, store_root=None, allow=(), cellar=None) -> list[Check]:
    """Files, bottle URLs and every bottle of a published Cellar: URLs are downloaded first (checked
    against the sha256 their Cellar lists) and reported under their URL."""
    import tempfile
    from pathlib import Path

    from ..cellar.remote import bottle_files, fetch_bottle_url, read_index
    from ..remote import open_remote

    with tempfile.TemporaryDirectory(prefix="distill-verify-") as scratch:
        paths, labels, failed = [], [], []
        urls = [r for r in refs if is_url(r)]
        if cellar:
            remote = open_remote(cellar, "--cellar")
            for entry in read_index(remote)["spirits"].values():
                urls += [remote.where(f"{entry['folder']}/{f}") for f in bottle_files(entry)]
            if not urls:
                raise DistillError(f"{remote.where('index.json')}: the Cellar lists no bottles to verify")
        for ref in refs:
            if not is_url(ref):
                paths.append(ref)
                labels.append(str(ref))
        for i, url in enumerate(urls):
            try:
                paths.append(fetch_bottle_url(url, Path(scratch) / str(i)))
                labels.append(url)
            except DistillError as err:  # a damaged or missing download fails its own check; the others go on
                failed.append(Check(url, "download", False, str(err)))
        return failed + verify(paths, store_root, allow, labels)

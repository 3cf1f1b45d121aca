"""Reproduce a published Spirit from its Recipe: rebuild through the same stages into a
scratch store and compare with what was published.

Promise: on the same platform (torch build, CPU kind) and the same thread count
(DISTILL_THREADS), with the same teacher responses (the built-in teacher is deterministic;
API teachers replay from the response cache), training is bit-identical: same weights digest,
same proof. With another thread count, float reductions split differently, so weights differ
in the last bits and the proof must agree within REPRODUCE_TOLERANCE.
"""
import json
import tempfile
from pathlib import Path

from ..devices import resolve, training_threads
from ..errors import DistillError
from ..provenance import differences, environment
from ..recipe import RECIPE_HASH_RE

REPRODUCE_TOLERANCE = 0.03  # 3 proof points across thread counts or platforms


def _published(ref: str):
    """(normalised recipe, weights digest or None, proof value, training environment or None)
    of a Spirit file or a recipe hash."""
    from ..cellar.index import cellar_root, find_recipe_by_hash, read_index
    from ..spirit import load_spirit

    path = Path(ref)
    if path.exists():
        spirit = load_spirit(path)
        weights = json.loads(spirit.meta.get("digests", "{}")).get("weights")
        return spirit.recipe, weights, spirit.proof["value"], spirit.environment
    if not RECIPE_HASH_RE.match(ref):
        raise DistillError(f"{ref}: neither a Spirit file nor a 32-hex recipe hash")
    data = find_recipe_by_hash(ref)
    if data is None:
        bottled = _bottle_in_store(ref)
        if bottled is not None:  # e.g. its cellar entry was since replaced by a newer build of that name
            return _published(str(bottled))
        raise DistillError(f"recipe hash {ref} is not in the cellar index ({cellar_root() / 'index.json'}) "
                           "nor bottled in the store; give the Spirit file instead")
    entry = next(e for e in read_index()["spirits"].values() if e["recipe_hash"] == ref)
    pt = cellar_root() / entry["name"] / f"{entry['name']}.pt"
    weights, env = None, entry.get("environment")
    if pt.exists():
        spirit = load_spirit(pt)
        weights, env = json.loads(spirit.meta.get("digests", "{}")).get("weights"), spirit.environment
    return data, weights, entry["proof"]["value"], env


def _bottle_in_store(recipe_hash: str):
    """A bottle of this Recipe in the local store ($DISTILL_STORE), intact per its manifest, or None."""
    from ..store import Store

    store = Store()
    for key in store.keys("bottle"):
        manifest = store.manifest("bottle", key) or {}
        if (manifest.get("section") or {}).get("recipe_hash") == recipe_hash and store.has("bottle", key):
            return store.path("bottle", key) / manifest["spirit"]
    return None


def reproduce(ref: str, store_root=None, report=print, allow=()) -> dict:
    from ..build import Build
    from ..formats import weights_digest

    data, published_weights, published_proof, published_env = _published(ref)
    store_root = store_root or tempfile.mkdtemp(prefix="distill-reproduce-")
    build = Build.from_data(data, store_root, allow)
    found = differences(published_env, environment(device=resolve(build.recipe["still"].get("device"), strict=False)))
    report(f"reproducing {build.recipe.name} (recipe {build.recipe.hash}) in {Path(store_root).resolve()} "
           f"with {training_threads()} thread(s)")
    report("environment: same as the published Spirit's training" if not found
           else "environment differs, so bit-identical weights are not expected: " + "; ".join(found))
    stages = build.build_through("notes", report=report)
    model, _, _ = build.load("still")
    weights = weights_digest(model.state_dict())
    proof = build.load("notes")["proof"]["value"]
    result = {"recipe_hash": build.recipe.hash, "stages": stages, "environment_differences": found,
              "weights_digest": weights,
              "published_weights_digest": published_weights, "bit_identical": weights == published_weights,
              "proof": proof, "published_proof": published_proof,
              "proof_within_tolerance": abs(proof - published_proof) <= REPRODUCE_TOLERANCE}
    if result["bit_identical"]:
        report(f"bit-identical weights ({weights}); proof {100 * proof:.1f}° as published")
    else:
        report(f"weights differ from the published ones ({weights} vs {published_weights}); proof "
               f"{100 * proof:.1f}° vs published {100 * published_proof:.1f}° "
               f"({'within' if result['proof_within_tolerance'] else 'OUTSIDE'} the {100 * REPRODUCE_TOLERANCE:.0f}-point tolerance)")
    return result

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


def _from_cellar(ref: str, url: str):
    """What a published Cellar says about a recipe hash: its Recipe (hash-checked), and the weights
    digest and training environment of its .pt bottle (downloaded, sha256-checked) when it has one."""
    from ..cellar.remote import download, read_entry
    from ..remote import open_remote
    from ..spirit import load_spirit

    if not RECIPE_HASH_RE.match(ref):
        raise DistillError(f"{ref}: with --cellar, give the 32-hex recipe hash of a published Spirit")
    remote = open_remote(url, "--cellar")
    entry = read_entry(remote, ref)
    if entry is None:
        raise DistillError(f"recipe hash {ref} is not published at {remote.where('entries/')}; "
                           f"list what is with `distill cellar list --from {url}`")
    weights, env = None, None
    pt = next((b["file"] for b in entry["bottles"].values() if b["file"].endswith(".pt")), None)
    if pt is not None:
        with tempfile.TemporaryDirectory(prefix="distill-reproduce-") as scratch:
            spirit = load_spirit(download(remote, entry, pt, Path(scratch)))
            weights, env = json.loads(spirit.meta.get("digests", "{}")).get("weights"), spirit.environment
    return entry["recipe"], weights, entry["proof"]["value"], env


def _published(ref: str, cellar: str | None = None):
    """(normalised recipe, weights digest or None, proof value, training environment or None)
    of a Spirit file or a recipe hash (in the local cellar index, or in the Cellar at `cellar`)."""
    from ..cellar.index import cellar_root, find_recipe_by_hash, read_index
    from ..spirit import load_spirit

    if cellar:
        return _from_cellar(ref, cellar)
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


def _teacher_answers(build, report):
    """An API teacher's Mash is rebuilt by replaying answers: the team's too, when a remote is configured."""
    from ..store import Store
    from ..teachers import sync

    tier = Store(build.store.root).remote
    added = sync.pull_answers(tier, build.recipe, build.store.teacher_cache)
    if added:
        report(f"teacher answers from {tier.url}: {added} added to the replay cache")


def reproduce(ref: str, store_root=None, report=print, allow=(), cellar=None) -> dict:
    from ..build import Build
    from ..formats import weights_digest

    data, published_weights, published_proof, published_env = _published(ref, cellar)
    store_root = store_root or tempfile.mkdtemp(prefix="distill-reproduce-")
    build = Build.from_data(data, store_root, allow, remote=None)  # rebuilt here, never fetched
    _teacher_answers(build, report)
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

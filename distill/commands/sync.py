"""`distill push` / `distill pull`: move a Recipe's artifacts (and the teacher answers its Mash
was built from) between the local store and the remote, explicitly.

Builds already do this on their own (a local miss asks the remote; what is built is uploaded);
these commands are for sharing what was built before a remote was configured, for filling a
laptop before going offline, and for repairing a remote after an interrupted upload. Unlike a
build, they stop with one line when the remote cannot be reached.
"""
import time

from ..errors import DistillError
from ..remote_tier import warn
from ..teachers import sync


def artifacts(build) -> list[tuple[str, str, str]]:
    """(stage, key, label) of every artifact of a Recipe, in build order."""
    keys, name = build.keys, build.recipe.name
    found = [("mash", key, f"mash:{name}/{category}") for category, key in keys.shards.items()]
    found += [("cuts", keys.cuts, f"cuts:{name}"), ("still", keys.still, f"still:{name}"), ("notes", keys.notes, f"notes:{name}")]
    found += [("bottle", key, f"bottle:{name}-{variant}") for variant, key in keys.bottles.items()]
    return found


def _tier(store, url=None):
    from ..remote_tier import RemoteTier

    if url:
        return RemoteTier.for_url(url)
    if store.remote is None:
        raise DistillError("no remote store configured: set DISTILL_REMOTE=s3://bucket/prefix (or file:///shared/folder), "
                           "put `remote: <url>` in ~/.config/distill/config.yaml, or pass --remote <url>")
    return store.remote


def _bytes(store, stage, key) -> int:
    return sum(f["bytes"] for f in (store.manifest(stage, key) or {"files": {}})["files"].values())


def push(build, url=None, report=print) -> dict:
    store = build.store
    tier = _tier(store, url)
    counts, sent, started = {"uploaded": 0, "already there": 0, "not built here": 0}, 0, time.perf_counter()
    for stage, key, label in artifacts(build):
        if not store.has_local(stage, key):
            counts["not built here"] += 1
            continue
        if tier.upload(store, stage, key, strict=True):
            counts["uploaded"] += 1
            sent += _bytes(store, stage, key)
            report(f"pushed {label} ({key})")
        else:
            counts["already there"] += 1
    answers = _push_answers(build, tier)
    seconds = time.perf_counter() - started
    report(f"{build.recipe.name} -> {tier.url}: " + ", ".join(f"{n} {what}" for what, n in counts.items())
           + f"; {sent / 1e6:.1f} MB in {seconds:.1f} s; {answers} teacher answer(s) shared")
    return {**counts, "bytes": sent, "seconds": seconds, "answers": answers}


def _push_answers(build, tier) -> int:
    from ..teachers.cache import open_cache

    recipe, store = build.recipe, build.store
    if not sync.cacheable(recipe["teacher"]) or not store.teacher_cache.exists():
        return 0
    groups, cache, sent = sync.recipe_groups(recipe), open_cache(store.teacher_cache), 0
    try:
        for category, key in build.keys.shards.items():
            asked = (store.manifest("mash", key) or {}).get("teacher_cache_keys") or []
            sent += sync.push(tier.remote, cache, groups[category], asked, warn)
    finally:
        cache.close()
    return sent


def pull(build, url=None, report=print) -> dict:
    store = build.store
    tier = _tier(store, url)
    counts, got, started = {"pulled": 0, "already here": 0, "not on the remote": 0}, 0, time.perf_counter()
    answers = _pull_answers(build, tier)  # first: a shard missing from the remote can then be rebuilt for free
    for stage, key, label in artifacts(build):
        if store.has_local(stage, key):
            counts["already here"] += 1
        elif tier.fetch(store, stage, key, strict=True):
            counts["pulled"] += 1
            got += _bytes(store, stage, key)
            report(f"pulled {label} ({key})")
        else:
            counts["not on the remote"] += 1
    seconds = time.perf_counter() - started
    report(f"{build.recipe.name} <- {tier.url}: " + ", ".join(f"{n} {what}" for what, n in counts.items())
           + f"; {got / 1e6:.1f} MB in {seconds:.1f} s; {answers} teacher answer(s) added to the local cache")
    _into_cellar(build, report)
    return {**counts, "bytes": got, "seconds": seconds, "answers": answers}


def _pull_answers(build, tier) -> int:
    from ..teachers.cache import open_cache

    if not sync.cacheable(build.recipe["teacher"]):
        return 0
    cache = open_cache(build.store.teacher_cache)
    try:
        return sum(sync.pull(tier.remote, cache, group, warn) for group in sync.recipe_groups(build.recipe).values())
    finally:
        cache.close()


def _into_cellar(build, report):
    """Bottles that arrived go into the local cellar, as `doit bottle:...` would put them (no rebuild)."""
    from ..keys import variants_of

    store, keys = build.store, build.keys
    if not store.has_local("notes", keys.notes):
        return
    for fmt in build.recipe["bottle"]["formats"]:
        variants = variants_of(build.recipe, fmt)
        if variants and all(store.has_local("bottle", keys.bottles[v]) for v in variants) and not build.is_built("bottle", fmt):
            report(f"cellar: {build.run('bottle', fmt)}")

"""The stage table and one Recipe's build: the only place where a stage's upstream is declared.

doit (dodo.py), the CLI, verify and reproduce all read STAGES. A stage module
(distill/stages/<name>.py) has three functions: is_built(build, variant), run(build, variant)
and load(build, part); it reads what it needs through `build.load(stage, part)`, never through
another stage's internals.
"""
import importlib
from dataclasses import dataclass
from typing import Callable

from . import keys as sections
from .errors import DistillError
from .hashing import canonical_json, digest, stage_key
from .keys import Keys, bottle_variants, variants_of
from .recipe import Recipe, check_normalised
from .store import AUTO, Store


def _categories(recipe: Recipe):
    from .tasks import task_type

    return task_type(recipe["task"]["type"]).categories(recipe["task"])


def _variants(recipe: Recipe):
    return [(variant, variant) for variant in bottle_variants(recipe)]


@dataclass(frozen=True)
class Stage:
    name: str
    upstream: tuple  # stages whose keys this stage's key covers, in that order
    section: Callable  # (recipe, instance spec) -> the part of the Recipe the key covers
    instances: Callable | None = None  # recipe -> [(name, spec)]: one artifact per instance
    aged_upstream: tuple = ()  # an aged Recipe's (aging.py): the parent's keys of these stages are upstream too

    @property
    def module(self):
        return importlib.import_module(f"distill.stages.{self.name}")


STAGES = (
    Stage("mash", (), sections.shard_section, instances=_categories),  # one shard per category
    Stage("cuts", ("mash",), sections.cuts_section),
    Stage("still", ("cuts",), sections.still_section, aged_upstream=("still",)),  # aging starts from the parent's weights
    Stage("notes", ("still", "cuts"), sections.notes_section),
    Stage("bottle", ("still", "notes"), sections.bottle_section, instances=_variants),  # one per format/type
)
STAGE_NAMES = tuple(s.name for s in STAGES)
BY_NAME = {s.name: s for s in STAGES}


def recipe_keys(recipe: Recipe) -> Keys:
    """Every stage's content key: its Recipe section plus its upstream keys, walked in table order."""
    found = {}
    for stage in STAGES:
        upstream = []
        for name in stage.upstream:
            key = found[name]
            upstream += list(key.values()) if isinstance(key, dict) else [key]
        if stage.aged_upstream and recipe.data.get("age"):
            from .aging import parent_recipe

            parent_keys = recipe_keys(parent_recipe(recipe))
            upstream += [parent_keys.of(name) for name in stage.aged_upstream]
        if stage.instances:
            found[stage.name] = {name: stage_key(stage.name, stage.section(recipe, spec), upstream)
                                 for name, spec in stage.instances(recipe)}
        else:
            found[stage.name] = stage_key(stage.name, stage.section(recipe), upstream)
    return Keys(shards=found["mash"], cuts=found["cuts"], still=found["still"], notes=found["notes"],
                bottles=found["bottle"])


class Build:
    """One Recipe's stages against one store. `allow` names teacher endpoints the user allows for
    a Recipe they did not write (besides DISTILL_ALLOW_ENDPOINTS)."""

    def __init__(self, recipe: Recipe, store: Store, allow=()):
        self.recipe, self.store, self.allow = recipe, store, set(allow)
        self.keys = recipe_keys(recipe)

    @classmethod
    def from_path(cls, path, store_root=None) -> "Build":
        from .recipe import load_recipe

        return cls(load_recipe(path), Store(store_root))

    def teacher_replay_reason(self) -> str | None:
        """Why this build may only replay cached teacher answers, or None when it may ask.

        The rule: a credential goes only to an endpoint the user configured. A Recipe embedded in
        a Spirit or a cellar index, or one whose teacher.base_url a fork parent named, is someone
        else's word; its endpoint gets the key only when the user allows it by name."""
        from .teachers import allowed_endpoints, endpoint

        where = endpoint(self.recipe["teacher"])
        if where == "builtin" or where in self.allow | allowed_endpoints() or not self.recipe.foreign:
            return None
        named_by = "the Spirit or cellar index this Recipe came from" if self.recipe.foreign == "embedded" \
            else f"the fork parent {self.recipe.foreign} (from a cellar index)"
        return (f"{where} was named by {named_by}, so no credential is sent there: pass --allow-endpoint {where} "
                f"(or set DISTILL_ALLOW_ENDPOINTS={where}) to allow it, or pull a teacher cache that holds these answers")

    @classmethod
    def from_data(cls, data: dict, store_root=None, allow=(), remote=AUTO) -> "Build":
        """A Build for a normalised Recipe embedded in a Spirit or published in a cellar index.

        Used as recorded, not re-normalised: a default added to the schema since bottling must
        not change its recipe hash or its stage keys. Validated, since it may come from anyone.
        `remote=None` builds without the remote tier (reproduce must really rebuild)."""
        import copy
        from pathlib import Path

        check_normalised(data, "the embedded Recipe")
        path = Path(f"<Recipe {data['name']}>")
        recipe = Recipe(name=data["name"], path=path, data=copy.deepcopy(data), parent=data.get("parent"), _lines={},
                        foreign="embedded")
        return cls(recipe, Store(store_root, remote), allow)

    def key(self, stage: str, instance: str | None = None) -> str:
        key = self.keys.of(stage)
        return key[instance] if instance is not None else key

    def has(self, stage: str) -> bool:
        """Every artifact of a stage (each shard, for the Mash) is in the store."""
        key = self.keys.of(stage)
        return all(self.store.has(stage, k) for k in (key.values() if isinstance(key, dict) else [key]))

    def is_built(self, stage: str, fmt: str | None = None) -> bool:
        return BY_NAME[self._known(stage)].module.is_built(self, fmt)

    def run(self, stage: str, fmt: str | None = None):
        """Run one stage. Two processes asking for the same artifacts take turns: the second waits,
        then finds them built and reuses them (every stage's run skips what the store has)."""
        if stage == "bottle" and fmt not in self.recipe["bottle"]["formats"]:
            raise DistillError(f"{self.recipe.path}: bottle.formats does not list '{fmt}'; "
                               f"add it or use one of {self.recipe['bottle']['formats']}")
        key = self.keys.of(self._known(stage))
        if stage == "bottle":
            key = {variant: key[variant] for variant in variants_of(self.recipe, fmt)}
        name = digest(canonical_json(key).encode())
        with self.store.lock(f"stage-{stage}-{name}", waiting=f"another process is building {stage}:{self.recipe.name}"
                                                               f"{'-' + fmt if fmt else ''}; waiting to reuse it"):
            return BY_NAME[stage].module.run(self, fmt)

    def load(self, stage: str, part: str | None = None):
        """What a finished stage produced (a cut, the trained model, the notes...), from the store."""
        return BY_NAME[self._known(stage)].module.load(self, part)

    def _known(self, stage: str) -> str:
        if stage not in BY_NAME:
            raise DistillError(f"unknown stage '{stage}'; valid: {', '.join(STAGE_NAMES)}")
        return stage

    def build_through(self, last: str, fmt: str | None = None, report=print) -> dict:
        """Run every stage up to `last`, skipping those the store already has; says which is which."""
        done = {}
        for stage in STAGE_NAMES[: STAGE_NAMES.index(self._known(last)) + 1]:
            formats = [fmt] if stage == "bottle" else [None]
            if stage == "bottle" and fmt is None:
                formats = self.recipe["bottle"]["formats"]
            for f in formats:
                label = f"{stage}:{self.recipe.name}" + (f"-{f}" if f else "")
                if self.is_built(stage, f):
                    report(f"-- {label} (cached)")
                    done[label] = "cached"
                else:
                    report(f".  {label}")
                    self.run(stage, f)
                    done[label] = "built"
                    if not self.is_built(stage, f):  # a data-parallel Still whose rank 0 ran on another machine
                        report(f"-- {label} was published by node 0 of this run; the later stages build there")
                        return done
        return done

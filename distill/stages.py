"""The stages of one Recipe, in order, behind one call each; doit and the CLI both use these."""
from .errors import DistillError
from .keys import recipe_keys
from .recipe import load_recipe
from .store import Store

STAGES = ("mash", "cuts", "still", "notes", "bottle")


class Build:
    """One Recipe's stages against one store."""

    def __init__(self, recipe_path, store_root=None, recipe=None):
        self.recipe = recipe or load_recipe(recipe_path)
        self.keys = recipe_keys(self.recipe)
        self.store = Store(store_root)

    @classmethod
    def from_data(cls, data: dict, store_root=None) -> "Build":
        """A Build for a normalised Recipe embedded in a Spirit or published in a cellar index.

        Used as recorded, not re-normalised: a default added to the schema since bottling must
        not change its recipe hash or its stage keys. Validated, since it may come from anyone."""
        import copy
        from pathlib import Path

        from .recipe import Recipe, validate

        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise DistillError("the embedded Recipe is not a normalised Recipe (a mapping with a name)")
        path = Path(f"<Recipe {data['name']}>")
        validate({k: v for k, v in data.items() if k != "parent"}, path, {})
        recipe = Recipe(name=data["name"], path=path, data=copy.deepcopy(data), parent=data.get("parent"))
        return cls(None, store_root, recipe=recipe)

    def is_built(self, stage: str, fmt: str | None = None) -> bool:
        from .bottle import in_cellar  # imports nothing heavy at module level

        s, k = self.store, self.keys
        if stage == "mash":
            return all(s.has("mash", key) for key in k.shards.values())
        if stage == "bottle":
            return in_cellar(self.recipe, k, s, fmt)
        return s.has(stage, getattr(k, stage))

    def run(self, stage: str, fmt: str | None = None):
        if stage == "mash":
            from .mash import build_mash

            return build_mash(self.recipe, self.keys, self.store)
        if stage == "cuts":
            from .cuts import build_cuts

            return build_cuts(self.recipe, self.keys, self.store)
        if stage == "still":
            from .still import build_still

            return build_still(self.recipe, self.keys, self.store)
        if stage == "notes":
            from .notes import build_notes

            return build_notes(self.recipe, self.keys, self.store)
        if stage == "bottle":
            from .bottle import build_bottle

            if fmt not in self.recipe["bottle"]["formats"]:
                raise DistillError(f"{self.recipe.path}: bottle.formats does not list '{fmt}'; "
                                   f"add it or use one of {self.recipe['bottle']['formats']}")
            return build_bottle(self.recipe, self.keys, self.store, fmt)
        raise DistillError(f"unknown stage '{stage}'; valid: {', '.join(STAGES)}")

    def build_through(self, last: str, fmt: str | None = None, report=print) -> dict:
        """Run every stage up to `last`, skipping those the store already has; says which is which."""
        done = {}
        for stage in STAGES[: STAGES.index(last) + 1]:
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
        return done

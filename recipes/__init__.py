"""The shipped Recipes, importable as `distill.recipes` so a non-editable install carries them
(pyproject.toml maps this folder into the package). Your own Recipes can live anywhere."""

"""The Recipe schema, importable as `distill.schemas` so a non-editable install ships it
(pyproject.toml maps this folder into the package)."""

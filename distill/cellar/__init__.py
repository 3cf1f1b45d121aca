"""The Cellar: a folder of Spirits with an index (index.py) and a static site (site.py)."""

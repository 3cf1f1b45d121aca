"""The CLI's larger commands: inspect (what a bottle holds), verify (re-check its claims),
reproduce (rebuild it from its Recipe and compare)."""

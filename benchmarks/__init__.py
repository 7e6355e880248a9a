"""Performance harness: each benchmark prints its figures and the ratio to a baseline."""

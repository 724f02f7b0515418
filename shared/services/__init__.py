"""Use cases: each loads what it needs, asks the pure domain, and commits one transaction."""

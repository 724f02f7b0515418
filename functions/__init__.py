"""Thin Lambda entry points: one Chalice Blueprint per module, registered by app.py."""

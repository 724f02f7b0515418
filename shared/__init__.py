"""Loyalty platform core: domain logic, data access, settings and observability (no Chalice here)."""

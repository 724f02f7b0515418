"""Inbound webhook authentication and payload models, one module per sender scheme."""

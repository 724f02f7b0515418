"""Stored kinds and sources come back typed; a value the code never writes is a corrupt record, refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.ledger import ENTRY_KINDS, LOT_SOURCES, entry_kind, lot_source


def test_every_known_kind_and_source_reads_back_as_itself() -> None:
    assert [entry_kind(k) for k in sorted(ENTRY_KINDS)] == sorted(ENTRY_KINDS)
    assert [lot_source(s) for s in sorted(LOT_SOURCES)] == sorted(LOT_SOURCES)


@pytest.mark.parametrize(("read", "value"), [(entry_kind, "bonus"), (lot_source, "adjustment"), (entry_kind, "")])
def test_an_unknown_value_is_refused(read: Callable[[str], str], value: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        read(value)

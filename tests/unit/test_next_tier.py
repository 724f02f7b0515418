"""The tier still to reach and the share link, as the customer's cabinet shows them (issue 16 item 2)."""

from __future__ import annotations

import pytest

from shared.program import ProgramSettings
from shared.referral import share_link
from shared.rules import Standing, next_tier

TIERS = [
    {"name": "Silver", "min_spend_minor": 100_000, "earn_rate_bp": 700},
    {"name": "Gold", "min_spend_minor": 500_000, "earn_rate_bp": 1000},
]


def program(basis: str = "lifetime") -> ProgramSettings:
    return ProgramSettings(currency="RUB", tiers=TIERS, tier_basis=basis)


@pytest.mark.parametrize(
    ("spend", "expected"),
    [(0, ("Silver", 100_000)), (99_999, ("Silver", 1)), (100_000, ("Gold", 400_000)), (499_999, ("Gold", 1))],
)
def test_the_next_tier_is_the_one_above_and_the_spend_still_needed(spend: int, expected: tuple[str, int]) -> None:
    found = next_tier(program(), Standing(spend_minor=spend))
    assert found is not None
    assert (found[0].name, found[1]) == expected


def test_at_the_top_or_without_tiers_there_is_no_next_tier() -> None:
    assert next_tier(program(), Standing(spend_minor=500_000)) is None
    assert next_tier(ProgramSettings(currency="RUB"), Standing(spend_minor=10**9)) is None


def test_a_kept_tier_on_a_rolling_basis_counts_as_reached() -> None:
    # Given a member kept in Gold whose rolling spend fell below Silver, then there is nothing above to reach
    assert next_tier(program("rolling_12m"), Standing(spend_minor=50_000, kept_tier="Gold")) is None
    # And one kept in Silver with a low rolling spend needs Gold's threshold less that spend
    found = next_tier(program("rolling_12m"), Standing(spend_minor=50_000, kept_tier="Silver"))
    assert found is not None and (found[0].name, found[1]) == ("Gold", 450_000)


def test_the_share_link_is_the_shops_template_or_else_the_cabinet_page() -> None:
    page = "https://api.example/v1/tenants/shop/cabinet"
    assert share_link("https://shop.example/?ref={code}", page, "ABC") == "https://shop.example/?ref=ABC"
    assert share_link("", page, "ABC") == page + "?ref=ABC"
    assert share_link("", page, None) is None

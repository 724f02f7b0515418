"""The digital card (issue 16 item 4): its token, digest and QR code as pure functions, and the card service on the
in-memory store (first call creates, rotation ends the old token, concurrent calls end with one live card)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from shared.card import QR_TITLES, TOKEN, Card, card_digest, issue, new_token, normalized, qr_svg
from shared.dal.memory_card_store import MemoryCardStore
from shared.errors import AppError
from shared.log_masking import mask_text
from shared.services.cards import CardService

NOW = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)
T = "shop"


def dark_modules(svg: str, border: int = 4) -> set[tuple[int, int]]:
    """The dark modules an SVG of segno draws: its one path of horizontal runs, ``M``/``m`` moves and ``h`` lines."""
    [path] = re.findall(r'class="qrline"[^>]* d="([^"]+)"', svg)  # the other path is the white background
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark |= {(int(x) + i - border, int(y) - border) for i in range(int(float(a)))}
            x += float(a)
    return dark


def symbol_of(data: str) -> set[tuple[int, int]]:
    matrix = segno.make(data, error="m", micro=False, boost_error=False).matrix
    return {(col, row) for row, line in enumerate(matrix) for col, bit in enumerate(line) if bit}


# -- the token -------------------------------------------------------------------------------------------------------


def test_a_token_is_160_random_bits_in_base32_after_a_recognisable_prefix() -> None:
    # When many tokens are made / Then each is LC- and 32 base32 characters (URL-safe), and none repeats
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(TOKEN.fullmatch(token) and re.fullmatch(r"[A-Za-z0-9_-]+", token) for token in tokens)


def test_a_scanned_or_typed_token_is_read_in_any_case_and_anything_else_is_no_token() -> None:
    token = new_token()
    # Then the issued form, a lower-case typing and blanks around it are the token
    assert normalized(token) == normalized(token.lower()) == normalized(f"  {token}\n") == token
    # And a product's barcode, a member id, a token cut short or with a character base32 lacks are not
    for other in ("4006381333931", "c1", token[:-1], token + "A", token[:-1] + "1", "LC-" + "A" * 31 + "=", ""):
        assert normalized(other) is None, other


@given(st.text(max_size=60))
def test_normalizing_never_fails_and_returns_only_issued_forms(value: str) -> None:
    found = normalized(value)
    assert found is None or TOKEN.fullmatch(found)


def test_the_look_up_key_is_the_tokens_sha256_and_never_the_token() -> None:
    card = issue("c1", NOW)
    # Then the card's digest is SHA-256 hex of the token, and the token is nowhere in it
    assert card.digest == card_digest(card.token) and re.fullmatch(r"[0-9a-f]{64}", card.digest)
    assert card.token not in card.digest and (card.member_id, card.issued_at) == ("c1", NOW)


def test_a_token_in_a_log_line_is_masked() -> None:
    token = new_token()
    # When a careless log line carries a token, as issued or typed in lower case / Then the logs keep only the prefix
    assert mask_text(f"GET /members/by-card/{token} and {token.lower()}") == "GET /members/by-card/LC-*** and LC-***"


# -- the QR code -----------------------------------------------------------------------------------------------------


def test_the_qr_code_is_an_inline_svg_with_an_accessible_name_and_holds_only_the_token() -> None:
    token = new_token()
    # When the card's QR code is drawn for an English shop
    svg = qr_svg(token, "en")
    # Then it is an <svg> element to put in a page (no XML declaration), scalable, an image with a <title>
    assert svg.startswith('<svg role="img" ') and svg.endswith("</svg>") and "<?xml" not in svg
    assert 'viewBox="0 0 33 33"' in svg and "width=" not in svg  # a version 2 symbol and its 4-module quiet zone
    assert f"<title>{QR_TITLES['en']}</title>" in svg
    assert '<path fill="#fff" d="M0 0h33v33h-33z"/>' in svg  # its own light background: it scans on a dark page
    # And its modules are exactly the QR code of the token (nothing else is encoded in it)
    assert dark_modules(svg) == symbol_of(token) != symbol_of(token.lower())


def test_the_qr_codes_title_speaks_the_shops_language() -> None:
    assert f"<title>{QR_TITLES['ru']}</title>" in qr_svg(new_token(), "ru")
    assert f"<title>{QR_TITLES['en']}</title>" in qr_svg(new_token(), "de")  # a language without a title: English


# -- the service on the in-memory store ------------------------------------------------------------------------------


@pytest.fixture
def cards() -> CardService:
    return CardService(MemoryCardStore())


def test_the_first_call_creates_the_card_and_the_next_ones_show_the_same(cards: CardService) -> None:
    # When the cabinet asks for c1's card twice
    first = cards.card(T, "c1", NOW)
    again = cards.card(T, "c1", NOW + timedelta(days=3))
    # Then it is one card, and its token resolves to c1
    assert again == first and cards.member_of(T, first.token) == "c1"


def test_a_rotation_replaces_the_token_and_the_old_one_resolves_nothing(cards: CardService) -> None:
    old = cards.card(T, "c1", NOW)
    # When c1 rotates the card (a lost phone)
    new = cards.rotate(T, "c1", NOW + timedelta(minutes=5))
    # Then the new token resolves, the old one is not found, and the cabinet shows the new card
    assert new.token != old.token and new.issued_at == NOW + timedelta(minutes=5)
    assert cards.member_of(T, new.token) == "c1"
    with pytest.raises(AppError) as gone:
        cards.member_of(T, old.token)
    assert (gone.value.status, gone.value.code) == (404, "card_not_found")
    assert cards.card(T, "c1", NOW) == new


def test_rotating_before_any_card_issues_the_first(cards: CardService) -> None:
    # When c1 rotates a card never shown / Then that is c1's first card
    rotated = cards.rotate(T, "c1", NOW)
    assert cards.card(T, "c1", NOW) == rotated and cards.member_of(T, rotated.token) == "c1"


def test_a_token_resolves_only_in_its_own_shop_and_malformed_ones_are_422(cards: CardService) -> None:
    token = cards.card(T, "c1", NOW).token
    with pytest.raises(AppError) as other_shop:
        cards.member_of("other", token)
    with pytest.raises(AppError) as malformed:
        cards.member_of(T, "c1")
    assert (other_shop.value.status, other_shop.value.code) == (404, "card_not_found")
    assert (malformed.value.status, malformed.value.code) == (422, "invalid_card_token")
    assert cards.member_of(T, token.lower()) == "c1"  # typed in lower case at the till


def in_parallel(call: Callable[[], Card], times: int = 8) -> list[Card]:
    results: list[Card] = []
    start = threading.Barrier(times)

    def run() -> None:
        start.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_first_calls_end_with_one_card(cards: CardService) -> None:
    # When eight first calls run at once / Then all answer the same card, the one stored
    results = in_parallel(lambda: cards.card(T, "c1", NOW))
    assert len(set(results)) == 1 and results[0] == cards.card(T, "c1", NOW)


def test_concurrent_rotations_leave_exactly_one_live_token(cards: CardService) -> None:
    old = cards.card(T, "c1", NOW)
    store = cards.store
    assert isinstance(store, MemoryCardStore)
    # When eight rotations run at once
    results = in_parallel(lambda: cards.rotate(T, "c1", NOW + timedelta(minutes=1)))
    # Then of every token ever answered, only the stored card's resolves
    current = cards.card(T, "c1", NOW)
    answered = {card.token for card in results} | {old.token}
    live = {token for token in answered if store.member_of(T, card_digest(token)) is not None}
    assert live == {current.token} and old.token not in live


class Contended(MemoryCardStore):
    """A store whose every write loses to another request and that never shows the winner: a storm of writes."""

    def create(self, tenant: str, card: Card) -> bool:
        return False


def test_a_card_that_keeps_changing_is_a_503_to_retry_not_a_second_card() -> None:
    cards = CardService(Contended())
    for call in (cards.card, cards.rotate):
        with pytest.raises(AppError) as busy:
            call(T, "c1", NOW)
        assert (busy.value.status, busy.value.code) == (503, "card_busy")

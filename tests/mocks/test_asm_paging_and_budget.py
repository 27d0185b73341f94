"""Contract of ASM cursor paging, request budgets and token lifetime (mock-behaviours §8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mocks.asm.budget import BudgetRule, RequestBudget
from mocks.asm.errors import AsmError
from mocks.asm.paging import cut_page, page_document, read_page_request
from mocks.asm.tokens import TokenStore

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
ITEMS = [(f"SERIAL{n:04d}", n) for n in range(25)]


def test_cursor_paging_visits_every_item_once_and_ends_without_a_cursor() -> None:
    seen: list[int] = []
    query = {"limit": "10"}
    for _ in range(5):
        page = cut_page(ITEMS, read_page_request(query))
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        query = {"limit": "10", "cursor": page.next_cursor}
    assert seen == list(range(25))
    assert page.total == 25


def test_a_cursor_survives_an_item_added_before_it() -> None:
    first = cut_page(ITEMS, read_page_request({"limit": "10"}))
    assert first.next_cursor is not None
    grown = sorted([*ITEMS, ("SERIAL0000A", 99)])
    second = cut_page(grown, read_page_request({"limit": "10", "cursor": first.next_cursor}))
    assert list(second.items) == list(range(10, 20))


@pytest.mark.parametrize("limit", ["0", "1001", "-5", "ten"])
def test_limit_outside_1_to_1000_is_a_parameter_error(limit: str) -> None:
    with pytest.raises(AsmError) as refused:
        read_page_request({"limit": limit})
    assert refused.value.status == 400
    assert refused.value.source == {"parameter": "limit"}


def test_default_limit_and_largest_limit() -> None:
    assert read_page_request({}).limit == 100
    assert read_page_request({"limit": "1000"}).limit == 1000


def test_a_forged_cursor_is_a_parameter_error() -> None:
    with pytest.raises(AsmError) as refused:
        read_page_request({"cursor": "bm90LW91cnM"})
    assert refused.value.source == {"parameter": "cursor"}


def test_page_document_links_point_at_the_next_page() -> None:
    page = cut_page(ITEMS, read_page_request({"limit": "20"}))
    document = page_document(
        [], page, self_url="http://asm/v1/orgDevices", base_query={"limit": "20"}
    )
    meta = document["meta"]
    assert meta == {"paging": {"limit": 20, "total": 25, "nextCursor": page.next_cursor}}
    links = document["links"]
    assert isinstance(links, dict)
    assert links["next"] == f"http://asm/v1/orgDevices?limit=20&cursor={page.next_cursor}"
    last = cut_page(ITEMS, read_page_request({"limit": "20", "cursor": str(page.next_cursor)}))
    last_document = page_document([], last, self_url="http://asm/x", base_query={})
    last_links = last_document["links"]
    assert isinstance(last_links, dict)
    assert "next" not in last_links
    assert last_document["meta"] == {"paging": {"limit": 20, "total": 25}}


def test_budget_refuses_past_its_count_and_names_the_exact_wait() -> None:
    budget = RequestBudget(rule=BudgetRule(requests=3, window=timedelta(minutes=1)))
    for second in range(3):
        assert budget.spend("client", NOW + timedelta(seconds=second * 10)) is None
    assert budget.spend("client", NOW + timedelta(seconds=30)) == 30
    assert budget.spend("other-client", NOW + timedelta(seconds=30)) is None
    assert budget.spend("client", NOW + timedelta(seconds=60)) is None


def test_an_hourly_budget_asks_for_more_than_a_minute() -> None:
    budget = RequestBudget(rule=BudgetRule(requests=1, window=timedelta(hours=1)))
    assert budget.spend("client", NOW) is None
    wait = budget.spend("client", NOW + timedelta(minutes=5))
    assert wait == 55 * 60
    assert wait > 60


def test_a_zero_budget_never_refuses() -> None:
    budget = RequestBudget(rule=BudgetRule(requests=0, window=timedelta(minutes=1)))
    assert all(budget.spend("client", NOW) is None for _ in range(100))


def test_tokens_live_one_hour_and_can_all_be_expired_at_once() -> None:
    store = TokenStore()
    token = store.issue("client", NOW)
    assert store.client_for(token.value, NOW + timedelta(seconds=3599)) == "client"
    assert store.client_for(token.value, NOW + timedelta(seconds=3600)) is None
    fresh = store.issue("client", NOW)
    assert store.expire_all() == 1
    assert store.client_for(fresh.value, NOW) is None
    assert store.client_for("never-issued", NOW) is None

"""A store with sources in every health state, for the health, status and metrics tests.

fill_health(store, now)     seven sources, written the way passes write them (sync_sources,
                            save_update, save_states), as they stand at `now`
EXPECTED                    each source's state at `now`
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from aggregator.models import SourceConfig, SourceState
from aggregator.store import Store
from tests.feeddata import article

EXPECTED = {
    "failing-feed": "failing",
    "empty-page": "empty",
    "overdue-feed": "overdue",
    "new-feed": "new",
    "ok-feed": "ok",
    "gone-feed": "disabled",
    "off-feed": "disabled",
}
"""Each source's state at `now`, in the order the report lists them."""


def url(name: str) -> str:
    return f"https://{name}.example.com/feed"


def fill_health(store: Store, now: datetime) -> None:
    """Write the seven sources of EXPECTED into `store` as they stand at `now`."""
    configs = [
        SourceConfig(name=name, url=url(name), enabled=name != "off-feed") for name in EXPECTED
    ]
    store.sync_sources(configs, now - timedelta(days=30))
    ids = {s.name: s.id for s in store.sources()}
    ok = SourceState(
        url="",
        etag=None,
        last_modified=None,
        last_fetched_at=now - timedelta(minutes=10),
        next_fetch_at=now + timedelta(minutes=20),
        last_status="ok",
        last_error=None,
        error_streak=0,
    )
    seen = {
        1: timedelta(hours=1),
        2: timedelta(hours=5),
        3: timedelta(days=3),
        4: timedelta(days=30),
    }
    store.save_update(
        ids["ok-feed"],
        replace(ok, url=url("ok-feed")),
        [article(n, source="ok-feed", first_seen=now - ago) for n, ago in seen.items()],
    )
    store.save_states(
        [
            (
                ids["failing-feed"],
                replace(
                    ok,
                    url=url("failing-feed"),
                    last_status="error",
                    last_error="HTTP 500 Internal Server Error",
                    error_streak=4,
                ),
            ),
            (ids["empty-page"], replace(ok, url=url("empty-page"), empty_streak=5)),
            (
                ids["overdue-feed"],
                replace(
                    ok,
                    url=url("overdue-feed"),
                    last_fetched_at=now - timedelta(hours=3),
                    next_fetch_at=now - timedelta(hours=2),
                    last_status="not_modified",
                ),
            ),
            (
                ids["gone-feed"],
                replace(
                    ok,
                    url=url("gone-feed"),
                    last_status="gone",
                    last_error="410 Gone",
                    error_streak=1,
                    enabled=False,
                    disabled_reason="gone: 410 Gone",
                ),
            ),
        ]
    )

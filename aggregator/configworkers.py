"""The `workers:` section of the main config: how daemon processes share the due sources.

Validated like every section (see configschema); `config` checks that the lease outlasts one
fetch (`lease_problem`): a worker renews the leases of its sources in flight on its ticks (see
dispatch), and the lease alone still covers a fetch when a renewal is late or fails.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from aggregator.configpage import _fail, _no_bool
from aggregator.configschema import Int, _Section, parse_interval
from aggregator.models import FetchSettings, WorkerSettings

_WORKERS = WorkerSettings()


def _seconds(value: Any) -> Any:
    """A number of seconds, or an interval such as "5m"."""
    if isinstance(value, str):
        try:
            return parse_interval(value)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    return _no_bool(value)


class WorkersSection(_Section):
    """`workers:` in the main config file (see docs/scaling.md)."""

    lease: Annotated[float, BeforeValidator(_seconds)] = Field(default=_WORKERS.lease, gt=0)
    claim_batch: Int = Field(default=_WORKERS.claim_batch, ge=1)


def lease_problem(workers: WorkerSettings, fetch: FetchSettings) -> str | None:
    """Why the lease is too short for one fetch (connect + read timeouts), or None."""
    fetch_seconds = fetch.connect_timeout + fetch.read_timeout
    if workers.lease > fetch_seconds:
        return None
    return (
        f"must be more than fetch.connect_timeout + fetch.read_timeout ({fetch_seconds:g} s), "
        "so that a source's lease outlasts its fetch even when the worker cannot renew it"
    )

"""What one fetch of a source comes to: its next state (pure) and its log line.

decide_state   source + config + FetchResult + Processed + now → SourceState, UpdateResult
log_result     one key=value line per source per fetch (JSON fields with --log-format json)
"""

from __future__ import annotations

import logging
from datetime import datetime

from aggregator.models import (
    FetchResult,
    Source,
    SourceConfig,
    SourceState,
    UpdateResult,
    UpdateStatus,
)
from aggregator.process import Processed
from aggregator.schedule import Cadence, Outcome, next_fetch_at

log = logging.getLogger("aggregator.update")


def decide_state(
    source: Source,
    config: SourceConfig | None,
    fetched: FetchResult,
    processed: Processed | None,
    *,
    now: datetime,
    jitter: float,
) -> tuple[SourceState, UpdateResult]:
    """The source's next state and the pass's result for it, from what fetch and parse said."""
    cadence = Cadence.of(config)
    moved = fetched.permanent_url if fetched.status in ("ok", "not_modified") else None
    url = moved or source.url
    error = fetched.error
    if fetched.status == "ok" and processed is not None and processed.error:
        error = processed.error
    if fetched.status == "gone":
        state = SourceState(
            url=url,
            etag=source.etag,
            last_modified=source.last_modified,
            last_fetched_at=now,
            next_fetch_at=now,
            last_status="gone",
            last_error=error or "410 Gone",
            error_streak=source.error_streak + 1,
            enabled=False,
            disabled_reason=f"gone: {error or '410 Gone'}",
            title=source.title,
            link=source.link,
        )
        result = UpdateResult(source.name, "gone", reason=state.last_error)
        return state, result
    if error is not None:
        streak = source.error_streak + 1
        outcome = Outcome(
            ok=False, error_streak=streak, retry_after=fetched.retry_after, hints=source.hints
        )
        state = SourceState(
            url=url,
            etag=source.etag,
            last_modified=source.last_modified,
            last_fetched_at=now,
            next_fetch_at=next_fetch_at(outcome, cadence, now=now, jitter=jitter),
            last_status="error",
            last_error=error,
            error_streak=streak,
            empty_streak=source.empty_streak,
            title=source.title,
            link=source.link,
        )
        result = UpdateResult(
            source.name, "error", reason=error, moved_to=moved, bytes=len(fetched.body)
        )
        return state, result
    ok = fetched.status == "ok"
    entries = processed.entries if ok and processed is not None else None
    if entries is None:  # 304: nothing new was said about the entries
        empty_streak = source.empty_streak
    else:
        empty_streak = source.empty_streak + 1 if entries == 0 else 0
    problem = processed.problem if processed is not None else None
    # A 200 brings the document's own hints; a 304 re-sent nothing, so the stored ones hold.
    hints = processed.hints if ok and processed is not None else None
    outcome = Outcome(ok=True, max_age=fetched.max_age, hints=hints or source.hints)
    state = SourceState(
        url=url,
        etag=fetched.etag if ok else (fetched.etag or source.etag),
        last_modified=fetched.last_modified
        if ok
        else (fetched.last_modified or source.last_modified),
        last_fetched_at=now,
        next_fetch_at=next_fetch_at(outcome, cadence, now=now, jitter=jitter),
        last_status="ok" if ok else "not_modified",
        last_error=f"entries salvaged from a malformed document: {problem}" if problem else None,
        error_streak=0,
        empty_streak=empty_streak,
        title=(processed.title if processed is not None and processed.title else source.title),
        link=(processed.link if processed is not None and processed.link else source.link),
        hints=hints,
    )
    status: UpdateStatus = "ok" if ok else "not_modified"
    result = UpdateResult(
        source.name,
        status,
        reason=state.last_error,
        moved_to=moved,
        bytes=len(fetched.body),
        entries=entries,
    )
    return state, result


def log_result(result: UpdateResult) -> None:
    """One key=value line per source per pass."""
    parts = [f"source={result.source}", f"status={result.status}"]
    if result.status in ("ok", "not_modified"):
        parts += [f"new={result.new}", f"updated={result.updated}"]
    parts.append(f"ms={result.ms}")
    if result.moved_to:
        parts.append(f"moved_to={result.moved_to}")
    if result.reason:
        parts.append(f"reason={quote(result.reason)}")
    level = logging.WARNING if result.status in ("error", "gone") else logging.INFO
    log.log(level, " ".join(parts), extra={"fields": result.__dict__})


def quote(text: str) -> str:
    """A value fit for a key=value log line: quoted when it has spaces or quotes."""
    text = " ".join(text.split())
    if not text or any(c in text for c in ' "='):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text

"""Reload the configuration into a running daemon (SIGHUP, `aggregator reload`).

reload_config   re-read and validate the YAML; on any error log each issue, keep the old
apply_config    the new config into the running parts, in this order:
  diff          added, removed and changed sources; changed topics           (pure)
  sync          the stored sources follow the new list                      (store)
  updater       new source settings now, new topics from the next pass;
                new sources' first fetches spread out                       (Updater)
  web           the site's feeds and titles; its cache dropped              (app.state)
  reclassify    when topics (or source tags) changed, once nothing is classified with
                the old ones: every stored article, in a thread; the cache dropped again
  report        one summary line
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from starlette.applications import Starlette

from aggregator.config import load_config
from aggregator.core import Updater, utcnow
from aggregator.errors import ConfigError, StorageError
from aggregator.models import Config, SourceConfig
from aggregator.store import Store
from aggregator.topics import reclassify

log = logging.getLogger("aggregator.reload")

RESTART_ONLY = ("database.url", "server.host", "server.port")
"""Settings a running daemon cannot change; a reload keeps the old ones and says so."""


@dataclass(frozen=True)
class ConfigChanges:
    """What differs between the running config and a reloaded one; from `diff` to apply."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    topics_changed: bool = False
    tags_changed: bool = False  # a kept source's tags, which topics may match on
    restart_only: tuple[str, ...] = ()

    @property
    def reclassify(self) -> bool:
        """Whether stored articles need their topics worked out again."""
        return self.topics_changed or self.tags_changed


def diff(old: Config, new: Config) -> ConfigChanges:
    """The changes from `old` to `new` (a source's file and line do not count)."""
    before = _by_name(old.sources)
    after = _by_name(new.sources)
    kept = [name for name in after if name in before]
    restart = [
        name
        for name, a, b in (
            ("database.url", old.database_url, new.database_url),
            ("server.host", old.server.host, new.server.host),
            ("server.port", old.server.port, new.server.port),
        )
        if a != b
    ]
    return ConfigChanges(
        added=tuple(name for name in after if name not in before),
        removed=tuple(name for name in before if name not in after),
        changed=tuple(name for name in kept if before[name] != after[name]),
        topics_changed=old.topics != new.topics,
        tags_changed=any(before[name].tags != after[name].tags for name in kept),
        restart_only=tuple(restart),
    )


def _by_name(sources: Sequence[SourceConfig]) -> dict[str, SourceConfig]:
    return {s.name: replace(s, file=None, line=None) for s in sources}


def reload_config(path: str, current: Config) -> Config | None:
    """The config at `path`, validated; None (each issue logged) when it is invalid.

    Settings only a restart can change (RESTART_ONLY) keep their running values, with a
    warning naming them.
    """
    try:
        new = load_config(path)
    except ConfigError as exc:
        for issue in exc.issues:
            log.error("%s", issue)
        log.error(
            "config reload rejected: %d error(s) in %s; the running config stays",
            len(exc.issues),
            path,
        )
        return None
    ignored = diff(current, new).restart_only
    if ignored:
        log.warning(
            "config reload: %s changed; takes effect at the next restart", ", ".join(ignored)
        )
        server = replace(new.server, host=current.server.host, port=current.server.port)
        new = replace(new, database_url=current.database_url, server=server)
    return new


async def apply_config(
    new: Config, old: Config, updater: Updater, app: Starlette, store: Store
) -> None:
    """Put `new` in place of `old` in the running updater and web app; see the module docstring.

    A database error while syncing the sources changes nothing (logged as one line; the
    updater keeps `old`, so `updater.config` is always the config in force).
    """
    changes = diff(old, new)
    now = utcnow()
    try:
        await asyncio.to_thread(store.sync_sources, new.sources, now)
    except StorageError as exc:
        log.error("config reload failed: %s; the running config stays", exc)
        return
    updater.reconfigure(new)
    try:
        await asyncio.to_thread(updater.spread_first_fetches, now)
    except StorageError as exc:  # the new sources are then simply due at once
        log.warning("config reload: could not spread the first fetches: %s", exc)
    app.state.reconfigure(new)
    reclassified = 0
    if changes.reclassify:
        await updater.wait_retired()  # sources in flight store matches made with old topics
        try:
            reclassified, _ = await asyncio.to_thread(reclassify, new, store)
        except StorageError as exc:
            log.error("reclassify after reload failed: %s; run `aggregator reclassify`", exc)
        app.state.invalidate()
    log.info(
        "config reloaded sources_added=%d sources_removed=%d sources_changed=%d "
        "topics_changed=%s reclassified=%d",
        len(changes.added),
        len(changes.removed),
        len(changes.changed),
        "yes" if changes.topics_changed else "no",
        reclassified,
        extra={
            "fields": {
                "added": list(changes.added),
                "removed": list(changes.removed),
                "changed": list(changes.changed),
                "topics_changed": changes.topics_changed,
                "reclassified": reclassified,
            }
        },
    )

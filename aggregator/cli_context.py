"""What every CLI command shares: the lazily loaded config and store, and the consoles."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console

from aggregator.config import find_config_path, load_config
from aggregator.errors import AggregatorError, ConfigError
from aggregator.models import Config
from aggregator.store import Store

out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Context:
    """What every command may need, loaded on first use."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(find_config_path(self.config_path))
        return self._config

    @contextmanager
    def store(self) -> Iterator[Store]:
        config = self.config()
        store = Store(
            config.database_url,
            busy_timeout=config.database_busy_timeout,
            story_threshold=config.stories.threshold,
        )
        try:
            yield store
        finally:
            store.close()


class Group(click.Group):
    """Turns our expected errors into one-line messages and exit statuses, never tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for issue in exc.issues:
                err.print(str(issue), markup=False)
            err.print(f"{len(exc.issues)} config error(s); nothing was started.", markup=False)
            sys.exit(2)
        except AggregatorError as exc:
            err.print(f"error: {exc}", markup=False)
            sys.exit(1)


pass_context = click.make_pass_decorator(Context)

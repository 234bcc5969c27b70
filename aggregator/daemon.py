"""The daemon: one process that ticks "update what is due" and serves the feeds.

start   validate the config, open the store, sync the sources
tick    every `tick` seconds (APScheduler): Updater.update(), the same path as
        `aggregator fetch`; the schedule itself lives in the database (next_fetch_at)
serve   the web app (uvicorn) in the same event loop; its cache is dropped after a
        tick that changed anything
stop    SIGTERM/SIGINT: stop ticking, let the pass in flight finish, exit 0
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from aggregator.core import Updater, utcnow
from aggregator.models import Config
from aggregator.store import Store
from aggregator.web import create_app

log = logging.getLogger("aggregator.daemon")

TICK_SECONDS = 15.0
"""How often the daemon looks for due sources."""

STOP_DEADLINE = 20.0
"""Seconds a pass in flight may take to finish after a stop signal."""


async def run_daemon(config: Config, store: Store, *, tick: float = TICK_SECONDS) -> None:
    """Run until SIGTERM/SIGINT: tick the updater and serve the web app."""
    app = create_app(config, store)
    updater = Updater(config, store)
    updater.sync()
    passes: set[asyncio.Task[None]] = set()

    async def one_pass() -> None:
        results = await updater.update()
        if any(r.new or r.updated for r in results):
            app.state.invalidate()

    async def on_tick() -> None:
        if passes:  # the previous pass is still running; the next tick will catch up
            return
        task = asyncio.create_task(one_pass())
        passes.add(task)
        task.add_done_callback(passes.discard)
        try:
            await task
        except Exception:
            log.exception("update pass failed; retrying at the next tick")

    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        on_tick, "interval", seconds=tick, next_run_time=utcnow(), max_instances=1, coalesce=True
    )
    server = _Server(
        uvicorn.Config(
            app,
            host=config.server.host,
            port=config.server.port,
            log_level="warning",
            access_log=False,
        )
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.stop, signum)
    scheduler.start()
    log.info(
        "daemon started sources=%d topics=%d listen=%s:%d",
        len(config.sources),
        len(config.topics),
        config.server.host,
        config.server.port,
    )
    try:
        await server.serve()
    finally:
        scheduler.shutdown(wait=False)
        if passes:
            log.info("stopping: waiting up to %.0f s for the pass in flight", STOP_DEADLINE)
            await asyncio.wait(passes, timeout=STOP_DEADLINE)
        updater.close()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        log.info("daemon stopped")


class _Server(uvicorn.Server):
    """uvicorn's server, with the signals left to the daemon (which stops, then exits 0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop(self, signum: int) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        self.should_exit = True

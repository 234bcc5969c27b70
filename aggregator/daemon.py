"""The daemon: one process that starts sources as they fall due and serves the feeds.

role    `all` does everything below; `worker` only ticks (no HTTP server); `web` only serves
        (no sync, no ticks). Any number of workers and web processes may share one database:
        workers claim due sources with leases (see dispatch, store_leases), and each web
        process re-reads the database's data version at most every 2 s (see webcache)

start   write the pid file (a file left by a crashed daemon: give back that process's
        leases); sync the sources and spread the first fetches of new ones; open one HTTP
        fetcher for the daemon's whole life
tick    every `tick` seconds (APScheduler): Dispatcher.tick starts every due source not in
        flight (see dispatch); the schedule itself lives in the database (next_fetch_at), so
        a restart resumes where it left off. A storage error is logged; the next tick retries
serve   the web app (uvicorn) in the same event loop; its cache is dropped when a source
        brings new or changed articles; each result is counted by app.state.metrics
reload  SIGHUP: a task (one at a time) re-reads the config and applies it (see reload); a
        `web` process only serves the new config (the workers sync and reclassify)
stop    SIGTERM/SIGINT: stop ticking and serving; let the sources in flight finish until
        `stop_timeout` seconds after the signal, then cancel the rest (left as they were, due
        again at the next start); store the queued states; remove the pid file; return (the
        command exits 0). A second signal stops waiting at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import time
from collections.abc import Callable, Iterator
from typing import Literal

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from aggregator.core import Updater, utcnow
from aggregator.dispatch import Dispatcher
from aggregator.errors import StorageError
from aggregator.models import Config, UpdateResult
from aggregator.pidfile import PidFileError, held, is_daemon, read_pid
from aggregator.reload import apply_config, reload_config
from aggregator.store import Store
from aggregator.web import create_app

log = logging.getLogger("aggregator.daemon")

TICK_SECONDS = 1.0
"""How often the daemon looks for due sources: one indexed query, so it can be frequent."""

STOP_TIMEOUT = 20.0
"""Seconds the sources in flight may take to finish after a stop signal (`--stop-timeout`)."""

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

Role = Literal["all", "worker", "web"]
ROLES: tuple[Role, ...] = ("all", "worker", "web")


async def run_daemon(
    config: Config,
    store: Store,
    *,
    tick: float = TICK_SECONDS,
    stop_timeout: float = STOP_TIMEOUT,
    pid_file: str | None = None,
    role: Role = "all",
) -> None:
    """Run until SIGTERM/SIGINT: start due sources every `tick` seconds and serve the web app
    (`role` "worker": only the first; "web": only the second).

    Holds `pid_file` (when given) while running; PidFileError when a live daemon holds it.
    """
    crashed = _crashed(pid_file)
    with held(pid_file) if pid_file else contextlib.nullcontext():
        daemon = _Daemon(config, store, tick=tick, stop_timeout=stop_timeout, role=role)
        daemon.crashed = crashed
        await daemon.run()


def _crashed(pid_file: str | None) -> int | None:
    """The process named in a pid file that its daemon left behind (it crashed), or None."""
    try:
        pid = read_pid(pid_file) if pid_file else None
    except PidFileError:
        return None  # `held` reports it
    return pid if pid is not None and not is_daemon(pid) else None


class _Daemon:
    """The running parts of one daemon and its life cycle; see the module docstring."""

    def __init__(
        self, config: Config, store: Store, *, tick: float, stop_timeout: float, role: Role
    ) -> None:
        self.config = config
        self.role = role
        self._stopped = asyncio.Event()  # a worker's main wait (it runs no server)
        self.crashed: int | None = None  # the pid of this daemon's crashed predecessor
        self.store = store
        self.tick = tick
        self.stop_timeout = stop_timeout
        self.app = create_app(config, store)
        self.updater = Updater(config, store)
        self.dispatcher = Dispatcher(self.updater, on_result=self._on_result)
        self.server = _Server(
            uvicorn.Config(
                self.app,
                host=config.server.host,
                port=config.server.port,
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=max(1, math.ceil(stop_timeout)),
            ),
            on_stop=self._on_stop_signal,
        )
        self._synced = False
        self._ticking: asyncio.Task[None] | None = None
        self._reloading: asyncio.Task[None] | None = None
        self._reload_again = False
        self._stop_requested: float | None = None  # time.monotonic() of the first stop signal
        self._hurry = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in _STOP_SIGNALS:
            loop.add_signal_handler(signum, self._signalled, signum)
        loop.add_signal_handler(signal.SIGHUP, self._request_reload)
        scheduler = AsyncIOScheduler()
        try:
            if self.role == "web":
                await self._serve()
                return
            self._sync()
            await self.updater.start_fetcher()
            scheduler.add_job(
                self._on_tick,
                "interval",
                seconds=self.tick,
                next_run_time=utcnow(),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
            scheduler.start()
            if self.role == "worker":
                log.info(
                    "daemon started role=worker sources=%d topics=%d tick=%ss stop_timeout=%ss "
                    "owner=%s (no HTTP server: the worker role only fetches)",
                    len(self.config.sources),
                    len(self.config.topics),
                    f"{self.tick:g}",
                    f"{self.stop_timeout:g}",
                    self.dispatcher.owner,
                )
                await self._stopped.wait()
            else:
                log.info(
                    "daemon started sources=%d topics=%d listen=%s:%d tick=%ss stop_timeout=%ss",
                    len(self.config.sources),
                    len(self.config.topics),
                    self.config.server.host,
                    self.config.server.port,
                    f"{self.tick:g}",
                    f"{self.stop_timeout:g}",
                )
                await self.server.serve()
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            loop.remove_signal_handler(signal.SIGHUP)
            try:
                await self._stop()
            finally:
                for signum in _STOP_SIGNALS:
                    loop.remove_signal_handler(signum)
            log.info("daemon stopped")

    async def _serve(self) -> None:
        """The web role: serve until stopped; nothing is fetched or synced here."""
        log.info(
            "daemon started role=web topics=%d listen=%s:%d (no fetching: the web role only "
            "serves)",
            len(self.config.topics),
            self.config.server.host,
            self.config.server.port,
        )
        await self.server.serve()

    def _signalled(self, signum: int) -> None:
        self.server.stop(signum)  # calls _on_stop_signal
        self._stopped.set()

    # ------------------------------------------------------------ tick

    async def _on_tick(self) -> None:
        """APScheduler's job (on the event loop, being a coroutine): start a dispatch unless
        the last one is still running."""
        if self._stop_requested is not None:
            return
        if self._ticking is None or self._ticking.done():
            self._ticking = asyncio.create_task(self._dispatch())

    async def _dispatch(self) -> None:
        if not self._synced:
            self._sync()
            if not self._synced:
                return
        try:
            await self.dispatcher.tick()
        except Exception:  # a bug: logged; the next tick tries again
            log.exception("tick failed; trying again at the next tick")

    def _sync(self) -> None:
        """Sync the configured sources and spread new ones' first fetches; log a failure.
        First give back the leases of a crashed predecessor (same pid file, same host)."""
        try:
            if self.crashed is not None:
                released = self.store.leases.release_process(self.crashed)
                log.info("released %d lease(s) of crashed process %d", released, self.crashed)
                self.crashed = None
            self.updater.sync()
            self.updater.spread_first_fetches(utcnow())
        except StorageError as exc:
            log.error("syncing sources: %s; trying again at the next tick", exc)
            return
        self._synced = True

    def _on_result(self, result: UpdateResult) -> None:
        self.app.state.metrics.record(result)
        if result.new or result.updated:
            self.app.state.invalidate()

    # ------------------------------------------------------------ reload

    def _request_reload(self) -> None:
        """SIGHUP: start a reload task, or ask the running one to go again when it is done."""
        if self._stop_requested is not None:
            return
        log.info("received SIGHUP: reloading the config")
        if self._reloading is not None and not self._reloading.done():
            self._reload_again = True
            return
        self._reloading = asyncio.create_task(self._reload())

    async def _reload(self) -> None:
        again = True
        while again and self._stop_requested is None:
            self._reload_again = False
            try:
                current = self.updater.config
                new = await asyncio.to_thread(reload_config, current.path, current)
                if new is not None and self.role == "web":
                    self._serve_config(new)
                elif new is not None:
                    await apply_config(new, current, self.updater, self.app, self.store)
                    self.config = self.updater.config
            except Exception:  # a bug: logged; the daemon keeps running on what it had
                log.exception("config reload failed")
            again = self._reload_again

    def _serve_config(self, new: Config) -> None:
        """The web role's reload: serve what `new` describes. Syncing the sources and
        reclassifying the stored articles is the workers' part, done when they reload."""
        self.updater.reconfigure(new)
        self.config = new
        self.app.state.reconfigure(new)
        log.info(
            "config reloaded role=web topics=%d (the workers sync the sources)", len(new.topics)
        )

    # ------------------------------------------------------------ stop

    def _on_stop_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self._stop_requested is None:
            self._stop_requested = time.monotonic()
            self.dispatcher.close()
            log.info(
                "received %s: stopping; sources in flight have %ss to finish",
                name,
                f"{self.stop_timeout:g}",
            )
        else:
            log.info("received %s again: cancelling what is still in flight", name)
            self._hurry.set()

    async def _stop(self) -> None:
        """Let the sources in flight finish until the deadline; cancel the rest; close."""
        started = self._stop_requested or time.monotonic()

        def remaining() -> float:
            return max(0.0, self.stop_timeout - (time.monotonic() - started))

        if self._ticking is not None:
            await asyncio.gather(self._ticking, return_exceptions=True)
        if self._reloading is not None and not self._reloading.done():
            await asyncio.wait({self._reloading}, timeout=remaining())
            self._reloading.cancel()
        in_flight = self.dispatcher.in_flight
        if in_flight:
            log.info(
                "stopping: waiting up to %.1f s for %d source(s) in flight", remaining(), in_flight
            )
        try:
            cut = await self.dispatcher.drain(remaining(), hurry=self._hurry)
            if cut:
                log.warning(
                    "stopping: cancelled %d source(s) still in flight at the deadline, left as "
                    "they were and due at the next start: %s",
                    len(cut),
                    ", ".join(cut),
                )
        finally:
            await self.updater.stop_fetcher()
            await asyncio.to_thread(self.updater.close)


class _Server(uvicorn.Server):
    """uvicorn's server, with the signals left to the daemon (which stops, then exits 0)."""

    def __init__(self, config: uvicorn.Config, *, on_stop: Callable[[int], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop(self, signum: int) -> None:
        self._on_stop(signum)
        self.should_exit = True

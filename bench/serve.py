"""Benchmark serving: one topic feed of 50 items from our server, and the same bytes from nginx.

    .venv/bin/python bench/serve.py [--seconds 10] [--connections 8] [--threads 2] [--gzip]

Stages, in one run:
  1. generate a SQLite store (200 articles, 100 of them in topic "manufacturing") and a
     config file under a temp dir
  2. start every server variant, each on a free port: `uvicorn --factory
     aggregator.web:app_from_environment` with 1 and 2 workers, h11 + asyncio and (when
     installed) httptools + uvloop; then nginx as a non-daemon child process (generated
     config) serving, as a static file, the feed's bytes as our server sent them
  3. warm each up for a second, then load GET /feeds/manufacturing.xml with wrk for
     --seconds, server after server, --rounds times (interleaved, so a noisy neighbour
     hurts every server alike); stop them all
  4. print each server's best round: requests/s, p99 latency and share of nginx's requests/s

Needs `wrk` and `nginx` on PATH (Debian packages of those names). With --gzip every request
sends Accept-Encoding: gzip (ours sends its cached gzip bytes, nginx a precompressed .gz).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.models import Article, SourceConfig, SourceState, TopicMatch  # noqa: E402
from aggregator.store import Store  # noqa: E402

FEED_PATH = "/feeds/manufacturing.xml"
NGINX = "nginx, static file"
SOURCES = ("miit-news", "factory-daily", "gov-policy", "chip-weekly")
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Variant:
    """One server setup to measure."""

    name: str
    workers: int = 1
    loop: str = "asyncio"
    http: str = "h11"


@dataclass(frozen=True)
class Result:
    """What wrk measured for one server."""

    name: str
    requests_per_second: float
    p99_ms: float
    errors: int


# ---------------------------------------------------------------- 1. data


def generate(folder: Path) -> Path:
    """Write the store and a config naming it; return the config's path."""
    database = folder / "bench.db"
    store = Store(f"sqlite:///{database}")
    configs = [SourceConfig(name=n, url=f"https://{n}.example.com/feed") for n in SOURCES]
    store.sync_sources(configs, NOW)
    ids = {source.name: source.id for source in store.sources()}
    rng = random.Random(1)
    for number, name in enumerate(SOURCES):
        articles, matches = [], {}
        for n in range(50):
            article = _article(name, n, rng)
            articles.append(article)
            if (n + number) % 2 == 0:
                matches[article.id] = [TopicMatch("manufacturing", 4.0, ("factory",))]
        state = SourceState(
            url=f"https://{name}.example.com/feed",
            etag=None,
            last_modified=None,
            last_fetched_at=NOW,
            next_fetch_at=NOW + timedelta(minutes=30),
            last_status="ok",
            last_error=None,
            error_streak=0,
            title=f"{name} news",
            link=f"https://{name}.example.com/",
        )
        store.save_update(ids[name], state, articles, matches)
    store.close()
    config = folder / "aggregator.yaml"
    sources = "".join(f"  - name: {n}\n    url: https://{n}.example.com/feed\n" for n in SOURCES)
    config.write_text(
        f"database:\n  url: sqlite:///{database}\n"
        "server:\n  base_url: https://feeds.example.org\n  title: Bench\n  feed_limit: 50\n"
        "topics:\n  - slug: manufacturing\n    title: Manufacturing\n"
        "    rules:\n      - terms: [factory]\n"
        f"sources:\n{sources}",
        encoding="utf-8",
    )
    return config


def _article(source: str, n: int, rng: random.Random) -> Article:
    published = NOW - timedelta(minutes=37 * n + rng.randrange(30))
    zh = n % 3 == 0
    if zh:
        title = f"工信部：第{n}批智能制造示范工厂名单公布"
        body = "推动制造业高端化、智能化、绿色化发展，加快建设现代化产业体系。" * 12
    else:
        title = f"Factory output in region {n} rises as chip plants expand"
        body = "Manufacturers reported higher orders and longer supplier delivery times. " * 12
    return Article(
        source=source,
        id=f"{source}-{n}",
        url=f"https://{source}.example.com/articles/{n}",
        title=title,
        summary=f"<p>{body[:120]}</p>",
        content=f"<p>{body}</p><p>{body}</p>",
        text=body * 2,
        published=published,
        first_seen=published,
        content_hash=f"{source}-{n}",
        authors=("Staff reporter",),
        tags=("industry",),
        language="zh" if zh else "en",
    )


# ---------------------------------------------------------------- 2./3. servers


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Poll `url` until it answers 200; fail if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url} within {seconds:.0f} s")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a child we started, by its pid, and reap it."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_ours(variant: Variant, config: Path, port: int) -> subprocess.Popen[bytes]:
    """`uvicorn --factory aggregator.web:app_from_environment` as a child process."""
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "aggregator.web:app_from_environment",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(variant.workers),
        "--loop", variant.loop, "--http", variant.http,
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    env = {**os.environ, "AGGREGATOR_CONFIG": str(config)}
    return subprocess.Popen(command, cwd=ROOT, env=env)


def start_nginx(folder: Path, body: bytes, port: int) -> subprocess.Popen[bytes]:
    """nginx in the foreground, serving `body` at FEED_PATH (and its .gz beside it)."""
    www = folder / "www"
    target = www / FEED_PATH.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # nginx started as root reads files as an unprivileged worker
    target.write_bytes(body)
    target.with_name(target.name + ".gz").write_bytes(gzip.compress(body, 6, mtime=0))
    temp = {
        name: folder / f"nginx-{name}" for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")
    }
    for path in temp.values():
        path.mkdir(exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes auto;
pid {folder}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    gzip_static on;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    types {{ application/rss+xml xml; }}
    server {{
        listen 127.0.0.1:{port};
        root {www};
        etag on;
    }}
}}
""",
        encoding="utf-8",
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([nginx, "-p", str(folder), "-c", str(conf), "-e", "stderr"])


# ---------------------------------------------------------------- load


def wrk(url: str, args: argparse.Namespace, seconds: int | None = None) -> str:
    """Run wrk against `url`; its report."""
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}",
        f"-d{seconds or args.seconds}s", "--latency", url,
    ]  # fmt: skip
    if args.gzip:
        command[1:1] = ["-H", "Accept-Encoding: gzip"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def parse_wrk(name: str, report: str) -> Result:
    """Requests/s, p99 and non-2xx count from a wrk --latency report."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", report)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", report, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    socket_errors = re.search(r"Socket errors:.*", report)
    if rps is None or p99 is None:
        raise SystemExit(f"cannot read wrk's report for {name}:\n{report}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        print(f"  {name}: {socket_errors.group(0)}", file=sys.stderr)
    return Result(name, float(rps.group(1)), float(p99.group(1)) * scale, count)


def measure(name: str, url: str, args: argparse.Namespace) -> Result:
    """Load `url` with wrk for `args.seconds`."""
    result = parse_wrk(name, wrk(url, args))
    print(f"  {name}: {result.requests_per_second:,.0f} req/s, p99 {result.p99_ms:.2f} ms")
    return result


def variants() -> list[Variant]:
    """Every server setup this machine can run."""
    found = [Variant("uvicorn h11+asyncio, 1 worker"), Variant("uvicorn h11+asyncio, 2 workers", 2)]
    if importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools"):
        found += [
            Variant("uvicorn httptools+uvloop, 1 worker", 1, "uvloop", "httptools"),
            Variant("uvicorn httptools+uvloop, 2 workers", 2, "uvloop", "httptools"),
        ]
    return found


def main() -> None:
    """Run every stage and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="load per server per round")
    parser.add_argument("--rounds", type=int, default=2, help="measure each server this often")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} not found (apt-get install {tool})")
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as temp:
        folder = Path(temp)
        config = generate(folder)
        running: list[tuple[str, str, subprocess.Popen[bytes]]] = []
        try:
            for variant in variants():
                port = free_port()
                url = f"http://127.0.0.1:{port}{FEED_PATH}"
                running.append((variant.name, url, start_ours(variant, config, port)))
                wait_until_up(url, running[-1][2])
            with urllib.request.urlopen(running[0][1]) as response:
                body = response.read()
            port = free_port()
            url = f"http://127.0.0.1:{port}{FEED_PATH}"
            running.append((NGINX, url, start_nginx(folder, body, port)))
            wait_until_up(url, running[-1][2])
            for _, url, _ in running:
                wrk(url, args, seconds=1)  # warm up: every worker fills its cache
            rounds: dict[str, list[Result]] = {name: [] for name, _, _ in running}
            for number in range(args.rounds):
                print(f"round {number + 1} of {args.rounds}", file=sys.stderr)
                for name, url, _ in running:
                    rounds[name].append(measure(name, url, args))
        finally:
            for _, _, process in running:
                stop(process)
    best = {name: max(found, key=lambda r: r.requests_per_second) for name, found in rounds.items()}
    print_table(best, body, args)


def print_table(best: dict[str, Result], body: bytes, args: argparse.Namespace) -> None:
    """The best round of each server as a Markdown table, with the command that made it."""
    encoding = "gzip" if args.gzip else "identity"
    print(
        f"\nGET {FEED_PATH} (50 items, {len(body):,} bytes, {encoding}), wrk -t{args.threads}"
        f" -c{args.connections} -d{args.seconds}s, best of {args.rounds} rounds,"
        f" {os.cpu_count()} CPUs\n"
    )
    reference = best[NGINX]
    print("| server | requests/s | p99 latency | share of nginx | non-2xx |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for result in best.values():
        share = result.requests_per_second / reference.requests_per_second
        print(
            f"| {result.name} | {result.requests_per_second:,.0f} | {result.p99_ms:.2f} ms"
            f" | {share:.0%} | {result.errors} |"
        )


if __name__ == "__main__":
    main()

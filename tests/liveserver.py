"""A real uvicorn server in a thread on a free port of 127.0.0.1, and a plain HTTP client.

live = LiveServer(create_app(config, store))
reply = live.request("/feeds/all.xml", Accept_Encoding="gzip")   # no decoding, no caching
live.close()
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette


@dataclass
class Reply:
    """One HTTP response as received: header names lower-case, body as sent."""

    status: int
    headers: dict[str, str]
    body: bytes


class LiveServer:
    """`app` served by uvicorn in a thread on a free port of 127.0.0.1."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        settings = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(settings)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def request(self, path: str, method: str = "GET", **headers: str) -> Reply:
        """One request on a new connection; `If_None_Match="..."` sends If-None-Match."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                method, path, headers={k.replace("_", "-"): v for k, v in headers.items()}
            )
            response = connection.getresponse()
            body = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            connection.close()

    def close(self) -> None:
        """Stop the server and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()

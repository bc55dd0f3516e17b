"""The Emulator: the core (:mod:`norce_emulator.core`) served on loopback: ``start()`` serves in
background threads, ``stop()`` ends them; also a context manager."""

from __future__ import annotations

import threading

from .core import EmulatorCore, dumps
from .errors import ApiError
from .server import make_server

__all__ = ["ApiError", "Emulator", "dumps"]


class Emulator(EmulatorCore):
    """A Norce Commerce fake on loopback. ``start()`` serves in background threads; ``stop()`` ends them."""

    # ================================================================ lifecycle
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self._stopping = False
        self._server = make_server(self, self.config.host, self.config.port)
        self._server_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="norce-emulator-http",
            daemon=True,
        )
        self._server_thread.start()
        self._worker = threading.Thread(target=self._job_worker, name="norce-emulator-jobs", daemon=True)
        self._worker.start()
        self.events.start()
        return self

    def stop(self) -> None:
        with self._job_cond:
            self._stopping = True
            self._job_cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._server_thread is not None:
            self._server_thread.join(timeout=5)
        if self._worker is not None:
            self._worker.join(timeout=5)
        self.events.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

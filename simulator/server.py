"""Serve a simulator over real HTTP on a loopback port (tests, demo, benchmarks, CLI)."""

from types import TracebackType
from typing import Self

from aiohttp import web

from .control import add_control_routes
from .facility_expert import API_PREFIX, CONTROL_PREFIX, Simulator
from .it_common import IT_API_PREFIX


class SimulatorServer:
    """A running simulator: `base_url` is what the client is configured with."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare to serve `simulator`; port 0 picks a free one."""
        self.simulator = simulator
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Start listening."""
        # Dropped connections are part of the act: no access log, no handler noise.
        app = self.simulator.app
        add_control_routes(app, self.simulator)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=0.1,
            # A client that gave up (timeout) closes its connection: stop working for it.
            handler_cancellation=True,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root_url(self) -> str:
        """http://host:port."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API's base URL on this server."""
        return self.root_url + API_PREFIX

    @property
    def it_base_url(self) -> str:
        """The IT Expert API's base URL on this server."""
        return self.root_url + IT_API_PREFIX

    @property
    def control_url(self) -> str:
        """The control endpoint's URL."""
        return self.root_url + CONTROL_PREFIX

    async def __aenter__(self) -> Self:
        """Start, as a context manager."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop, as a context manager."""
        await self.stop()

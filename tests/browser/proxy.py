"""A TCP proxy on loopback that a test can cut, to simulate a network drop."""

from __future__ import annotations

import asyncio
import threading
import time


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``drop()`` cuts every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.refusing = False
        self.accepted = 0
        self.refused = 0  # connections refused while dropped: the browser tried and got nothing
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        self.drop()

        async def close():
            self._server.close()
            await self._server.wait_closed()

        self._call(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def drop(self) -> None:
        """Cut all open connections (like a network failure) and refuse new ones until ``resume()``."""
        self.refusing = True

        async def cut():
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        self._call(cut())

    def resume(self) -> None:
        self.refusing = False

    def wait_refused(self, more_than: int, timeout: float = 30.0) -> None:
        """Block until more than ``more_than`` connections have been refused."""
        deadline = time.monotonic() + timeout
        while self.refused <= more_than:
            if time.monotonic() > deadline:
                raise AssertionError(f"no connection attempt refused in {timeout:.0f} s (refused: {self.refused})")
            time.sleep(0.05)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            self.refused += 1
            writer.transport.abort()
            return
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort() if self.refusing else dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)

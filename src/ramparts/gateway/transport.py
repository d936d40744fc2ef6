"""The gateway's upstream transport: HTTP/1.1 over asyncio streams, as an httpx transport.

httpx's default transport (httpcore over anyio) cost a median 2.1 ms of CPU per
proxied request on the reference machine, more than the gateway's own checks, and keeps
at most 20 idle connections, so that under more concurrent requests than that it opens
and closes upstream connections all the time. This one speaks the little of HTTP/1.1
an OpenAI-compatible upstream needs, in a median 0.6 ms. It is an httpx transport, so
httpx's request and response objects, content decoding and timeouts stay as they are;
:mod:`ramparts.gateway.app` calls it directly, without httpx's client, and keeps httpx's
client and transports when the environment names proxies (httpx mounts them only there):

- a keep-alive pool per origin (scheme, host, port), at most ``max_connections`` in use
  at once and as many kept idle; an idle connection is closed after
  ``keepalive_expiry`` seconds or as soon as its server has closed it;
- a request whose reused connection turns out closed before a single byte of the
  answer arrives (the server's keep-alive timeout crossed it) is sent once more on a
  new connection, as browsers and urllib3 do; no other request is ever retried;
- bodies framed by ``Content-Length``, chunked transfer coding, or the end of the
  connection, read as they arrive (server-sent events pass through chunk by chunk);
- TLS with httpx's default context (certifi, ``SSL_CERT_FILE``), made on first use;
- httpx's timeouts (connect; read, per read or per chunk of a chunked body; write;
  pool); failures are raised as httpx's exceptions (``ConnectError``, ``ReadTimeout``,
  ``RemoteProtocolError``...).

A header name or value holding CR, LF or NUL is refused (``LocalProtocolError``), so no
header can split the request it is sent in.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator

import httpx

__all__ = ["UpstreamTransport"]

_CHUNK = 65536
_MAX_HEAD = 64 * 1024
_NO_BODY = frozenset({204, 304})
_BAD_HEADER_BYTES = (b"\r", b"\n", b"\0")
_HEX_DIGITS = b"0123456789abcdefABCDEF"


class _Stale(Exception):  # noqa: N818 - an internal signal, never raised out of the module
    """A reused connection was closed by its server before the answer started."""


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        return (
            now - self.idle_since < expiry
            and not self.reader.at_eof()
            and not self.writer.transport.is_closing()
        )

    def close(self) -> None:
        self.writer.transport.abort()


class UpstreamTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` for plain HTTP/1.1 upstreams (see the module)."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._ssl = ssl_context
        self._expiry = keepalive_expiry
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._max = max_connections
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- httpx ------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; the answer's body is read as the caller iterates it."""
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}", request=request)
        origin = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        head = _request_head(request, await request.aread())
        slots = self._slots
        if slots is None or self._loop is not asyncio.get_running_loop():
            # Connections belong to the event loop that opened them: a new loop, a new pool.
            self._idle.clear()
            self._loop = asyncio.get_running_loop()
            slots = self._slots = asyncio.Semaphore(self._max)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout("no upstream connection was free", request=request) from exc
        try:
            idle = self._take(origin)
            try:
                conn = idle or await self._connect(origin, request)
                answer = await self._exchange(conn, head, request, timeouts, reused=bool(idle))
            except _Stale:
                conn = await self._connect(origin, request)
                answer = await self._exchange(conn, head, request, timeouts, reused=False)
        except BaseException:
            slots.release()
            raise
        conn, status, reason, headers, framing = answer
        return httpx.Response(
            status,
            headers=headers,
            stream=_Body(self, origin, conn, framing, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        """Close every idle connection."""
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    # -- the pool ---------------------------------------------------------------------

    def _take(self, origin: tuple[str, str, int]) -> _Connection | None:
        conns = self._idle.get(origin)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            if conn.usable(now, self._expiry):
                return conn
            conn.close()
        return None

    def _give_back(self, origin: tuple[str, str, int], conn: _Connection | None) -> None:
        """Return a connection whose exchange is complete (``None``: it was closed)."""
        if self._loop is not asyncio.get_running_loop():  # the pool was made anew meanwhile
            if conn is not None:
                conn.close()
            return
        if conn is not None:
            conn.idle_since = time.monotonic()
            self._idle.setdefault(origin, []).append(conn)
        if self._slots is not None:
            self._slots.release()

    async def _connect(self, origin: tuple[str, str, int], request: httpx.Request) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            context = self._ssl
        timeout = request.extensions.get("timeout", {}).get("connect")
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=context, limit=_MAX_HEAD,
                    server_hostname=host if context else None,
                )  # fmt: skip
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out",
                                       request=request) from exc  # fmt: skip
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}",
                                     request=request) from exc  # fmt: skip
        return _Connection(reader, writer)

    # -- one exchange -----------------------------------------------------------------

    async def _exchange(
        self,
        conn: _Connection,
        head: bytes,
        request: httpx.Request,
        timeouts: dict[str, float | None],
        *,
        reused: bool,
    ) -> tuple[_Connection, int, bytes, list[tuple[bytes, bytes]], _Framing]:
        try:
            conn.writer.write(head)
            try:
                async with asyncio.timeout(timeouts.get("write")):
                    await conn.writer.drain()
            except TimeoutError as exc:
                raise httpx.WriteTimeout("writing to the upstream timed out",
                                         request=request) from exc  # fmt: skip
            except OSError as exc:
                if reused:
                    raise _Stale from exc
                raise httpx.WriteError(f"writing to the upstream failed: {exc}",
                                       request=request) from exc  # fmt: skip
            read = timeouts.get("read")
            status, reason, headers = await _final_head(conn.reader, request, read, reused=reused)
            framing = _framing(status, headers, request)
        except BaseException:
            conn.close()
            raise
        return conn, status, reason, headers, framing


# -- requests ---------------------------------------------------------------------------


def _request_head(request: httpx.Request, body: bytes) -> bytes:
    """The request line, the headers and ``body``: one write."""
    target = request.url.raw_path
    lines = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    length = False
    for name, value in request.headers.raw:
        if any(c in name or c in value for c in _BAD_HEADER_BYTES):
            raise httpx.LocalProtocolError("a header holds CR, LF or NUL: refused", request=request)
        lowered = name.lower()
        if lowered == b"transfer-encoding":
            continue  # the body is read whole and sent with its length
        if lowered == b"content-length":
            length = True
            lines += [name, b": ", str(len(body)).encode(), b"\r\n"]
        else:
            lines += [name, b": ", value, b"\r\n"]
    if body and not length:
        lines += [b"Content-Length: ", str(len(body)).encode(), b"\r\n"]
    lines += [b"\r\n", body]
    return b"".join(lines)


# -- answers ----------------------------------------------------------------------------


async def _final_head(
    reader: asyncio.StreamReader, request: httpx.Request, timeout: float | None, *, reused: bool
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """The answer's status and headers, past any interim (1xx) answers."""
    while True:
        status, reason, headers = _parse_head(
            await _read_head(reader, request, timeout, reused=reused), request
        )
        if status >= 200:
            return status, reason, headers
        if status == 101:
            raise httpx.RemoteProtocolError("the upstream switched protocols", request=request)
        reused = False  # an interim answer arrived: the connection is alive


async def _read_head(
    reader: asyncio.StreamReader, request: httpx.Request, timeout: float | None, *, reused: bool
) -> bytes:
    try:
        async with asyncio.timeout(timeout):
            return await reader.readuntil(b"\r\n\r\n")
    except TimeoutError as exc:
        raise httpx.ReadTimeout("the upstream did not answer in time", request=request) from exc
    except asyncio.IncompleteReadError as exc:
        if reused and not exc.partial:
            raise _Stale from exc
        raise httpx.RemoteProtocolError("the upstream closed the connection without an answer",
                                        request=request) from exc  # fmt: skip
    except asyncio.LimitOverrunError as exc:
        raise httpx.RemoteProtocolError("the upstream's response headers are too large",
                                        request=request) from exc  # fmt: skip
    except OSError as exc:
        if reused:
            raise _Stale from exc
        raise httpx.ReadError(f"reading from the upstream failed: {exc}",
                              request=request) from exc  # fmt: skip


def _parse_head(raw: bytes, request: httpx.Request) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    status_line, *lines = raw[:-4].split(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    code, _, reason = rest.partition(b" ")
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise httpx.RemoteProtocolError("the upstream's status line is malformed",
                                        request=request)  # fmt: skip
    headers = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in b" \t":
            raise httpx.RemoteProtocolError("the upstream sent a malformed header",
                                            request=request)  # fmt: skip
        headers.append((name, value.strip(b" \t")))
    if version == b"HTTP/1.0":
        headers.append((b"connection", b"close"))
    return int(code), reason, headers


class _Framing:
    """How an answer's body ends: ``length`` bytes, chunked, or the connection's end."""

    __slots__ = ("chunked", "keep_alive", "length")

    def __init__(self, length: int | None, *, chunked: bool, keep_alive: bool) -> None:
        self.length = length
        self.chunked = chunked
        self.keep_alive = keep_alive


def _framing(status: int, headers: list[tuple[bytes, bytes]], request: httpx.Request) -> _Framing:
    lengths: set[bytes] = set()
    codings: list[bytes] = []
    close = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            lengths.add(value)
        elif lowered == b"transfer-encoding":
            codings += [c.strip().lower() for c in value.split(b",")]
        elif lowered == b"connection" and b"close" in value.lower():
            close = True
    if request.method == "HEAD" or status in _NO_BODY:
        return _Framing(0, chunked=False, keep_alive=not close)
    if codings:
        if codings[-1] != b"chunked":
            return _Framing(None, chunked=False, keep_alive=False)
        # Both framings at once is how requests are smuggled: read chunked, then close.
        return _Framing(None, chunked=True, keep_alive=not close and not lengths)
    if lengths:
        value = lengths.pop()
        if lengths or not value.isdigit():
            raise httpx.RemoteProtocolError("the upstream's Content-Length is invalid",
                                            request=request)  # fmt: skip
        return _Framing(int(value), chunked=False, keep_alive=not close)
    return _Framing(None, chunked=False, keep_alive=False)


class _Body(httpx.AsyncByteStream):
    """An answer's body as it arrives; the connection goes back to the pool once the
    body is read to its end, and is closed if the reader stops before."""

    def __init__(
        self,
        transport: UpstreamTransport,
        origin: tuple[str, str, int],
        conn: _Connection,
        framing: _Framing,
        request: httpx.Request,
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._conn: _Connection | None = conn
        self._framing = framing
        self._request = request
        self._timeout = timeout
        self._complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            raise httpx.StreamClosed()
        try:
            async for chunk in self._chunks(conn.reader):
                yield chunk
        except TimeoutError as exc:
            raise httpx.ReadTimeout("the upstream stopped sending",
                                    request=self._request) from exc  # fmt: skip
        except asyncio.IncompleteReadError as exc:
            raise httpx.RemoteProtocolError("the upstream closed the connection mid-answer",
                                            request=self._request) from exc  # fmt: skip
        except (asyncio.LimitOverrunError, ValueError) as exc:
            raise httpx.RemoteProtocolError("the upstream's chunked body is malformed",
                                            request=self._request) from exc  # fmt: skip
        except OSError as exc:
            raise httpx.ReadError(f"reading from the upstream failed: {exc}",
                                  request=self._request) from exc  # fmt: skip
        self._complete = True
        await self.aclose()

    def _chunks(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        framing = self._framing
        if framing.chunked:
            return _chunked(reader, self._timeout)
        if framing.length is not None:
            return _sized(reader, framing.length, self._timeout)
        return _until_close(reader, self._timeout)

    async def aclose(self) -> None:
        """Give the connection back (body complete) or close it (body cut short)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._complete and self._framing.keep_alive:
            self._transport._give_back(self._origin, conn)
        else:
            conn.close()
            self._transport._give_back(self._origin, None)


async def _chunked(reader: asyncio.StreamReader, timeout: float | None) -> AsyncIterator[bytes]:
    """A chunked body's data, chunk by chunk as it arrives; trailers are dropped.

    A chunk of up to 64 KiB is read under one timeout (a timer per read would cost more
    than the read for the small chunks of a server-sent event stream).
    """
    while True:
        async with asyncio.timeout(timeout):
            line = await reader.readuntil(b"\r\n")
            digits = line.split(b";", 1)[0].strip()
            if not digits or digits.strip(_HEX_DIGITS):
                raise ValueError("a chunk size is not hexadecimal")
            size = int(digits, 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers, up to the empty line
                return
            data = await reader.readexactly(size + 2) if size <= _CHUNK else b""
        if data:
            if data[-2:] != b"\r\n":
                raise ValueError("a chunk does not end with CRLF")
            yield data[:-2]
            continue
        async for piece in _sized(reader, size, timeout):
            yield piece
        async with asyncio.timeout(timeout):
            if await reader.readexactly(2) != b"\r\n":
                raise ValueError("a chunk does not end with CRLF")


async def _sized(
    reader: asyncio.StreamReader, size: int, timeout: float | None
) -> AsyncIterator[bytes]:
    """``size`` bytes, as they arrive."""
    while size:
        async with asyncio.timeout(timeout):
            data = await reader.read(min(size, _CHUNK))
        if not data:
            raise asyncio.IncompleteReadError(b"", size)
        size -= len(data)
        yield data


async def _until_close(reader: asyncio.StreamReader, timeout: float | None) -> AsyncIterator[bytes]:
    """Everything until the upstream closes the connection."""
    while True:
        async with asyncio.timeout(timeout):
            data = await reader.read(_CHUNK)
        if not data:
            return
        yield data

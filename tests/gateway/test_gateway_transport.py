"""The gateway's upstream transport against scripted HTTP/1.1 servers.

Each test starts an asyncio TCP server on a loopback port that reads a request and
answers with bytes written out by hand (framings, interim answers, broken bodies,
connections closed at the wrong time), and sends requests through ``httpx.AsyncClient``
over :class:`UpstreamTransport`, as the gateway does.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ramparts.gateway.transport import UpstreamTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class Scripted:
    """A server whose ``handler(reader, writer, connection_number)`` answers."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Scripted:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer, self.connections)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the test is over
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        request = head + await reader.readexactly(length)
        self.requests.append(request)
        return request


def _ok(body: bytes, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/json",
            b"Content-Length: " + str(len(body)).encode(), *extra]  # fmt: skip
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def run(coro: Awaitable[None]) -> None:
    async def go() -> None:
        await coro

    asyncio.run(go())


def client(**options: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=UpstreamTransport(**options), timeout=5.0)  # type: ignore[arg-type]


def test_answers_with_a_length_reuse_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            request = await server.read_request(reader)
            writer.write(_ok(b'{"echo": %d}' % len(request)))
            await writer.drain()

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            for _ in range(3):
                reply = await http.post(server.url + "/v1/chat", content=b'{"model": "m"}',
                                        headers={"x-request-id": "abc"})  # fmt: skip
                assert reply.status_code == 200
                assert "echo" in reply.json()
        assert server.connections == 1
        first = server.requests[0]
        assert first.startswith(b"POST /v1/chat HTTP/1.1\r\n")
        assert b"x-request-id: abc\r\n" in first
        assert b"Content-Length: 14\r\n" in first or b"content-length: 14\r\n" in first
        assert first.endswith(b'\r\n\r\n{"model": "m"}')

    run(go())


def test_a_chunked_stream_arrives_chunk_by_chunk() -> None:
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n"
                     b"d;ext=1\r\ndata: first\n\n\r\n")  # fmt: skip
        await writer.drain()
        await release.wait()  # the client must see the first chunk before the second exists
        writer.write(b"E\r\ndata: second\n\n\r\n0\r\nX-Trailer: t\r\n\r\n")
        await writer.drain()
        await server.read_request(reader)  # the connection is reused
        writer.write(_ok(b"{}"))
        await writer.drain()

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            pieces = []
            async with http.stream("POST", server.url + "/v1/chat", content=b"{}") as reply:
                async for piece in reply.aiter_raw():
                    pieces.append(piece)
                    release.set()
            assert pieces == [b"data: first\n\n", b"data: second\n\n"]
            assert (await http.get(server.url + "/v1/models")).json() == {}
        assert server.connections == 1

    run(go())


def test_an_answer_ended_by_closing_is_read_to_the_end_and_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        await writer.drain()

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            assert (await http.get(server.url)).text == "all of it"
            assert (await http.get(server.url)).text == "all of it"
        assert server.connections == 2

    run(go())


def test_a_kept_connection_the_server_closed_is_replaced_once() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.read_request(reader)
        writer.write(_ok(b'{"connection": %d}' % n))
        await writer.drain()
        # Keep-alive promised, then the connection is dropped (a keep-alive timeout).

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            assert (await http.post(server.url, content=b"1")).json() == {"connection": 1}
            await asyncio.sleep(0.05)
            assert (await http.post(server.url, content=b"2")).json() == {"connection": 2}

    run(go())


def test_a_kept_connection_closed_before_any_answer_is_retried_on_a_new_one() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.read_request(reader)
        writer.write(_ok(b'{"connection": %d}' % n))
        await writer.drain()
        if n == 1:
            await server.read_request(reader)  # read, then closed without a byte of answer

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            assert (await http.post(server.url, content=b"1")).json() == {"connection": 1}
            assert (await http.post(server.url, content=b"2")).json() == {"connection": 2}
        assert server.connections == 2
        assert len(server.requests) == 3

    run(go())


def test_a_connection_dropped_in_flight_is_not_retried() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.read_request(reader)
        if n == 1:
            writer.write(_ok(b"{}"))
            await writer.drain()
            await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
        await writer.drain()

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            await http.post(server.url, content=b"1")
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post(server.url, content=b"2")
        assert len(server.requests) == 2

    run(go())


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
        b"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\nabcd",
        b"HTTP/1.1 200 OK\r\n folded: header\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        b"",
    ],
)
def test_malformed_answers_are_protocol_errors(answer: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await server.read_request(reader)
        writer.write(answer)
        await writer.drain()

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get(server.url)

    run(go())


def test_both_framings_are_read_as_chunked_and_the_connection_closed() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n0\r\n\r\n")  # fmt: skip
        await writer.drain()
        await server.read_request(reader)
        writer.write(_ok(b"smuggled"))
        await writer.drain()

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            assert (await http.get(server.url)).text == "hello"
            await http.get(server.url)
        assert server.connections == 2

    run(go())


def test_interim_answers_are_skipped_and_gzip_is_decoded() -> None:
    body = gzip.compress(b'{"ok": true}')

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(body, b"Content-Encoding: gzip"))
        await writer.drain()

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            assert (await http.get(server.url)).json() == {"ok": True}

    run(go())


def test_failures_are_httpx_errors() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await reader.read(1)
        await asyncio.sleep(5)

    server = Scripted(silent)

    async def go() -> None:
        async with server, client() as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(server.url, timeout=0.2)
            port = server.url.rsplit(":", 1)[1]
        with pytest.raises(httpx.ConnectError):
            async with client() as http:
                await http.get(f"http://127.0.0.1:{port}")  # the server is gone
        with pytest.raises(httpx.UnsupportedProtocol):
            async with client() as http:
                await http.get("ftp://127.0.0.1/")

    run(go())


def test_a_header_cannot_split_the_request() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await server.read_request(reader)

    server = Scripted(handler)

    async def go() -> None:
        async with server, client() as http:
            with pytest.raises(httpx.LocalProtocolError):
                await http.get(server.url, headers={"x-request-id": "a\r\nx-admin: yes"})
        assert server.requests == []

    run(go())


def test_a_stream_closed_early_frees_its_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    server = Scripted(handler)

    async def go() -> None:
        async with server, client(max_connections=1) as http:
            for _ in range(2):  # with one connection allowed, the second waits for the first
                async with http.stream("GET", server.url) as reply:
                    async for piece in reply.aiter_raw():
                        assert piece == b"first"
                        break
        assert server.connections == 2

    run(go())


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def test_https_upstreams_are_verified(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            writer.write(_ok(b'{"tls": true}'))
            await writer.drain()
            del request

    async def go() -> None:
        server = await asyncio.start_server(
            lambda r, w: handler(r, w, 0), "127.0.0.1", 0, ssl=server_context
        )
        port = server.sockets[0].getsockname()[1]
        trusting = ssl.create_default_context(cafile=str(cert))
        try:
            async with client(ssl_context=trusting) as http:
                reply = await http.get(f"https://localhost:{port}/")
                assert reply.json() == {"tls": True}
            async with client() as http:  # the default trust store does not know this CA
                with pytest.raises(httpx.ConnectError):
                    await http.get(f"https://localhost:{port}/")
        finally:
            server.close()

    run(go())

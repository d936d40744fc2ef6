"""A small OpenAI-compatible model server for demos, tests and benchmarks (no model inside).

It answers ``/v1/chat/completions`` (plain and streamed as server-sent events),
``/v1/completions``, ``/v1/embeddings`` and ``/v1/models``. The reply repeats the last
user message after ``reply_prefix``; a message containing ``LEAK:`` makes the reply
carry what follows it (to show output guards at work). Streams are cut into chunks of
``chunk`` characters, so a secret in the reply arrives split across events.

    python -m ramparts.gateway.mock --port 8000
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["MockUpstream", "main"]

Message = dict[str, Any]


class MockUpstream:
    """The ASGI application."""

    def __init__(self, *, chunk: int = 7, reply_prefix: str = "You said: ") -> None:
        self._chunk = chunk
        self._prefix = reply_prefix
        self.requests: list[dict[str, Any]] = []
        """Every JSON body received, and its headers, newest last (for tests)."""

    def _reply(self, body: dict[str, Any]) -> str:
        messages = body.get("messages") or [{"content": body.get("prompt", "")}]
        last = messages[-1].get("content", "") if isinstance(messages[-1], dict) else ""
        text = last if isinstance(last, str) else json.dumps(last)
        if "LEAK:" in text:
            return text.split("LEAK:", 1)[1].strip()
        return f"{self._prefix}{text}"

    async def __call__(
        self,
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"].removeprefix("/v1")
        body = json.loads(raw) if raw else {}
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"path": path, "body": body, "headers": headers})
        model = body.get("model", "mock")
        if path == "/models":
            await _json(send, {"object": "list", "data": [{"id": "mock", "object": "model"}]})
        elif path == "/embeddings":
            await _json(send, {"object": "list", "model": model,
                               "data": [{"object": "embedding", "index": 0,
                                         "embedding": [0.0, 0.1, 0.2]}],
                               "usage": {"prompt_tokens": 3, "total_tokens": 3}})  # fmt: skip
        elif path in ("/chat/completions", "/completions"):
            text = self._reply(body)
            if body.get("stream"):
                await self._stream(send, model, text)
            else:
                chat = path == "/chat/completions"
                choice: dict[str, Any] = (
                    {"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}
                    if chat else {"index": 0, "text": text, "finish_reason": "stop"}
                )  # fmt: skip
                await _json(send, {
                    "id": "cmpl-mock", "object": "chat.completion" if chat else "text_completion",
                    "created": int(time.time()), "model": model, "choices": [choice],
                    "usage": {"prompt_tokens": 10, "completion_tokens": len(text) // 4 + 1,
                              "total_tokens": 10 + len(text) // 4 + 1},
                })  # fmt: skip
        else:
            await _json(send, {"error": {"message": "not found", "code": "not_found"}}, 404)

    async def _stream(
        self, send: Callable[[Message], Awaitable[None]], model: str, text: str
    ) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})  # fmt: skip
        for start in range(0, len(text), self._chunk):
            piece = text[start : start + self._chunk]
            event = {"id": "cmpl-mock", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": {"content": piece}}]}  # fmt: skip
            body = f"data: {json.dumps(event)}\n\n".encode()
            await send({"type": "http.response.body", "body": body, "more_body": True})
        done = b"data: [DONE]\n\n"
        await send({"type": "http.response.body", "body": done, "more_body": False})


async def _json(
    send: Callable[[Message], Awaitable[None]], document: Any, status: int = 200
) -> None:
    body = json.dumps(document).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    """Run the mock upstream under uvicorn."""
    import uvicorn  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="an OpenAI-compatible mock model server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(MockUpstream(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

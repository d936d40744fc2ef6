"""The gateway as a pure ASGI application.

Per request, in order; the first step that refuses answers in OpenAI's error shape
(``{"error": {"message", "type", "param", "code"}}``) with a stable ``code``:

1. route by path prefix (``404 not_found`` otherwise); ``/healthz``, ``/readyz`` and
   ``/metrics`` are served by the gateway itself;
2. authenticate the client certificate (mTLS, when configured) or else the bearer
   credential (``401 invalid_api_key``);
3. read the body, bounded (``413 request_too_large``), and parse it (``400``); on a
   route with ``registry = true``, the model's version in the route's stage comes from
   the registry (``404 model_not_deployed`` without one, ``503 registry_unavailable``
   when it cannot be read) and is recorded with its digest;
4. the kill switch: global, the model, the identity (``503 kill_switch``);
5. authorise ``invoke`` on ``endpoint:MODEL`` in the route's environment with the policy
   engine (``403 permission_denied``);
6. rate limits: requests per identity and per model, estimated tokens per identity
   (``429 rate_limited`` with ``Retry-After``); a shared limiter that cannot answer
   refuses (``503 limiter_unavailable``) unless configured to fail open, which is audited;
7. input guards on every message (block, redact, flag; a failing guard fails closed);
8. the upstream call (streamed responses pass through event by event, with output guards
   holding back enough text to catch a secret split across chunks);
9. output guards, token usage reconciled with the limiter;
10. the audit event (identity, route, model, prompt and response sealed per subject,
    verdicts, tokens, latency, status), durable before the response is sent. If it
    cannot be recorded the request fails (``503 audit_unavailable``). A streamed
    response is recorded before its first byte and again when it ends.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.request import getproxies

import httpx

from ramparts._version import __version__
from ramparts.core.ids import new_id
from ramparts.core.interface import Clock, Event, ModelVersions, Outcome
from ramparts.core.records import field, record
from ramparts.errors import AuditError, RampartsError
from ramparts.gateway.asgi import read_body
from ramparts.gateway.breaker import CircuitBreakers, CircuitOpenError, Permit
from ramparts.gateway.config import GatewayConfig, Route
from ramparts.gateway.interface import (
    AuditSink,
    Authenticated,
    Authenticator,
    GatewayError,
    LimiterUnavailableError,
    RefusedRequestError,
    TextGuards,
)
from ramparts.gateway.killswitch import KillSwitch
from ramparts.gateway.metrics import CONTENT_TYPE, GatewayMetrics
from ramparts.gateway.ratelimit import Limit, RateLimiter
from ramparts.gateway.transport import UpstreamTransport
from ramparts.policy.engine import PolicyEngine
from ramparts.policy.interface import Context, PolicyError, Request, Resource

__all__ = ["Gateway"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
_OPERATIONS = {"/chat/completions", "/completions", "/embeddings", "/models"}


def _estimate_tokens(texts: list[str]) -> int:
    # About four characters per token for English text; an estimate, reconciled with
    # the usage the upstream reports.
    return max(1, sum(len(t) for t in texts) // 4)


def _message_texts(body: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(role, text, where) for every text the request carries; ``where`` locates it."""
    found: list[tuple[str, str, Any]] = []
    for i, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", "user"))
        content = message.get("content")
        if isinstance(content, str):
            found.append((role, content, ("messages", i)))
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    found.append((role, part["text"], ("messages", i, j)))
        for k, call in enumerate(message.get("tool_calls") or []):
            args = call.get("function", {}).get("arguments") if isinstance(call, dict) else None
            if isinstance(args, str):
                found.append(("tool_call", args, ("tool_calls", i, k)))
    for key in ("prompt", "input"):
        value = body.get(key)
        if isinstance(value, str):
            found.append(("user", value, (key,)))
        elif isinstance(value, list):
            found += [("user", v, (key, i)) for i, v in enumerate(value) if isinstance(v, str)]
    return found


def _pointer(pointer: str) -> list[str]:
    """The reference tokens of an RFC 6901 JSON pointer (``""`` is the whole document)."""
    if not pointer:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _child(node: Any, token: str) -> tuple[Any, Any] | None:
    """``(key, value)`` of ``token`` in ``node`` (an int key for a list), or ``None``."""
    if isinstance(node, dict):
        return (token, node[token]) if token in node else None
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return int(token), node[int(token)]
    return None


def _json_leaves(node: Any, path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _json_leaves(v, (*path, k))]
    if isinstance(node, list):
        return [leaf for i, v in enumerate(node) for leaf in _json_leaves(v, (*path, i))]
    return []


def _json_texts(document: Any, pointers: tuple[str, ...]) -> list[tuple[str, str, Any]]:
    """Every string under each pointer of a generic JSON document, with where it is; a
    pointer that names nothing in this document contributes nothing."""
    found: dict[tuple[Any, ...], str] = {}
    for pointer in pointers:
        node: Any = document
        path: tuple[Any, ...] = ()
        for token in _pointer(pointer):
            step = _child(node, token)
            if step is None:
                break
            path, node = (*path, step[0]), step[1]
        else:
            found.update(_json_leaves(node, path))
    return [("user", text, ("json", path)) for path, text in found.items()]


def _put_json(document: Any, path: tuple[Any, ...], text: str) -> None:
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = text


def _put_text(body: dict[str, Any], where: Any, text: str) -> None:
    """Write ``text`` back where :func:`_message_texts` or :func:`_json_texts` found it."""
    if where[0] == "json":
        _put_json(body, where[1], text)
    elif where[0] == "messages":
        message = body["messages"][where[1]]
        if len(where) == 2:
            message["content"] = text
        else:
            message["content"][where[2]]["text"] = text
    elif where[0] == "tool_calls":
        body["messages"][where[1]]["tool_calls"][where[2]]["function"]["arguments"] = text
    elif len(where) == 1:
        body[where[0]] = text
    else:
        body[where[0]][where[1]] = text


@record(frozen=False, slots=False)
class _Call:
    """What the gateway learns about one request as it goes."""

    request_id: str
    route: Route
    operation: str
    started: float
    who: Authenticated | None = None
    model: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    prompt: str = ""
    response: str = ""
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0
    estimated: int = 0
    status: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


class Gateway:
    """The ASGI application; one per process, shared by all requests."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        authenticate: Authenticator,
        policy: PolicyEngine,
        limiter: RateLimiter,
        kill_switch: KillSwitch,
        guards: TextGuards,
        audit: AuditSink,
        clock: Clock,
        http: httpx.AsyncClient | None = None,
        metrics: GatewayMetrics | None = None,
        versions: ModelVersions | None = None,
        identify: Callable[[Scope], Authenticated | None] | None = None,
        require_certificate: bool = False,
    ) -> None:
        if versions is None and any(r.registry for r in config.routes):
            raise GatewayError("routes with registry = true need the registry's model versions")
        if require_certificate and identify is None:
            raise GatewayError("requiring client certificates needs a certificate verifier")
        self._versions = versions
        self._identify = identify
        self._require_certificate = require_certificate
        self._config = config
        self._authenticate = authenticate
        self._policy = policy
        self._limiter = limiter
        self._kill = kill_switch
        self._guards = guards
        self._audit = audit
        self._clock = clock
        # The lean transport is called directly: httpx's client merges base URLs, default
        # headers, cookies, auth and redirects for every request, none of which apply,
        # at about a tenth of the gateway's own CPU per request. A client is used when
        # one is given, or when the environment names a proxy (httpx mounts those).
        self._http = http if http is not None else _proxy_client()
        self._transport = UpstreamTransport()
        self._urls: dict[str, httpx.URL] = {}
        self._metrics = metrics
        self._breakers = CircuitBreakers()
        self._request_limit = Limit(config.requests_per_minute, config.requests_burst)
        self._token_limit = Limit(config.tokens_per_minute, int(config.tokens_per_minute))
        self._model_limit = Limit(
            config.model_requests_per_minute, max(1, int(config.model_requests_per_minute / 6))
        )

    # -- ASGI ----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path in ("/healthz", "/readyz"):
            await _send_json(send, 200, {"status": "ok"})
            return
        if path == "/metrics" and self._metrics is not None:
            await _send_bytes(send, 200, self._metrics.render().encode(), CONTENT_TYPE)
            return
        route = self._config.route_for(path)
        operation = path[len(route.prefix) :] if route else ""
        if route is None or (route.kind == "openai" and operation not in _OPERATIONS):
            await _send_error(send, RefusedRequestError(404, "not_found", f"no route for {path}"))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        call = _Call(
            request_id=headers.get("x-request-id") or new_id(),
            route=route,
            operation=operation,
            started=time.perf_counter(),
        )
        try:
            await self._serve(scope, receive, send, headers, call)
        except RefusedRequestError as refusal:
            call.status = refusal.status
            call.verdicts += [dict(v) for v in refusal.verdicts]
            self._count_refusal(refusal)
            try:
                await self._record(call, Outcome.DENIED, reason=f"{refusal.code}: {refusal}")
            except AuditError:
                refusal = RefusedRequestError(503, "audit_unavailable", "the audit log is down")
            await _send_error(send, refusal, call.request_id)
        finally:
            self._observe(call)

    def _count_refusal(self, refusal: RefusedRequestError) -> None:
        metrics = self._metrics
        if metrics is None:
            return
        if refusal.code == "rate_limited":
            metrics.rate_limited_total.inc(scope=refusal.headers.get("x-limit-scope", "request"))
        elif refusal.code == "kill_switch":
            metrics.kill_switch_blocks_total.inc(scope="any")
        elif refusal.code == "upstream_unavailable":
            metrics.upstream_errors_total.inc(kind="unavailable")

    def _observe(self, call: _Call) -> None:
        metrics = self._metrics
        if metrics is None:
            return
        seconds = time.perf_counter() - call.started
        metrics.requests_total.inc(route=call.route.name, model=call.model or "-",
                                   status=str(call.status or 500))  # fmt: skip
        metrics.request_seconds.observe(seconds, route=call.route.name)
        for verdict in call.verdicts:
            metrics.guard_verdicts_total.inc(guard=str(verdict.get("guard")),
                                             action=str(verdict.get("action")),
                                             code=str(verdict.get("code")))  # fmt: skip

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._http is not None:
                    await self._http.aclose()
                await self._transport.aclose()
                # Shared limiters and kill switches hold connections (Redis) of this loop.
                for part in (self._limiter, self._kill):
                    close = getattr(part, "aclose", None)
                    if close is not None:
                        await close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- one request ---------------------------------------------------------------

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], call: _Call
    ) -> None:
        who = call.who = self._who(scope, headers)
        raw = await read_body(receive, self._config.max_body_bytes)
        generic = call.route.kind == "json"
        if generic or call.operation != "/models":
            call.body = _parse(raw)
            call.model = call.route.model_name if generic else str(call.body.get("model") or "")
            if not call.model:
                raise RefusedRequestError(400, "invalid_request", "the request names no model")
            teams = who.principal.teams
            outsider = bool(teams) and call.route.team is not None and call.route.team not in teams
            if outsider or not call.route.serves(call.model):
                # Another team's model is answered exactly like one that does not exist.
                raise RefusedRequestError(
                    404, "model_not_found", f"model {call.model!r} is not served"
                )
            if call.route.registry:
                self._resolve(call)
        await self._check_kill(call, who)
        self._authorize(call, who, scope)
        texts = (
            _json_texts(call.body, call.route.input_fields)
            if generic
            else _message_texts(call.body)
        )
        call.estimated = _estimate_tokens([t for _, t, _ in texts]) if texts else 0
        await self._limit(call, who)
        self._inspect(call, texts)
        if not generic and call.body.get("stream") is True:
            await self._stream(send, headers, call)
        else:
            await self._forward(scope, send, headers, raw, call)

    def _resolve(self, call: _Call) -> None:
        """The registry's version of the model in the route's stage; none: 404, and an
        unreadable registry refuses the call (503) rather than serving an unknown one."""
        stage = call.route.environment
        try:
            deployed = self._versions.deployed(call.model, stage) if self._versions else None
        except RampartsError as exc:
            raise RefusedRequestError(
                503, "registry_unavailable", f"the model registry cannot be read: {exc}"
            ) from exc
        if deployed is None:
            raise RefusedRequestError(
                404, "model_not_deployed", f"model {call.model!r} has no version in {stage}"
            )
        call.notes["model_version"] = deployed.ref
        call.notes["model_digest"] = deployed.digest

    def _who(self, scope: Scope, headers: dict[str, str]) -> Authenticated:
        """The client certificate's identity when one is presented (mTLS), otherwise the
        bearer credential's; with certificates required, no certificate is refused."""
        if self._identify is not None:
            found = self._identify(scope)
            if found is not None:
                return found
            if self._require_certificate:
                raise RefusedRequestError(
                    401, "invalid_api_key", "a client certificate is required (mTLS)"
                )
        return self._authenticated(headers)

    def _authenticated(self, headers: dict[str, str]) -> Authenticated:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise RefusedRequestError(
                401, "invalid_api_key", "send Authorization: Bearer KEY_OR_TOKEN"
            )
        return self._authenticate(token.strip())

    async def _check_kill(self, call: _Call, who: Authenticated) -> None:
        try:
            kill = await self._kill.check(call.model or None, who.principal.id)
        except LimiterUnavailableError as exc:
            raise RefusedRequestError(
                503, "limiter_unavailable", f"the kill switch cannot be read: {exc}"
            ) from exc
        if kill is not None:
            raise RefusedRequestError(
                503, "kill_switch", f"stopped by the kill switch ({kill.scope}): {kill.reason}"
            )

    def _authorize(self, call: _Call, who: Authenticated, scope: Scope) -> None:
        client = scope.get("client")
        context = Context(time=self._clock.now(), mfa=who.mfa, source_ip=_ip(client))
        resource = Resource("endpoint", call.model or "*", environment=call.route.environment)
        try:
            decision = self._policy.decide(Request(who.principal, "invoke", resource, context))
        except PolicyError as exc:
            raise RefusedRequestError(403, "permission_denied", str(exc)) from exc
        if not decision.allowed:
            raise RefusedRequestError(403, "permission_denied", decision.reason)
        call.notes["rule"] = decision.rule

    async def _limit(self, call: _Call, who: Authenticated) -> None:
        identity = who.principal.id
        if call.estimated > self._token_limit.burst:
            raise RefusedRequestError(
                400,
                "request_too_large",
                f"the prompt (about {call.estimated} tokens) exceeds the token limit "
                f"({self._token_limit.burst} per minute)",
            )
        checks = [(f"id:{identity}:req", self._request_limit, 1.0, "identity")]
        if call.model:
            checks.append((f"model:{call.model}:req", self._model_limit, 1.0, "model"))
        if call.estimated:
            checks.append((f"id:{identity}:tok", self._token_limit, call.estimated, "tokens"))
        taken: list[tuple[str, Limit, float]] = []
        for key, limit, cost, scope in checks:
            try:
                decision = await self._limiter.take(key, limit, cost)
            except LimiterUnavailableError as exc:
                if self._config.limiter_unavailable == "open":
                    call.notes["limiter"] = f"unavailable, failed open: {exc}"
                    return
                raise RefusedRequestError(
                    503, "limiter_unavailable", "rate limits cannot be checked: refused"
                ) from exc
            if not decision.allowed:
                # Give back what the earlier buckets took: this request is not served.
                for done_key, done_limit, done_cost in taken:
                    await self._limiter.adjust(done_key, done_limit, -done_cost)
                raise RefusedRequestError(
                    429,
                    "rate_limited",
                    f"rate limit of {scope} reached: retry in {decision.retry_after_header} s",
                    headers={"retry-after": str(decision.retry_after_header)},
                )
            taken.append((key, limit, cost))

    def _inspect(self, call: _Call, texts: list[tuple[str, str, Any]]) -> None:
        changed = False
        prompt = []
        for role, text, where in texts:
            forwarded, verdicts = self._guards.inspect_input(text, role)
            call.verdicts += verdicts
            prompt.append(f"{role}: {forwarded}")
            if forwarded != text:
                _put_text(call.body, where, forwarded)
                changed = True
        call.prompt = "\n".join(prompt)
        call.notes["redacted_input"] = changed

    # -- upstream ------------------------------------------------------------------

    def _upstream_headers(self, headers: dict[str, str], call: _Call) -> dict[str, str]:
        out = {
            "content-type": "application/json",
            "user-agent": _USER_AGENT,
            "x-request-id": call.request_id,
        }
        if "accept" in headers:
            out["accept"] = headers["accept"]
        if call.route.upstream_key:
            out["authorization"] = f"Bearer {call.route.upstream_key}"
        return out

    def _permit(self, call: _Call) -> Permit:
        try:
            return self._breakers.get(call.route.name).acquire()
        except CircuitOpenError as exc:
            raise RefusedRequestError(
                503,
                "upstream_unavailable",
                str(exc),
                headers={"retry-after": str(exc.retry_after_header)},
            ) from exc

    async def _send_upstream(
        self, request: httpx.Request, call: _Call, *, stream: bool
    ) -> httpx.Response:
        """Send ``request`` through the route's circuit breaker: a transport failure or
        a 5xx counts against the upstream; a transport failure answers 502."""
        permit = self._permit(call)
        started = time.perf_counter()
        try:
            reply = await self._exchange(request, stream=stream)
        except httpx.HTTPError as exc:
            permit.failure()
            raise RefusedRequestError(
                502, "upstream_unavailable", f"the upstream failed: {type(exc).__name__}"
            ) from exc
        finally:
            if self._metrics is not None:  # until the answer's headers, for streams too
                self._metrics.upstream_seconds.observe(time.perf_counter() - started)
        if reply.status_code >= 500:
            permit.failure()
        else:
            permit.success()
        return reply

    async def _exchange(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        if self._http is not None:
            return await self._http.send(request, stream=stream)
        reply = await self._transport.handle_async_request(request)
        reply.request = request
        if not stream:
            try:
                await reply.aread()  # closes the body's stream once read
            except BaseException:
                await reply.aclose()
                raise
        return reply

    def _upstream_request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None, call: _Call
    ) -> httpx.Request:
        """The request for the route's upstream at ``path`` (a client path)."""
        target = call.route.target(path)
        if self._http is not None:
            return self._http.build_request(
                method, target, content=body, headers=headers, timeout=call.route.timeout
            )
        url = self._urls.get(target)
        if url is None:
            url = httpx.URL(target)
            if len(self._urls) < _KNOWN_URLS:  # JSON routes forward any path: bounded
                self._urls[target] = url
        return httpx.Request(
            method,
            url,
            headers=headers,
            content=body,
            extensions={"timeout": _timeouts(call.route.timeout)},
        )

    async def _forward(
        self, scope: Scope, send: Send, headers: dict[str, str], raw: bytes, call: _Call
    ) -> None:
        body = json.dumps(call.body).encode() if call.body else None
        method = scope["method"]
        request = self._upstream_request(
            method,
            scope["path"],
            self._upstream_headers(headers, call),
            body if method != "GET" else None,
            call,
        )
        reply = await self._send_upstream(request, call, stream=False)
        content = reply.content
        media = reply.headers.get("content-type", "application/json")
        if reply.status_code < 400 and "json" in media:
            content = self._guard_output(call, content)
        call.status = reply.status_code
        outcome = Outcome.SUCCESS if reply.status_code < 400 else Outcome.FAILURE
        await self._reconcile(call)
        try:
            await self._record(call, outcome)
        except AuditError as exc:
            raise RefusedRequestError(
                503, "audit_unavailable", "the call could not be audited"
            ) from exc
        await _send_bytes(send, reply.status_code, content, media, call.request_id)

    def _guard_output(self, call: _Call, content: bytes) -> bytes:
        try:
            document = json.loads(content)
        except ValueError:
            return content
        if call.route.kind == "json":
            return self._guard_json_output(call, document)
        if not isinstance(document, dict):
            return content
        outputs = []
        for choice in document.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            message = choice.get("message")
            holder, key = (message, "content") if isinstance(message, dict) else (choice, "text")
            text = holder.get(key) if isinstance(holder, dict) else None
            if isinstance(text, str):
                cleaned, verdicts = self._guards.inspect_output(text)
                call.verdicts += verdicts
                holder[key] = cleaned
                outputs.append(cleaned)
        call.response = "\n".join(outputs)
        usage = document.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
            call.tokens = usage["total_tokens"]
        return json.dumps(document).encode()

    def _guard_json_output(self, call: _Call, document: Any) -> bytes:
        """Output guards on the strings ``output_fields`` point at in a generic answer."""
        outputs = []
        for _, text, where in _json_texts(document, call.route.output_fields):
            cleaned, verdicts = self._guards.inspect_output(text)
            call.verdicts += verdicts
            if cleaned != text:
                if where[1]:
                    _put_json(document, where[1], cleaned)
                else:  # the answer is one JSON string
                    document = cleaned
            outputs.append(cleaned)
        call.response = "\n".join(outputs)
        call.tokens = call.estimated + _estimate_tokens(outputs) if outputs else call.estimated
        return json.dumps(document).encode()

    async def _stream(self, send: Send, headers: dict[str, str], call: _Call) -> None:
        request = self._upstream_request(
            "POST",
            call.route.prefix + call.operation,
            self._upstream_headers(headers, call),
            json.dumps(call.body).encode(),
            call,
        )
        reply = await self._send_upstream(request, call, stream=True)
        try:
            if reply.status_code >= 400:
                content = await reply.aread()
                call.status = reply.status_code
                await self._record(call, Outcome.FAILURE)
                media = reply.headers.get("content-type", "application/json")
                await _send_bytes(send, reply.status_code, content, media, call.request_id)
                return
            call.status = reply.status_code
            try:
                await self._record(call, Outcome.SUCCESS, phase="start")
            except AuditError as exc:
                raise RefusedRequestError(
                    503, "audit_unavailable", "the call could not be audited"
                ) from exc
            await self._relay(reply, send, call)
        finally:
            await reply.aclose()

    async def _relay(self, reply: httpx.Response, send: Send, call: _Call) -> None:
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream"),
                        (b"cache-control", b"no-cache"),
                        (b"x-request-id", call.request_id.encode())],
        })  # fmt: skip
        try:
            await self._relay_events(reply, send, call)
        except RefusedRequestError as refusal:
            # Headers are sent: end the stream with an error event in OpenAI's shape.
            call.verdicts += [dict(v) for v in refusal.verdicts]
            error = {"error": {"message": str(refusal), "type": "invalid_request_error",
                               "param": None, "code": refusal.code}}  # fmt: skip
            await _event(send, json.dumps(error))
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            call.notes["stopped"] = refusal.code
            try:
                await self._record(call, Outcome.DENIED, reason=f"{refusal.code}: {refusal}",
                                   phase="end")  # fmt: skip
            except AuditError:
                call.notes["audit_end"] = "failed"

    async def _relay_events(self, reply: httpx.Response, send: Send, call: _Call) -> None:
        filters: dict[int, Any] = {}
        pieces: dict[int, list[str]] = {}
        last: dict[str, Any] = {}
        async for line in _lines(reply):
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip().decode("utf-8", "replace")
            if data == "[DONE]":
                await self._flush(send, filters, pieces, last)
                await _event(send, "[DONE]")
                break
            try:
                event = json.loads(data)
            except ValueError:
                continue
            if isinstance(event.get("usage"), dict):
                total = event["usage"].get("total_tokens")
                call.tokens = total if isinstance(total, int) else call.tokens
            for choice in event.get("choices") or []:
                delta = choice.get("delta") if isinstance(choice, dict) else None
                if not isinstance(delta, dict):
                    continue
                text = delta.get("content")
                if isinstance(text, str):
                    index = int(choice.get("index", 0))
                    stream = filters.setdefault(index, self._guards.output_stream())
                    safe = stream.feed(text)
                    pieces.setdefault(index, []).append(safe)
                    delta["content"] = safe
                    last = event
            await _event(send, json.dumps(event))
        else:
            await self._flush(send, filters, pieces, last)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        call.response = "\n".join("".join(p) for _, p in sorted(pieces.items()))
        await self._reconcile(call)
        try:
            await self._record(call, Outcome.SUCCESS, phase="end")
        except AuditError:
            # The body is already sent; the start of the call was recorded, and the failure
            # to record its end is itself visible as a start without an end.
            call.notes["audit_end"] = "failed"

    async def _flush(
        self,
        send: Send,
        filters: dict[int, Any],
        pieces: dict[int, list[str]],
        last: dict[str, Any],
    ) -> None:
        for index, stream in filters.items():
            rest = stream.finish()
            if rest:
                pieces.setdefault(index, []).append(rest)
                event = {**last, "choices": [{"index": index, "delta": {"content": rest}}]}
                await _event(send, json.dumps(event))
        filters.clear()

    async def _reconcile(self, call: _Call) -> None:
        if not (call.tokens and call.who and call.estimated):
            return
        limit = self._token_limit
        key = f"id:{call.who.principal.id}:tok"
        try:
            await self._limiter.adjust(key, limit, call.tokens - call.estimated)
        except LimiterUnavailableError:
            call.notes["reconcile"] = "limiter unavailable"

    # -- audit ---------------------------------------------------------------------

    async def _record(
        self, call: _Call, outcome: Outcome, *, reason: str = "", phase: str | None = None
    ) -> None:
        who = call.who
        actor = who.principal.id if who else "anonymous"
        details: dict[str, Any] = {
            "route": call.route.name,
            "operation": call.operation,
            "model": call.model,
            "status": call.status,
            "verdicts": call.verdicts,
            "tokens": call.tokens or call.estimated,
            "latency_ms": round((time.perf_counter() - call.started) * 1000, 3),
            **{k: v for k, v in call.notes.items() if v},
        }
        if phase:
            details["phase"] = phase
        if who is not None and (call.prompt or call.response):
            details |= {"subject": actor, "prompt": call.prompt, "response": call.response}
            user = call.body.get("user")
            if isinstance(user, str):
                details["user"] = user
        event = Event(
            actor=actor,
            action=f"gateway.{call.operation.strip('/').replace('/', '.') or 'call'}",
            resource=f"endpoint:{call.model or call.route.name}",
            outcome=outcome,
            time=self._clock.now(),
            reason=reason,
            request_id=call.request_id,
            details=details,
        )
        await self._audit(event)


def _proxy_client() -> httpx.AsyncClient | None:
    """httpx's client on its own transports when the environment names an HTTP proxy
    (httpx mounts proxies only there); None otherwise, for :class:`UpstreamTransport`."""
    proxies = getproxies()  # what httpx reads for its proxy mounts
    if any(proxies.get(scheme) for scheme in ("http", "https", "all")):
        return httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0))
    return None


_USER_AGENT = f"ramparts-gateway/{__version__}"
_KNOWN_URLS = 256
"""Upstream URLs kept parsed (a route's few operations; JSON routes may forward more)."""


@functools.cache
def _timeouts(seconds: float) -> dict[str, float | None]:
    """httpx's timeout extension for a route's timeout (connect, read, write and pool)."""
    return httpx.Timeout(seconds).as_dict()


def _ip(client: Any) -> Any:
    if not client:
        return None
    import ipaddress  # noqa: PLC0415

    try:
        return ipaddress.ip_address(client[0])
    except ValueError:
        return None


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RefusedRequestError(400, "invalid_request", "the body is not JSON") from exc
    if not isinstance(body, dict):
        raise RefusedRequestError(400, "invalid_request", "the body must be a JSON object")
    return body


async def _send_bytes(
    send: Send, status: int, body: bytes, media: str, request_id: str | None = None
) -> None:
    headers = [(b"content-type", media.encode("latin-1")),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    if request_id:
        headers.append((b"x-request-id", request_id.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Send, status: int, document: Any) -> None:
    await _send_bytes(send, status, json.dumps(document).encode(), "application/json")


async def _send_error(
    send: Send, refusal: RefusedRequestError, request_id: str | None = None
) -> None:
    body = {"error": {"message": str(refusal),
                      "type": _ERROR_TYPES.get(refusal.status, "api_error"),
                      "param": None, "code": refusal.code}}  # fmt: skip
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(payload)).encode())]  # fmt: skip
    if request_id:
        headers.append((b"x-request-id", request_id.encode("latin-1")))
    headers += [(k.encode(), v.encode()) for k, v in refusal.headers.items()]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _lines(reply: httpx.Response) -> AsyncIterator[bytes]:
    """The lines of a server-sent event stream (LF, CRLF or CR endings).

    Bytes are split here rather than by ``aiter_lines``, whose incremental text decoding
    costs more than the rest of an event's relay; each line is decoded once it is known
    to carry data.
    """
    rest = b""
    async for chunk in reply.aiter_bytes():
        lines = (rest + chunk).replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield line
    if rest:
        yield rest


async def _event(send: Send, data: str) -> None:
    await send({"type": "http.response.body", "body": f"data: {data}\n\n".encode(),
                "more_body": True})  # fmt: skip

"""A small real OpenAI-compatible HTTP server with scripted replies and faults, for tests.

Pieces carry scripted token log-probabilities when a request asks (`logprob`). Faults: HTTP
errors, invalid JSON, a slow start, a cut stream, garbage; a reply that trickles
one piece every `delay` seconds, a request accepted and never answered (hang), a flood far past
max_tokens; refusing constrained output (`refuse_schema`). It also serves `/v1/embeddings`
(FakeEmbedder vectors) so real `rag` processes can index without the embedding model.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from fakes import FakeEmbedder

Mode = Literal[
    "ok", "http500", "http401", "invalid_json", "slow", "cut", "garbage", "trickle", "hang",
    "flood",
]  # fmt: skip
FLOOD_PIECES = 50_000


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on: the address of a "down" LLM."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def split_pieces(text: str) -> list[str]:
    """Split a reply into word-sized stream pieces (each keeps its leading space)."""
    pieces: list[str] = []
    for i, word in enumerate(text.split(" ")):
        pieces.append(word if i == 0 else " " + word)
    return [p for p in pieces if p]


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the owning ScriptedLLM."""

    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Keep test output quiet."""

    def do_GET(self) -> None:  # noqa: N802
        """GET /v1/models lists one model."""
        if self.path.rstrip("/") != "/v1/models":
            self._send_json(404, {"error": {"message": "not found"}})
            return
        self._send_json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    def do_POST(self) -> None:  # noqa: N802
        """POST /v1/chat/completions answers per the scripted mode and reply."""
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send_json(400, {"error": {"message": "request is not JSON"}})
            return
        owner.requests.append(request)
        owner.headers.append(dict(self.headers))
        if self.path.rstrip("/") == "/v1/embeddings":
            self._embeddings(request)
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": "not found"}})
            return
        mode = owner.mode
        if mode == "slow":
            time.sleep(owner.delay)
        if mode == "hang":  # accept, read the request, never answer
            owner.released.wait(600)
            self.close_connection = True
            return
        if owner.refuse_schema and ("json_schema" in request or "response_format" in request):
            message = "json_schema and response_format are not supported by this server"
            self._send_json(400, {"error": {"message": message, "type": "invalid_request_error"}})
            return
        if mode == "http500":
            self._send_json(500, {"error": {"message": "scripted failure", "type": "server_error"}})
            return
        if mode == "http401":  # like OpenAI, echo the key it got: clients must not show it
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {key}"
            self._send_json(401, {"error": {"message": message, "type": "invalid_request_error"}})
            return
        text = owner.next_reply(request)
        if mode == "invalid_json":
            self._send_raw(200, "application/json", b'{"choices": [ {"this is not json')
            return
        if request.get("stream") and not owner.ignore_stream:
            self._stream(text, mode, bool(request.get("logprobs")))
        else:
            self._send_json(200, owner.completion(text))

    def _stream(self, text: str, mode: Mode, request_logprobs: bool = False) -> None:
        """Send the reply as SSE chunks, or the scripted broken variant of it."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        owner = self.server.owner
        if mode == "garbage":
            self._chunk(b"data: <html>this is not json</html>\n\n")
            self._chunk(b"data: @@@ garbage @@@\n\n")
            self._end_chunks()
            return
        pieces = split_pieces(text)
        if mode == "flood":
            pieces = [" flood"] * FLOOD_PIECES
        if mode == "cut":
            pieces = pieces[: max(1, len(pieces) // 2)]
        first = {"role": "assistant", "content": ""}
        self._event(owner.chunk(first, None))
        for piece in pieces:
            if mode == "trickle":
                time.sleep(owner.delay)
            sure = owner.logprob(piece) if owner.logprob and request_logprobs else None
            try:
                self._event(owner.chunk({"content": piece}, None, (piece, sure)))
            except OSError:  # the client gave up (deadline, cap): expected
                return
        if mode == "cut":
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._event(owner.chunk({}, "stop"))
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunks()

    def _embeddings(self, request: dict[str, Any]) -> None:
        """`/v1/embeddings`: FakeEmbedder vectors, after `embed_delay` seconds."""
        owner = self.server.owner
        time.sleep(owner.embed_delay)
        texts = request.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        vectors = owner.embedder.embed_documents([str(t) for t in texts])
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        body = {"object": "list", "data": data, "model": request.get("model", "fake")}
        self._send_json(200, {**body, "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    def _event(self, payload: dict[str, Any]) -> None:
        """One SSE `data:` event holding JSON."""
        self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _chunk(self, data: bytes) -> None:
        """One HTTP chunk of a chunked body."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        """The terminating zero-length chunk."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        """A complete JSON response."""
        self._send_raw(status, "application/json", json.dumps(payload).encode())

    def _send_raw(self, status: int, content_type: str, body: bytes) -> None:
        """A complete response with a fixed body."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its ScriptedLLM."""

    daemon_threads = True
    owner: ScriptedLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early (timeouts, cut tests) are expected: stay quiet."""


class ScriptedLLM:
    """An OpenAI-compatible chat server on 127.0.0.1 whose replies and faults tests script."""

    def __init__(
        self, reply: str = "Hello from the scripted LLM.", model: str = "scripted"
    ) -> None:
        self.reply = reply
        self.replies: deque[str] = deque()
        self.responder: Callable[[dict[str, Any]], str] | None = None
        self.mode: Mode = "ok"
        self.delay = 3.0  # slow: before answering; trickle: between pieces
        self.refuse_schema = False
        self.ignore_stream = False  # answer stream=True requests with one JSON body
        self.embed_delay = 0.0
        self.logprob: Callable[[str], float] | None = None  # a piece's, when a request asks
        self.embedder = FakeEmbedder()
        self.released = threading.Event()  # ends the "hang" of hanging requests
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> ScriptedLLM:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen on a free port in a background thread."""
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the socket."""
        self.released.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, ending in /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    def next_reply(self, request: dict[str, Any]) -> str:
        """The text for this request: responder, else the queue, else the fixed reply."""
        if self.responder is not None:
            return self.responder(request)
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        return self.reply

    def chunk(
        self,
        delta: dict[str, Any],
        finish_reason: str | None,
        token: tuple[str, float | None] = ("", None),
    ) -> dict[str, Any]:
        """One `chat.completion.chunk` object; a `token` with a log-probability adds it."""
        choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        if token[1] is not None:
            entry = {"token": token[0], "logprob": token[1], "bytes": None, "top_logprobs": []}
            choice["logprobs"] = {"content": [entry]}
        return {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "choices": [choice],
        }

    def completion(self, text: str) -> dict[str, Any]:
        """One non-streaming `chat.completion` object."""
        return {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

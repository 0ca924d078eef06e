"""The LLM edge: one OpenAI-compatible client for any server, with a deadline and a size cap.

The app always talks to its LLM through the `openai` client; `rag.embedded` only decides which
server that client points at when the model runs on this machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Required, TypedDict, Unpack
from urllib.parse import urlsplit

import httpx
import openai

from rag.deadline import Expired, Pump
from rag.errors import LLMError

DEFAULT_DEADLINE = 120.0  # wall-clock seconds for one whole reply (Settings.llm_deadline)
CHARS_PER_TOKEN_CAP = 8  # a token is ~4 characters; a reply longer than 8 per token is a flood
CHAR_CAP_MARGIN = 256


class Piece(str):
    """A piece of a reply; `logprobs` holds its tokens' log-probabilities when the request asked
    for them and the server sent them (llama.cpp and OpenAI do), else ()."""

    logprobs: tuple[float, ...] = ()

    @classmethod
    def of(cls, text: str, logprobs: Iterable[float] = ()) -> Piece:
        piece = cls(text)
        piece.logprobs = tuple(logprobs)
        return piece


def reply_char_cap(max_tokens: int) -> int:
    """The most characters accepted for a reply of `max_tokens` tokens."""
    return max(1, max_tokens) * CHARS_PER_TOKEN_CAP + CHAR_CAP_MARGIN


@dataclass
class LLMStatus:
    """What the LLM is doing, for the UI's status line."""

    state: Literal["off", "loading", "ready", "error"]
    message: str


def _display_url(url: str) -> str:
    """The URL without any user:password part, safe to show and log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return parts._replace(netloc=host).geturl()


def _redact(text: str, secret: str) -> str:
    """`text` with the secret removed and cut short: server messages can echo what they got."""
    if secret:
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."


def _status_reason(err: openai.APIStatusError) -> str:
    """A short reason for an HTTP error: the server's own message if it gave one."""
    body = err.body
    message: Any = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    elif isinstance(body, str):
        message = body
    if not message:
        message = err.response.reason_phrase or "error"
    return str(message)


class StreamOptions(TypedDict, total=False):
    """stream()'s keyword options, as ChatLLM.stream documents them."""

    max_tokens: Required[int]
    temperature: float
    extra_body: dict[str, Any] | None
    deadline: float | None


class Streaming:
    """What every LLM here offers: stream() its reply in pieces, and complete() built on it
    (so the deadline and the size cap hold for both)."""

    def stream(
        self, messages: list[dict[str, str]], **options: Unpack[StreamOptions]
    ) -> Iterator[str]:
        raise NotImplementedError

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        deadline: float | None = None,
    ) -> str:
        """The whole reply as one string."""
        pieces = self.stream(
            messages, max_tokens=max_tokens, temperature=temperature, deadline=deadline
        )
        return "".join(pieces)


class ChatLLM(Streaming):
    """Talks to any OpenAI-compatible server through the `openai` client."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        retries: int,
        *,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.deadline = deadline
        self.timeout = min(timeout, deadline)  # per read: nothing may wait past the deadline
        self._secret = api_key
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "no-key",
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            max_retries=retries,
        )
        shown = urlsplit(self.base_url).hostname or self.base_url
        self.name = f"openai:{model} @ {shown}"

    def __repr__(self) -> str:
        return f"ChatLLM({self.name!r})"

    def served_models(self, timeout: float) -> list[str]:
        """The model ids the server lists at /models; LLMError when it cannot say."""
        try:
            page = self._client.with_options(timeout=timeout, max_retries=0).models.list()
            return [str(m.id) for m in page.data]
        except (openai.OpenAIError, httpx.HTTPError, ValueError, AttributeError) as err:
            raise self._error(err) from None

    def _error(self, err: BaseException) -> LLMError:
        """Translate a client or transport failure into a short user message."""
        url = _display_url(self.base_url)
        if isinstance(err, openai.APITimeoutError | httpx.TimeoutException):
            msg = f"The LLM did not answer within {self.timeout:g} s."
        elif isinstance(err, openai.APIConnectionError | httpx.ConnectError):
            msg = f"The LLM at {url} is not reachable: is it running?"
        elif isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
            msg = f"The LLM at {url} refused the API key (HTTP {err.status_code})."
        elif isinstance(err, openai.APIStatusError):
            reason = _redact(_status_reason(err), self._secret)
            return LLMError(
                f"The LLM at {url} answered HTTP {err.status_code}: {reason}",
                status=err.status_code,
            )
        elif isinstance(err, openai.APIResponseValidationError | ValueError | AttributeError):
            msg = f"The LLM at {url} sent a reply that is not valid JSON."
        elif isinstance(err, openai.APIError):
            msg = f"The LLM at {url} reported an error: {_redact(err.message, self._secret)}"
        elif isinstance(err, httpx.TransportError):
            msg = "The LLM's reply was cut off (the connection closed mid-answer)."
        else:
            msg = f"The LLM failed: {_redact(type(err).__name__, self._secret)}"
        return LLMError(msg)

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        extra_body: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]:
        """Yield the reply's text pieces as they arrive; raise LLMError on any failure.

        The whole reply (connect, retries, streaming) must end within `deadline` seconds
        (default: this client's) and stay under reply_char_cap(max_tokens) characters.
        `extra_body` adds fields to the request (a `json_schema`, `grammar` or
        `response_format` for constrained output).
        """
        seconds = self.deadline if deadline is None else deadline
        request = _Request(
            messages,
            max_tokens,
            temperature,
            extra_body,
            deadline_at=time.monotonic() + seconds,
            read_timeout=max(0.1, min(self.timeout, seconds)),
        )
        pump = Pump(lambda stop: self._reply(request, stop))
        received = 0
        try:
            for piece in pump.pieces(request.deadline_at):
                received += len(piece)
                yield piece
        except Expired:
            got = f"{received:,} characters arrived" if received else "nothing arrived"
            raise LLMError(
                f"The LLM sent no complete answer within {seconds:g} s ({got})."
            ) from None
        finally:
            pump.stop()

    def _reply(self, request: _Request, stop: threading.Event) -> Iterator[str]:
        """The blocking request and stream behind stream(); runs in the pump's thread."""
        finished = False
        got_text = False
        cap = reply_char_cap(request.max_tokens)
        received = 0
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=request.messages,  # type: ignore[arg-type]
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stream=True,
                extra_body=request.extra_body,
                timeout=httpx.Timeout(
                    request.read_timeout, connect=min(request.read_timeout, 10.0)
                ),
            )
            with response:
                if "event-stream" not in response.response.headers.get("content-type", ""):
                    # Not SSE: a server that ignored stream=True, or an error page / junk.
                    body = self._bounded_body(response.response, cap, stop)
                    text, finished = self._whole_reply(body)
                    if len(text) > cap:
                        raise LLMError(_flood_message(cap, request.max_tokens))
                    got_text = bool(text.strip())
                    if text:
                        yield text
                else:
                    for text, finish_reason, logprobs in self._pieces(response):
                        if stop.is_set() or time.monotonic() > request.deadline_at:
                            return  # the caller has given up: stop reading
                        if text:
                            received += len(text)
                            if received > cap:
                                raise LLMError(_flood_message(cap, request.max_tokens))
                            got_text = got_text or bool(text.strip())
                            yield Piece.of(text, logprobs)
                        finished = finished or bool(finish_reason)
        except LLMError:
            raise
        except (openai.OpenAIError, httpx.HTTPError, ValueError, AttributeError) as err:
            raise self._error(err) from None
        if not finished:
            raise LLMError("The LLM's reply was cut off before it finished.")
        if not got_text:
            raise LLMError("The LLM returned an empty reply.")

    @staticmethod
    def _bounded_body(response: httpx.Response, cap: int, stop: threading.Event) -> bytes:
        """A non-streamed body, refused once it is far larger than a capped reply can be."""
        limit = cap * 4 + 65_536  # UTF-8 and JSON overhead
        body = bytearray()
        for block in response.iter_bytes():
            body += block
            if len(body) > limit:
                raise LLMError(_flood_message(cap, 0))
            if stop.is_set():
                break
        return bytes(body)

    def _pieces(
        self, response: Iterable[Any]
    ) -> Iterator[tuple[str | None, str | None, list[float]]]:
        """(text, finish_reason, token logprobs) for every choice of every streamed chunk,
        checked for shape."""
        for chunk in response:
            choices = getattr(chunk, "choices", None)
            if not isinstance(choices, list):
                url = _display_url(self.base_url)
                raise LLMError(f"The LLM at {url} sent a stream chunk in an unknown format.")
            for choice in choices:
                delta = getattr(choice, "delta", None)
                text = getattr(delta, "content", None)
                tokens = getattr(getattr(choice, "logprobs", None), "content", None) or []
                yield (
                    (text if isinstance(text, str) else None),
                    getattr(choice, "finish_reason", None),
                    [t.logprob for t in tokens if isinstance(getattr(t, "logprob", None), float)],
                )

    def _whole_reply(self, body: bytes) -> tuple[str, bool]:
        """(text, finished) from a non-streamed chat completion body; LLMError if unreadable."""
        url = _display_url(self.base_url)
        try:
            data = json.loads(body)
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMError(f"The LLM at {url} sent a reply that is not valid JSON.") from None
        if not isinstance(text, str):
            raise LLMError(f"The LLM at {url} sent a reply in an unknown format.")
        return text, bool(choice.get("finish_reason"))


def _flood_message(cap: int, max_tokens: int) -> str:
    allowed = f" for max_tokens {max_tokens}" if max_tokens else ""
    return f"The LLM's reply exceeded {cap:,} characters{allowed}: cut off."


@dataclass(frozen=True)
class _Request:
    """One chat request and the monotonic time by which its reply must be complete."""

    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    extra_body: dict[str, Any] | None
    deadline_at: float
    read_timeout: float


__all__ = ["ChatLLM", "LLMStatus", "Piece", "StreamOptions", "Streaming", "reply_char_cap"]

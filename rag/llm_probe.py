"""Ask the configured LLM one tiny question: is it reachable, which model, is constrained
output (a JSON schema) accepted? For `rag doctor`; every request runs under the deadline."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from rag.embedded import EmbeddedLLM
from rag.errors import LLMError
from rag.llm import ChatLLM

PROBE_DEADLINE = 30.0  # at most this long per probe request (or the LLM's own, if shorter)
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}
HELLO = [{"role": "user", "content": "Reply with the single word: ok"}]
JSON_HELLO = [{"role": "user", "content": 'Reply with the JSON object {"ok": true} only.'}]
# How servers take a schema: the OpenAI way first (OpenAI, vLLM), then llama.cpp's own field.
SCHEMA_WAYS: list[tuple[str, dict[str, Any]]] = [
    (
        "response_format json_schema",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "probe", "schema": PROBE_SCHEMA, "strict": True},
            }
        },
    ),
    ("json_schema", {"json_schema": PROBE_SCHEMA}),
]


@dataclass(frozen=True)
class Probe:
    """What one round of probing found out."""

    reachable: bool
    detail: str  # reachability, latency, model name: one line
    constrained: str = ""  # the way a schema was accepted and followed ("" if none)
    constrained_detail: str = ""


def probe(llm: ChatLLM | EmbeddedLLM, deadline: float | None = None) -> Probe:
    """One tiny plain request, the model list, then a schema-constrained request."""
    seconds = min(llm.deadline, PROBE_DEADLINE) if deadline is None else deadline
    started = time.monotonic()
    try:
        reply = llm.complete(HELLO, max_tokens=4, deadline=seconds)
    except LLMError as err:
        return Probe(False, f"{llm.name}: {err}")
    took = time.monotonic() - started
    detail = f"{llm.name}: answered {' '.join(reply.split())[:20]!r} in {took:.1f} s; "
    detail += _model_line(llm, seconds)
    way, how = _constrained(llm, seconds)
    return Probe(True, detail, way, how)


def _model_line(llm: ChatLLM | EmbeddedLLM, seconds: float) -> str:
    """Which model the server says it serves, and whether it is the configured one."""
    try:
        served = llm.served_models(timeout=seconds)
    except LLMError:
        return "the server does not list its models"
    if not served:
        return "the server lists no models"
    wanted = getattr(llm, "model", None)
    shown = ", ".join(served[:5]) + (" …" if len(served) > 5 else "")
    if wanted and wanted not in served and not isinstance(llm, EmbeddedLLM):
        return f"model {wanted!r} is not among those it serves ({shown})"
    return f"model: {shown}"


def _constrained(llm: ChatLLM | EmbeddedLLM, seconds: float) -> tuple[str, str]:
    """(way, detail): the first schema form the server accepts and follows."""
    refusals = []
    for way, extra in SCHEMA_WAYS:
        try:
            pieces = llm.stream(JSON_HELLO, max_tokens=16, extra_body=extra, deadline=seconds)
            reply = "".join(pieces)
        except LLMError as err:
            refusals.append(f"{way}: {err}")
            continue
        if _follows_schema(reply):
            return way, f"accepted ({way}): the reply followed the schema"
        refusals.append(f"{way}: accepted but not followed (reply {reply[:40]!r})")
    return "", "not accepted: " + "; ".join(refusals) + ". Answers use the free-text path."


def _follows_schema(reply: str) -> bool:
    try:
        data = json.loads(reply)
    except ValueError:
        return False
    return isinstance(data, dict) and set(data) == {"ok"} and isinstance(data["ok"], bool)

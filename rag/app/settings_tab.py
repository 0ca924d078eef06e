"""The Settings tab: retrieval options the Chat and Evaluate tabs read, and the LLM's status."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from rag.answering.engine import Engine
from rag.app import chat


@dataclass
class Options:
    """The Settings tab's inputs, created unrendered so other tabs can wire them first."""

    top_k: gr.Slider
    hybrid: gr.Checkbox
    sources: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox


def make_options(engine: Engine) -> Options:
    """The option components, not yet placed on the page (`build_tab` places them)."""
    settings = engine.settings
    return Options(
        top_k=gr.Slider(
            1, chat.TOP_K_MAX, value=settings.top_k, step=1, label="Passages", render=False
        ),
        hybrid=gr.Checkbox(
            value=settings.hybrid, label="Hybrid search (keywords + meaning)", render=False
        ),
        sources=gr.Dropdown(
            choices=engine.store.sources(),
            multiselect=True,
            label="Only these sources (empty: all)",
            render=False,
        ),
        since=gr.Textbox(label="From date (YYYY-MM-DD)", placeholder="2012-01-01", render=False),
        until=gr.Textbox(label="Until date (YYYY-MM-DD)", placeholder="2014-12-31", render=False),
    )


def build_tab(engine: Engine, options: Options, llm_line: gr.Markdown) -> None:
    """Place the options, and keep both LLM status lines fresh while the model loads."""
    status_line, _ = chat.llm_status(engine)
    with gr.Tab("Settings", id="settings"):
        options.top_k.render()
        options.hybrid.render()
        options.sources.render()
        with gr.Row():
            options.since.render()
            options.until.render()
        llm_info = gr.Markdown(status_line)
        timer = gr.Timer(2.0, active=True)

    def tick() -> tuple[str, str, gr.Timer]:
        line, loading = chat.llm_status(engine)
        return line, line, gr.Timer(active=loading)

    timer.tick(tick, None, [llm_line, llm_info, timer], api_name=False, show_progress="hidden")

"""The Library tab's layout and wiring: the article table, uploads with source and date, removal.

The handlers are the plain functions of `library.py`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.answering.engine import Engine
from rag.app import library
from rag.app.settings_tab import Options

INDEX_CONCURRENCY_ID = "index"


def build_tab(demo: gr.Blocks, engine: Engine, options: Options) -> None:
    """The Library tab; indexing shows one progress indicator, on the report only."""
    settings = engine.settings
    with gr.Tab("Library", id="library"):
        table = gr.Dataframe(
            value=library.library_rows(engine),
            headers=library.LIBRARY_HEADERS,
            interactive=False,
            label="Indexed articles",
            elem_id="library-table",
            wrap=True,
        )
        uploads = gr.File(
            label=f"Add articles (txt, md, html, pdf, jsonl; up to "
            f"{settings.max_upload_mb:g} MB each)",
            file_count="multiple",
            file_types=list(library.UPLOAD_SUFFIXES),
            type="filepath",
            elem_id="uploads",
        )
        with gr.Row():
            source = gr.Textbox(
                label="Source", placeholder="blank: what each file says", elem_id="upload-source"
            )
            date = gr.Textbox(
                label="Date (YYYY-MM-DD)",
                placeholder="blank: what each file says",
                elem_id="upload-date",
            )
        index_btn = gr.Button("Index the files", variant="primary", elem_id="index")
        report = gr.HTML(library.report_html(engine, None, []), elem_id="index-report")
        with gr.Row():
            to_remove = gr.Dropdown(
                choices=library.article_choices(engine), label="Remove an article", scale=4
            )
            remove_btn = gr.Button("Remove", variant="stop", scale=1)

    def defaults(files: list[str] | None) -> tuple[str, str]:
        if not files or len(files) != 1:
            return "", ""
        return library.upload_defaults(files, settings.max_upload_mb)

    uploads.change(defaults, [uploads], [source, date], api_name=False, queue=False)

    def upload(
        files: list[str] | None,
        source: str,
        date: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Any:
        html, rows = library.index_uploads(engine, files, progress, source or "", date or "")
        return (
            html,
            rows,
            gr.Dropdown(choices=library.article_choices(engine), value=None),
            gr.Dropdown(choices=engine.store.sources()),
            None if files else gr.skip(),
        )

    index_btn.click(
        upload,
        [uploads, source, date],
        [report, table, to_remove, options.sources, uploads],
        api_name="index",
        concurrency_limit=1,
        concurrency_id=INDEX_CONCURRENCY_ID,
        show_progress_on=[report],
    )

    def remove(article_id: str | None) -> Any:
        message, rows = library.remove_article(engine, article_id)
        return message, rows, gr.Dropdown(choices=library.article_choices(engine), value=None)

    remove_btn.click(remove, [to_remove], [report, table, to_remove], api_name=False)

    def on_load() -> tuple[Any, ...]:
        return (
            library.library_rows(engine),
            gr.Dropdown(choices=library.article_choices(engine)),
            gr.Dropdown(choices=engine.store.sources()),
        )

    demo.load(on_load, None, [table, to_remove, options.sources], api_name=False)

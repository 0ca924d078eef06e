"""The Chat tab's layout and wiring: past conversations, the chat, the sources and the viewer.

The handlers are the plain functions of `chat.py`; this module only places components and
connects their events.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.answering.engine import Engine
from rag.app import chat, history, panels
from rag.app.chat import ChatView, Session
from rag.app.settings_tab import Options
from rag.chat import Conversations

ANSWER_CONCURRENCY_ID = "answer"


def build_tab(
    demo: gr.Blocks,
    engine: Engine,
    conversations: Conversations,
    browser_id: gr.BrowserState,
    options: Options,
) -> None:
    """The Chat tab; on page load it reopens the browser's last conversation."""
    with gr.Tab("Chat", id="chat"), gr.Row():
        session = gr.State(chat.new_session())
        with gr.Column(scale=1, min_width=200):
            new_btn = gr.Button("New chat", variant="secondary", elem_id="new-chat")
            search = gr.Textbox(
                placeholder="Search conversations",
                show_label=False,
                max_lines=1,
                elem_id="chat-search",
            )
            past = gr.Radio(choices=[], label="Past conversations", elem_id="past-chats")
            title = gr.Textbox(
                placeholder="New name for this chat",
                show_label=False,
                max_lines=1,
                elem_id="chat-title",
            )
            with gr.Row():
                rename_btn = gr.Button("Rename", size="sm", elem_id="rename-chat")
                delete_btn = gr.Button("Delete", size="sm", variant="stop", elem_id="delete-chat")
            export_btn = gr.Button("Export (Markdown, JSON)", size="sm", elem_id="export-chat")
            exported = gr.File(
                label="Exported conversation",
                file_count="multiple",
                interactive=False,
                visible=False,
                elem_id="export-files",
            )
            chat_note = gr.Markdown("", elem_id="chat-note")
        with gr.Column(scale=4):
            chatbot = gr.Chatbot(
                value=[],
                label="Answers",
                elem_id="chat",
                height=480,
                sanitize_html=True,
                render_markdown=False,
                latex_delimiters=[],
                allow_tags=False,
                feedback_options=None,
                buttons=[],
            )
            with gr.Row(elem_id="ask-row"):
                question = gr.Textbox(
                    placeholder="Ask about the articles…",
                    show_label=False,
                    scale=5,
                    min_width=200,
                    elem_id="question",
                    max_lines=4,
                )
                ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=64, elem_id="ask")
            with gr.Column(elem_id="library-hint"):  # the line above, the examples below it
                hint = gr.Markdown("", elem_id="library-line")
                with gr.Row():
                    examples = [
                        gr.Button("", size="sm", visible=False, elem_classes=["rag-example"])
                        for _ in range(chat.EXAMPLES)
                    ]
        with gr.Column(scale=3, elem_id="side"):
            sources = gr.HTML(
                panels.sources_html(None, 0),
                elem_id="sources",
                js_on_load=panels.SOURCES_JS,
                max_height=640,
            )
            viewer = gr.HTML(panels.viewer_empty(), elem_id="viewer", js_on_load=panels.VIEWER_JS)

    def ask(
        question: str,
        state: Session,
        browser_id: str,
        top_k: float,
        hybrid: bool,
        sources: list[str] | None,
        since: str,
        until: str,
    ) -> Iterator[ChatView]:
        yield from chat.respond(
            engine, conversations, question, state, browser_id, top_k, hybrid, sources,
            since, until,
        )  # fmt: skip

    def listed(bid: str, query: str, state: Session | None) -> Any:
        choices = history.chat_choices(conversations, bid, query or "")
        current = (state or {}).get("chat_id")
        shown = current in {chat_id for _, chat_id in choices}
        return gr.Radio(choices=choices, value=current if shown else None)

    inputs = [question, session, browser_id, options.top_k, options.hybrid, options.sources]
    inputs += [options.since, options.until]

    def send(trigger: Any, api_name: str | bool = False) -> None:
        """Close the viewer and answer the question box (its own status line, no timer)."""
        trigger(panels.viewer_empty, None, [viewer], api_name=False, queue=False)
        trigger(
            ask,
            inputs,
            [chatbot, sources, session, question, browser_id],
            api_name=api_name,
            concurrency_limit=engine.settings.concurrency,
            concurrency_id=ANSWER_CONCURRENCY_ID,
            show_progress="hidden",  # Gradio's "processing | 0.2s" would cover our status
        ).then(listed, [browser_id, search, session], [past], queue=False, api_name=False)

    send(question.submit)
    send(ask_btn.click, "ask")
    for example in examples:  # a click asks the example question
        send(example.click(lambda q: q, [example], [question], queue=False, api_name=False).then)

    def on_source_click(state: Session, evt: gr.EventData) -> tuple[str, str]:
        data = getattr(evt, "_data", None) or {}
        return chat.open_ref(engine, str(data.get("ref", "")), state)

    sources.click(
        on_source_click,
        [session],
        [viewer, sources],
        api_name=False,
        concurrency_limit=None,
        show_progress="hidden",
    )
    fresh = [chatbot, sources, viewer, session, past]
    for start_over in (new_btn.click, chatbot.clear):
        start_over(chat.new_chat, None, fresh, api_name=False, queue=False)

    def reopen(chat_id: str | None, bid: str) -> tuple[Any, ...]:
        return history.open_chat(conversations, chat_id, bid)

    past.input(reopen, [past, browser_id], fresh[:4], api_name=False, show_progress="hidden")
    search.change(listed, [browser_id, search, session], [past], api_name=False)

    def rename(state: Session, bid: str, new_title: str) -> tuple[str, str]:
        return history.rename_chat(conversations, state, bid, new_title), ""

    rename_btn.click(rename, [session, browser_id, title], [chat_note, title], api_name=False).then(
        listed, [browser_id, search, session], [past], queue=False, api_name=False
    )

    def delete(state: Session, bid: str) -> tuple[Any, ...]:
        note = history.delete_chat(conversations, state, bid)
        if note != "Deleted.":
            return (note, *[gr.skip()] * 5)
        return (note, *chat.new_chat())

    delete_btn.click(delete, [session, browser_id], [chat_note, *fresh], api_name=False).then(
        listed, [browser_id, search, session], [past], queue=False, api_name=False
    )

    def export(state: Session) -> tuple[Any, str]:
        files = history.export_chat(state)
        note = "" if files else "Nothing to export yet: ask a question first."
        return gr.File(value=files, visible=files is not None), note

    export_btn.click(export, [session], [exported, chat_note], api_name=False)

    def on_load(bid: str) -> tuple[Any, ...]:
        bid = bid or secrets.token_urlsafe(16)
        chat_id = history.last_chat_id(conversations, bid)
        messages, panel, view, state = history.open_chat(conversations, chat_id, bid)
        choices = history.chat_choices(conversations, bid)
        return bid, gr.Radio(choices=choices, value=chat_id), messages, panel, view, state

    demo.load(
        on_load,
        [browser_id],
        [browser_id, past, chatbot, sources, viewer, session],
        api_name=False,
        show_progress="hidden",  # a busy queue would put Gradio's timer over chat and sources
    )

    def on_hint() -> tuple[Any, ...]:
        line, questions = chat.library_hint(engine)
        shown = [gr.Button(q, visible=True) for q in questions]
        return line, *shown, *[gr.Button(visible=False)] * (len(examples) - len(shown))

    demo.load(on_hint, None, [hint, *examples], api_name=False, queue=False)

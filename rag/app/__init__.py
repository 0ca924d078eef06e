"""The web app's faces on the core pipeline: each tab's layout next to its plain handlers.

`<tab>_tab.py` builds a tab with Gradio and wires it; the handlers are plain functions tests
call directly: chat and history (Chat tab), library, evaluate, eval_sets and eval_jobs
(Evaluate tab, and the pipeline `rag eval` shares). render, panels and eval_html make the
HTML, style the CSS, export the Markdown/JSON; security decides who may reach the app.
"""

"""The web app's faces on the core pipeline: tab handlers and HTML rendering, without Gradio.

`ui.py` lays the tabs out and wires them to these plain functions; tests call them directly.
chat: the Chat and Settings tabs; library: the Library tab; evaluate: the Evaluate tab (and
the pipeline `rag eval` shares); render: all HTML; security: who may reach the app.
"""

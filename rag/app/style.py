"""The app's theme and CSS: one palette for the light theme and one for `.dark` (Gradio follows
the OS).

Every highlight, mark and badge sets both its text and background colour, each pair with a
contrast ratio of at least 4.5:1 (checked in the browser test), so neither theme washes it out.
"""

from __future__ import annotations

import gradio as gr

# (selector, light text, light background, dark text, dark background)
PALETTE = (
    ("mark.rag-support", "#1f2937", "#fde68a", "#fef3c7", "#854d0e"),
    ("mark.rag-focus", "#1e3a8a", "#dbeafe", "#e0f2fe", "#1e3a8a"),
    (".rag-badge-flag", "#991b1b", "#fee2e2", "#fee2e2", "#7f1d1d"),
    (".rag-badge-left", "#1f2937", "#e5e7eb", "#f3f4f6", "#374151"),
    (".rag-badge-conflict", "#9a3412", "#ffedd5", "#ffedd5", "#7c2d12"),
    (".rag-badge-pending", "#1e3a8a", "#dbeafe", "#e0f2fe", "#1e3a8a"),
)


def _palette_css() -> str:
    light = "".join(f"{s} {{ color: {c}; background: {b}; }}\n" for s, c, b, _, _ in PALETTE)
    dark = "".join(f".dark {s} {{ color: {c}; background: {b}; }}\n" for s, _, _, c, b in PALETTE)
    return light + dark


BASE_CSS = """
.rag-answer p { margin: 0 0 .4em 0; }
.rag-cite { font-weight: 600; text-decoration: none; cursor: pointer; padding: 0 1px;
  color: var(--link-text-color, #2563eb); }
.rag-cite:hover { text-decoration: underline; }
.rag-unsupported { text-decoration: underline dotted; text-underline-offset: 3px; }
.rag-badge { display: inline-block; font-size: .78em; font-weight: 600; border-radius: 4px;
  padding: 0 .35em; margin: 0 .2em; font-style: normal; white-space: nowrap; }
.rag-reason { font-size: .85em; font-style: italic; }
.rag-why { margin-top: .4em; font-size: .92em; }
.rag-why summary { cursor: pointer; }
.rag-left-out { margin: .2em 0 0 0; padding-left: 1.2em; }
.rag-legend { font-size: .8em; margin-top: .5em; opacity: .95; }
.rag-confidence { font-size: .85em; color: var(--body-text-color-subdued, #6b7280); }
.rag-tools { font-size: .85em; margin-top: .4em; }
.rag-copytext { display: none; }
.rag-query { font-size: .85em; color: var(--body-text-color-subdued, #6b7280);
  margin-bottom: .3em; }
.rag-notice { font-size: .85em; border-left: 3px solid #d97706; padding-left: .5em;
  margin-bottom: .4em; }
.rag-abstain { border: 1px dashed #d97706; border-radius: 6px; padding: .5em .7em; }
.rag-abstain-head { font-weight: 600; }
.rag-sources { font-size: .92em; }
.rag-src { border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 6px;
  padding: .45em .6em; margin: .4em 0; cursor: pointer; }
.rag-src:hover { border-color: var(--color-accent, #f97316); }
.rag-src.rag-active { border-color: var(--color-accent, #f97316); border-width: 2px; }
.rag-src-title { font-weight: 600; }
.rag-src-meta { font-size: .85em; color: var(--body-text-color-subdued, #6b7280); }
.rag-passage { margin: .3em 0 0 0; padding-left: .6em; border-left: 3px solid #d1d5db;
  white-space: pre-wrap; }
.rag-article { white-space: pre-wrap; max-height: 65vh; overflow-y: auto; line-height: 1.5;
  padding: .5em; border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 6px; }
.rag-viewer-head { margin-bottom: .4em; }
.rag-back { font-weight: 600; cursor: pointer; }
.rag-empty { color: var(--body-text-color-subdued, #6b7280); font-style: italic; }
.rag-status { color: var(--body-text-color-subdued, #6b7280); font-style: italic; }
#side:has(#viewer .rag-viewer-open) #sources { display: none; }
#side:not(:has(#viewer .rag-viewer-open)) #viewer { display: none; }
#past-chats .wrap { flex-direction: column; flex-wrap: nowrap; gap: 2px; }
#past-chats label { width: 100%; max-width: 100%; min-width: 0; }
#past-chats label span { white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  display: block; min-width: 0; }
#question textarea::placeholder { white-space: nowrap; }
#ask-row { flex-wrap: nowrap; }
"""

EVAL_CSS = """
.rag-eval-report { width: 100%; height: 75vh; border-radius: 6px; background: #fff;
  border: 1px solid var(--border-color-primary, #e5e7eb); }
.rag-metrics { display: flex; flex-wrap: wrap; gap: .5em; margin: .5em 0; }
.rag-metric { border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 6px;
  padding: .35em .7em; min-width: 7em; cursor: help; }
.rag-metric-value { font-size: 1.4em; font-weight: 600; font-variant-numeric: tabular-nums; }
.rag-metric-name { font-size: .85em; color: var(--body-text-color-subdued, #6b7280); }
.rag-compare { overflow-x: auto; max-width: 100%; }
.rag-compare table { border-collapse: collapse; margin: .4em 0; }
.rag-compare th, .rag-compare td { border: 1px solid var(--border-color-primary, #e5e7eb);
  padding: 2px 8px; text-align: left; }
.rag-compare td.num { text-align: right; font-variant-numeric: tabular-nums; }
.rag-compare .small { font-size: .85em; color: var(--body-text-color-subdued, #6b7280); }
.rag-progress { width: 100%; height: 10px; }
"""

CSS = BASE_CSS + _palette_css() + EVAL_CSS


def theme() -> gr.themes.Base:
    """Gradio's default theme with its font's bold taken from the full Bold file: the SemiBold
    file Gradio ships holds 'A', 'B' and Cyrillic alone, so a bold title mixed two fonts
    ('ᴀgainst', 'VRᴀE'). Weight 600 now renders with the 700 face."""
    font = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
    return gr.themes.Default(font=[font, "ui-sans-serif", "system-ui", "sans-serif"])

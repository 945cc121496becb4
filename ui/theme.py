"""The chat's look: a Gradio theme with fonts served by the app itself (no CDN), and the CSS for answers."""

from __future__ import annotations


def make_theme():
    import gradio as gr

    return gr.themes.Soft(
        primary_hue="indigo",
        secondary_hue="amber",
        neutral_hue="slate",
        font=(gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"),
        font_mono=(gr.themes.LocalFont("IBM Plex Mono", weights=(400, 600)), "ui-monospace", "monospace"),
    ).set(
        body_background_fill="#f6f7fb",
        block_radius="12px",
    )


CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto !important; }
#qa-header h1 { font-size: 1.6rem; font-weight: 700; margin: 0.2rem 0 0.1rem 0; }
#qa-header p { color: #475569; margin: 0 0 0.4rem 0; }
#qa-header .qa-badge { display: inline-block; font-size: 0.78rem; padding: 0.05rem 0.5rem; margin-right: 0.35rem;
  border-radius: 999px; background: #e0e7ff; color: #3730a3; }
.qa-reply { line-height: 1.5; }
.qa-reply p { margin: 0.25rem 0; }
.qa-answer { font-size: 1.15rem; }
.qa-answer strong { color: #1e1b4b; }
.qa-notfound strong { color: #9a3412; }
.qa-ref { color: #4f46e5; font-size: 0.85rem; vertical-align: super; }
.qa-sentence { margin: 0.35rem 0 0.45rem 0 !important; padding: 0.35rem 0.75rem !important;
  border-left: 3px solid #818cf8 !important; background: #eef2ff; border-radius: 6px; font-style: normal !important; }
.qa-reply mark { background: #fde68a; color: inherit; padding: 0 0.1rem; border-radius: 3px; }
.qa-meta, .qa-alt-conf { color: #64748b; font-size: 0.85rem; }
.qa-conf { color: #334155; }
.qa-notice { color: #92400e; font-size: 0.85rem; }
.qa-followup { color: #4f46e5; font-size: 0.85rem; }
.qa-error { color: #b91c1c; }
.qa-cites { margin-top: 0.4rem; }
.qa-cites-head { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: #64748b; margin-bottom: 0.15rem !important; }
.qa-cite { border: 1px solid #e2e8f0; border-radius: 8px; padding: 0.25rem 0.6rem; margin: 0.25rem 0; background: #ffffff; }
.qa-cite summary { cursor: pointer; font-size: 0.92rem; }
.qa-cite .qa-n { color: #4f46e5; font-weight: 700; }
.qa-cite .qa-title { font-weight: 600; }
.qa-cite .qa-where { color: #64748b; font-size: 0.82rem; margin-left: 0.25rem; }
.qa-guess { border: 1px dashed #cbd5e1; border-radius: 8px; padding: 0.2rem 0.6rem; margin: 0.35rem 0; color: #475569; }
.qa-guess summary { cursor: pointer; font-size: 0.88rem; color: #64748b; }
.qa-guess-sentence { margin: 0.3rem 0 !important; padding: 0.3rem 0.7rem !important; border-left: 3px solid #cbd5e1 !important; font-style: normal !important; }
.qa-passage { font-size: 0.92rem; padding: 0.4rem 0.2rem 0.3rem 0.2rem; color: #1f2937; max-height: 22rem; overflow-y: auto; }
.qa-articles ol { padding-left: 1.3rem; margin: 0.2rem 0; }
.qa-articles li { margin: 0.3rem 0; }
.qa-art-title { display: block; font-weight: 600; line-height: 1.25; }
.qa-art-meta { display: block; color: #64748b; font-size: 0.8rem; }
.qa-count { color: #475569; font-size: 0.85rem; margin: 0; }
.qa-uploads { list-style: none; padding-left: 0; margin: 0.2rem 0; font-size: 0.88rem; }
.qa-uploads .qa-ok { color: #166534; }
.qa-uploads .qa-bad { color: #b91c1c; }
footer { display: none !important; }
"""

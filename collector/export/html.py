"""``index.html``: the period's SoA, per control its status timeline, continuity, evidence,
manual evidence and exceptions. Jinja2 with autoescaping; inline CSS, no scripts, no external
assets, so it reads offline. Rendered as a stream into the package."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from collector.export.package import PackageWriter

__all__ = ["render_index"]


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("collector.export", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_index(writer: PackageWriter, context: dict[str, Any]) -> None:
    """Render ``index.html.j2`` chunk by chunk into ``index.html``."""
    template = _environment().get_template("index.html.j2")
    with writer.open("index.html") as f:
        for chunk in template.generate(**context):
            f.write(chunk.encode())

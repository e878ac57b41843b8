"""Bar charts drawn on the server as SVG (pygal), inlined into the statistics pages.

No chart JavaScript and nothing the page's Content-Security-Policy would refuse: pygal's own
``<script>`` (its configuration, always written) and ``<style>`` are taken out, its tooltips too
(they need a script and an inline style); ``static/css/app.css`` draws the rest. The SVG scales
to the width of the screen, and every chart has its numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

import pygal
from markupsafe import Markup
from pygal.style import Style

SVG = "http://www.w3.org/2000/svg"
#: elements taken out of pygal's SVG: scripts, styles, and the titles and descriptions its
#: tooltips read (the chart has an aria-label, and its numbers are in the table beside it)
DROPPED = {f"{{{SVG}}}{tag}" for tag in ("script", "style", "title", "desc")}
FONT = 18
#: the longest label drawn whole, in characters
LONGEST = 12
STYLE = Style(
    font_family='system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif',
    label_font_size=FONT,
    major_label_font_size=FONT,
    value_font_size=FONT,
    title_font_size=FONT + 2,
    tooltip_font_size=FONT,
    legend_font_size=FONT,
    colors=("#b71c1c",),
)


class UnsafeChart(ValueError):
    """What pygal drew still holds a script: never inlined."""


def bar(label: str, names: Sequence[str], values: Sequence[int]) -> Markup:
    """A horizontal bar per name (long Chinese names stay readable on a phone), each with its
    value printed; ``label`` names the chart for screen readers."""
    chart = pygal.HorizontalBar(
        style=STYLE,
        width=420,
        height=max(160, 60 + 44 * len(names)),
        show_legend=False,
        print_values=True,
        disable_xml_declaration=True,
        js=[],
        no_prefix=True,
        margin=8,
        margin_left=8 + _wide_extra(names),
        truncate_label=LONGEST,
    )
    chart.x_labels = list(names)
    chart.add(label, list(values))
    return Markup(clean(chart.render(is_unicode=True), label))


def _wide_extra(names: Sequence[str]) -> int:
    """The room pygal leaves for labels counts every character as 0.6 of the font size; a
    Chinese character takes a whole one, so give the longest label the rest."""
    wide = max((sum(1 for c in n[:LONGEST] if ord(c) > 0x2E80) for n in names), default=0)
    return round(0.45 * FONT * wide)


def clean(svg: str, label: str) -> str:
    """pygal's SVG without scripts, styles, titles, tooltips or comments, named by ``label``."""
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in DROPPED or "tooltip" in child.get("class", "").split():
                parent.remove(child)
    for element in root.iter():
        # plain names, whatever prefix another module (qrcode) registered for the namespace;
        # namespaced attributes (pygal's xlink links) go, and inline styles (the CSP refuses)
        element.tag = element.tag.removeprefix(f"{{{SVG}}}")
        for key in [k for k in element.attrib if k.startswith("{") or k == "style"]:
            del element.attrib[key]
    root.attrib.pop("id", None)
    root.set("class", "chart")
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("focusable", "false")
    root.set("xmlns", SVG)
    text = ET.tostring(root, encoding="unicode")
    if "<script" in text.lower() or "javascript:" in text.lower():
        raise UnsafeChart(label)
    return text

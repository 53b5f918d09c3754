"""Built-in report renderers: Markdown, standalone accessible HTML with inline SVG charts,
Word (.docx) and Excel (.xlsx). A renderer receives the rendered Markdown, the report context
and the output path.

HTML: Markdown is converted with raw HTML disabled (anything in the data is escaped); charts
are inline SVG with a title and description, each followed by a table of its data; RAG is
always shown as a word as well as a colour; a print stylesheet keeps tables whole.
"""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path
from typing import Any

from dat.core.api import DataError, hookimpl, safe_cell

#: the most Markdown characters the .html, .docx and .xlsx renderers read (checked before
#: parsing: markdown-it reads its worst input, ``![`` repeated, at about 100,000 characters a
#: second, so this bounds any parse to a few seconds)
OFFICE_MAX_MARKDOWN = 500_000
#: the most paragraphs, headings, list items, tables, code blocks and thematic breaks a .docx
#: report may hold (the message keeps its shorter wording)
DOCX_MAX_BLOCKS = 20_000
#: the most table cells (rows x columns, all tables together) a .docx report may hold
DOCX_MAX_TABLE_CELLS = 50_000
#: the most cells the report's own tables may put in a .xlsx workbook (all sheets together)
XLSX_MAX_CELLS = 100_000
#: Excel's own limit of columns in a sheet
XLSX_MAX_COLUMNS = 16_384
#: the most tables a .xlsx report may hold: each becomes a sheet, and openpyxl checks every new
#: sheet's title against all the others (10,000 one-cell tables took 21 s)
XLSX_MAX_TABLES = 250
#: Excel's own limit of characters in a cell (openpyxl would silently cut a longer one)
XLSX_MAX_CELL_CHARS = 32_767

#: what XML 1.0 cannot carry (C0 controls but tab, newline and CR; lone surrogates; the
#: noncharacters U+FFFE and U+FFFF, which lxml and openpyxl refuse): written as U+FFFD in
#: every .html, .docx and .xlsx (U+FDD0-U+FDEF and U+1FFFE... are legal XML and kept)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)

RAG_COLOURS = {"R": "#c0392b", "A": "#e67e22", "G": "#2e7d32"}
RAG_WORDS = {"R": "Red", "A": "Amber", "G": "Green"}


def _md():
    """The Markdown parser of .html and .docx (and the checks of .xlsx): markdown-it, which
    silently drops the rest of a block nested deeper than its ``maxNesting`` (20 quotes or
    lists inside each other); that is refused here instead (:class:`RenderLimitError`)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokenize = md.block.tokenize
    limit = md.options.maxNesting

    def checked(state: Any, start: int, end: int) -> None:
        if state.level >= limit:
            line = state.skipEmptyLines(start)
            if line < end and state.sCount[line] >= state.blkIndent:
                # markdown-it counts a list (and its item) as two levels: say what the user wrote
                lists = quotes = 0
                for t in state.tokens:
                    if t.type in ("bullet_list_open", "ordered_list_open", "bullet_list_close",
                                  "ordered_list_close"):
                        lists += t.nesting
                    elif t.type in ("blockquote_open", "blockquote_close"):
                        quotes += t.nesting
                raise RenderLimitError(
                    f"the report has Markdown nested too deeply at line {line + 1}: {lists} lists and "
                    f"{quotes} block quotes inside each other reach the limit of {limit} levels (a list "
                    "counts 2, a quote 1); write .md instead")
        tokenize(state, start, end)

    md.block.tokenize = checked  # type: ignore[method-assign]
    return md


# -- Markdown ---------------------------------------------------------------------------------

def render_markdown(*, markdown: str, context: dict, path: Path, title: str) -> None:
    Path(path).write_text(markdown, encoding="utf-8")


# -- HTML -------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.45}
table{border-collapse:collapse;margin:1rem 0;width:100%}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eee}figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.4rem}
.rag{font-weight:700;padding:0 .3rem;border-radius:.2rem;color:#fff}.rag-R{background:#c0392b}.rag-A{background:#b35900}.rag-G{background:#2e7d32}
details{margin:.5rem 0}.charts h2{margin-top:2.5rem}
@media print{body{max-width:none;margin:0}figure,table,tr{break-inside:avoid}details{display:block}a{color:inherit}}
"""  # noqa: E501 - the CSS is written into every report as it stands; wrapping it would change the HTML


def _esc(x: Any) -> str:
    if isinstance(x, str):
        x = _xml_text(x)
    return htmllib.escape("" if x is None else str(x))


def _num(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return f"{v:,}" if isinstance(v, int) else f"{float(v):,.4g}"


def _data_table(caption: str, headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th scope=\"col\">{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f"<details open><summary>Data for: {_esc(caption)}</summary>"
            f"<table><caption class=\"visually-hidden\">{_esc(caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>")


def _figure(chart_id: str, title: str, desc: str, svg_body: str, width: int, height: int, table: str) -> str:
    return (f'<figure class="chart" id="{chart_id}"><figcaption id="{chart_id}-t">{_esc(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-st {chart_id}-d">'
            f'<title id="{chart_id}-st">{_esc(title)}</title><desc id="{chart_id}-d">{_esc(desc)}</desc>'
            f"{svg_body}</svg>{table}</figure>")


def rag_chart(card: dict) -> str:
    rows = card.get("rows") or []
    counts = {k: sum(1 for r in rows if r.get("rag") == k) for k in ("R", "A", "G")}
    unrated = sum(1 for r in rows if not r.get("rag"))
    total = max(1, sum(counts.values()))
    width, bar_h = 560, 28
    parts, y = [], 10
    for k in ("R", "A", "G"):
        w = int(400 * counts[k] / total)
        parts.append(f'<text x="0" y="{y + 19}" font-size="14">{RAG_WORDS[k]}</text>'
                     f'<rect x="70" y="{y}" width="{w}" height="{bar_h}" fill="{RAG_COLOURS[k]}"/>'
                     f'<text x="{76 + w}" y="{y + 19}" font-size="14">{counts[k]} ({RAG_WORDS[k]})</text>')
        y += bar_h + 10
    desc = ", ".join(f"{counts[k]} {RAG_WORDS[k]}" for k in ("R", "A", "G")) + f"; {unrated} not rated"
    table_rows = [[f'<span class="rag rag-{r["rag"]}">{r["rag"]}</span> {RAG_WORDS[r["rag"]]}'
                   if r.get("rag") else "not rated",
                   _esc(r["name"]), _esc(r["code"]), _num(r.get("value")), _num(r.get("target"))] for r in rows]
    table = _data_table("RAG scorecard", ["RAG", "Indicator", "Code", "Value", "Target"], table_rows)
    return _figure("chart-rag", f"RAG ratings, {card.get('period') or ''}", desc, "".join(parts),
                   width, y + 4, table)


def trend_chart(code: str, ind: dict, series: dict, targets: list) -> str | None:
    from dat.core.api import parse_period

    points = [(p, v["value"]) for p, v in series.items() if v.get("value") is not None]
    if len(points) < 2:
        return None
    points.sort(key=lambda pv: parse_period(pv[0]))
    target = next((t["value"] for t in targets if t.get("value") is not None), None)
    values = [v for _, v in points] + ([target] if target is not None else [])
    lo, hi = min(values + [0]), max(values)
    hi = hi if hi > lo else lo + 1
    width, height, left, top, plot_w, plot_h = 560, 240, 50, 15, 480, 180
    xs = [left + i * plot_w / (len(points) - 1) for i in range(len(points))]
    ys = [top + plot_h - (v - lo) / (hi - lo) * plot_h for _, v in points]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(zip(xs, ys, strict=True)))
    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
             f'<path d="{path}" fill="none" stroke="#1f4e79" stroke-width="2"/>']
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f4e79"/>' for x, y in zip(xs, ys, strict=True)]
    parts += [f'<text x="{x:.1f}" y="{height - 25}" font-size="10" text-anchor="middle">{_esc(p)}</text>'
              for x, (p, _) in zip(xs, points, strict=True)]
    if target is not None:
        ty = top + plot_h - (target - lo) / (hi - lo) * plot_h
        parts.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" stroke="#c0392b" '
                     f'stroke-dasharray="6 4"/><text x="{left + plot_w}" y="{ty - 4:.1f}" font-size="11" '
                     f'text-anchor="end">target {_num(target)}</text>')
    desc = "; ".join(f"{p}: {_num(v)}" for p, v in points) + (f"; target {_num(target)}" if target is not None else "")
    table = _data_table(f"{ind['name']} over time", ["Period", "Value", "Target"],
                        [[_esc(p), _num(v), _num(target)] for p, v in points])
    return _figure(f"chart-trend-{code.replace('.', '-')}", f"{ind['name']} ({code}): trend", desc,
                   "".join(parts), width, height, table)


def funding_chart(funding: dict) -> str | None:
    lines = [l for l in funding.get("lines") or [] if l.get("amount") is not None]
    if not lines:
        return None
    top_amount = max(float(l["amount"]) for l in lines) or 1
    width, bar_h, y, parts = 640, 22, 8, []
    for l in lines:
        label = l["stream_name"] + (f" ({l['line']})" if l.get("line") else "")
        w = int(300 * float(l["amount"]) / top_amount)
        parts.append(f'<text x="0" y="{y + 16}" font-size="12">{_esc(label[:38])}</text>'
                     f'<rect x="250" y="{y}" width="{w}" height="{bar_h}" fill="#1f4e79"/>'
                     f'<text x="{256 + w}" y="{y + 16}" font-size="12">£{float(l["amount"]):,.0f}</text>')
        y += bar_h + 8
    desc = "; ".join(f"{l['stream_name']} £{float(l['amount']):,.0f}" for l in lines)
    table = _data_table("Funding", ["Stream", "Line", "Amount", "Banked by"],
                        [[_esc(l["stream_name"]), _esc(l.get("line")), f"£{float(l['amount']):,.2f}",
                          _esc(l.get("banked_by"))] for l in lines]
                        + [["<strong>Total</strong>", "", f"<strong>£{float(funding['total']):,.2f}</strong>", ""]])
    return _figure("chart-funding", f"Funding by stream, {funding.get('year') or ''}", desc,
                   "".join(parts), width, y + 4, table)


def charts_html(context: dict) -> str:
    parts = []
    card = context.get("scorecard") or {}
    if card.get("rows"):
        parts.append(rag_chart(card))
    for code, series in (context.get("figures") or {}).items():
        ind = (context.get("indicators") or {}).get(code)
        if ind and ind["unit"] not in ("rag", "text"):
            chart = trend_chart(code, ind, series, (context.get("targets") or {}).get(code, []))
            if chart:
                parts.append(chart)
    fchart = funding_chart(context.get("funding") or {})
    if fchart:
        parts.append(fchart)
    if not parts:
        return ""
    return '<section class="charts"><h2>Charts</h2>' + "".join(parts) + "</section>"


def _rag_words_in_tables(body: str) -> str:
    # RAG cells written by templates as words get a colour badge as well (the word stays)
    for k, word in RAG_WORDS.items():
        body = body.replace(f"<td>{word}</td>", f'<td><span class="rag rag-{k}">{k}</span> {word}</td>')
    return body


def render_html(*, markdown: str, context: dict, path: Path, title: str) -> None:
    if len(markdown) > OFFICE_MAX_MARKDOWN:  # before parsing: 4 MB of "![" took 49 s
        raise _over(".html", "characters of Markdown", len(markdown), OFFICE_MAX_MARKDOWN, instead=".md")
    body = _rag_words_in_tables(_md().render(_xml_text(markdown)))
    doc = (f'<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{_esc(title)}</title><style>{CSS}"
           ".visually-hidden{position:absolute;left:-9999px}</style></head>"
           f"<body><main>{body}{charts_html(context)}</main></body></html>\n")
    Path(path).write_text(doc, encoding="utf-8")


class RenderLimitError(DataError):
    """A report too large for its renderer: counted before anything is built (exit 1)."""


def _over(fmt: str, what: str, count: int, limit: int, instead: str = ".md or .html") -> RenderLimitError:
    return RenderLimitError(f"the report has {count:,} {what}; a {fmt} report may have at most "
                            f"{limit:,} (the limit for the {fmt} renderer; write {instead} instead)")


def _parse_office(fmt: str, markdown: str) -> list:
    if len(markdown) > OFFICE_MAX_MARKDOWN:
        raise _over(fmt, "characters of Markdown", len(markdown), OFFICE_MAX_MARKDOWN)
    return _md().parse(markdown)


def _tables(tokens: list) -> list[tuple[int, int]]:
    """(rows, widest row) of every table in the token stream."""
    out, rows, width, cells = [], 0, 0, 0
    for t in tokens:
        if t.type == "table_open":
            rows = width = 0
        elif t.type == "tr_open":
            cells = 0
        elif t.type in ("th_open", "td_open"):
            cells += 1
        elif t.type == "tr_close":
            rows, width = rows + 1, max(width, cells)
        elif t.type == "table_close":
            out.append((rows, width))
    return out


def _docx_check(tokens: list) -> None:
    blocks = sum(1 for t in tokens if t.type in ("heading_open", "list_item_open", "table_open", "fence",
                                                 "code_block", "html_block", "hr")
                 or (t.type == "paragraph_open" and not t.hidden))
    if blocks > DOCX_MAX_BLOCKS:
        raise _over(".docx", "paragraphs, headings, list items and tables", blocks, DOCX_MAX_BLOCKS)
    cells = sum(r * w for r, w in _tables(tokens))
    if cells > DOCX_MAX_TABLE_CELLS:
        raise _over(".docx", "table cells", cells, DOCX_MAX_TABLE_CELLS)


def _xlsx_check(tokens: list) -> None:
    tables = _tables(tokens)
    if len(tables) > XLSX_MAX_TABLES:
        raise _over(".xlsx", "tables (a sheet each)", len(tables), XLSX_MAX_TABLES)
    widest = max((w for _, w in tables), default=0)
    if widest > XLSX_MAX_COLUMNS:
        raise _over(".xlsx", "columns in one table", widest, XLSX_MAX_COLUMNS)
    cells = sum(r * w for r, w in tables)
    if cells > XLSX_MAX_CELLS:
        raise _over(".xlsx", "table cells", cells, XLSX_MAX_CELLS)


# -- Word -------------------------------------------------------------------------------------

def _inline_text(token) -> str:
    """The plain text of an inline token: text, code, line breaks, link text and image alt text
    (what a table cell or a sheet cell holds)."""
    if not token.children:
        return token.content
    out = []
    for c in token.children:
        if c.type in ("text", "code_inline", "html_inline"):
            out.append(c.content)
        elif c.type == "softbreak":
            out.append(" ")
        elif c.type == "hardbreak":
            out.append("\n")
        elif c.type == "image":
            out.append(_inline_text(c) or str(c.attrGet("src") or ""))
    return "".join(out)


def _link_suffix(href: str, text: str) -> str:
    """What follows a link's text in .docx and .xlsx: `` (address)``, unless the text is the address."""
    return f" ({href})" if href and href != text.strip() else ""


def _image_text(token) -> str:
    """An image as .docx and .xlsx write it: its alt text and address."""
    alt, src = _inline_text(token), str(token.attrGet("src") or "")
    return f"{alt} ({src})" if alt and src else alt or src


def _cell_text(token) -> str:
    """A sheet cell's text: :func:`_inline_text`, but a link's address written after its text
    and an image as its alt text and address, as the .docx writes them (nothing dropped)."""
    if not token.children:
        return token.content
    out: list[str] = []
    links: list[tuple[str, int]] = []  # (address, where its text starts in out)
    for c in token.children:
        if c.type == "link_open":
            links.append((str(c.attrGet("href") or ""), len(out)))
        elif c.type == "link_close":
            href, start = links.pop() if links else ("", len(out))
            out.append(_link_suffix(href, "".join(out[start:])))
        elif c.type == "image":
            out.append(_image_text(c))
        elif c.type == "softbreak":
            out.append(" ")
        elif c.type == "hardbreak":
            out.append("\n")
        elif c.content:  # text, code and anything else markdown-it may add: its text
            out.append(c.content)
    return "".join(out)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_MONO = "Courier New"


class _DocxWriter:
    """Writes the Markdown's blocks straight into the document body as WordprocessingML.

    python-docx's own ``add_paragraph``/``add_table``/``add_run`` look for the insertion point
    among every existing sibling and resolve style names by scanning all styles, each call: a
    report at the .docx limits took 30 s that way. Here the body's closing ``sectPr`` is set
    aside while writing, elements are appended, and style ids are written directly."""

    def __init__(self, doc: Any) -> None:
        from docx.oxml.table import CT_Tbl

        self.new_tbl = CT_Tbl.new_tbl
        self.width = doc._block_width  # once: it looks up the last section every time
        self.body = doc.element.body
        self.sect = self.body.find(_W + "sectPr")
        if self.sect is not None:
            self.body.remove(self.sect)
        from lxml.etree import SubElement

        self.subelement = SubElement

    def finish(self) -> None:
        if self.sect is not None:
            self.body.append(self.sect)

    def _sub(self, parent: Any, tag: str, **attrs: str) -> Any:
        # made in its parent's document: an element made apart carries its own namespace
        # declaration, and moving thousands of those into the body is quadratic in lxml
        return self.subelement(parent, _W + tag, {_W + k: v for k, v in attrs.items()})

    def paragraph(self, style: str | None = None, *, indent: int = 0, rule: bool = False,
                  parent: Any = None) -> Any:
        p = self._sub(self.body if parent is None else parent, "p")
        if style or indent or rule:
            ppr = self._sub(p, "pPr")
            if style:
                self._sub(ppr, "pStyle", val=style)
            if rule:  # a thematic break: a paragraph with a bottom border
                bdr = self._sub(ppr, "pBdr")
                self._sub(bdr, "bottom", val="single", sz="6", space="1", color="auto")
            if indent:
                self._sub(ppr, "ind", left=str(indent), hanging="360")
        return p

    def run(self, p: Any, text: str, *, bold: bool = False, italic: bool = False, mono: bool = False) -> None:
        if not text:
            return
        r = self._sub(p, "r")
        if bold or italic or mono:
            rpr = self._sub(r, "rPr")
            if mono:
                self._sub(rpr, "rFonts", ascii=_MONO, hAnsi=_MONO, cs=_MONO)
            if bold:
                self._sub(rpr, "b")
            if italic:
                self._sub(rpr, "i")
        for n, line in enumerate(text.split("\n")):
            if n:
                self._sub(r, "br")
            for m, part in enumerate(line.split("\t")):
                if m:
                    self._sub(r, "tab")
                if part:
                    t = self._sub(r, "t")
                    t.text = part
                    t.set(_XML_SPACE, "preserve")

    def inline(self, p: Any, token: Any, *, bold: bool = False, prefix: str = "") -> None:
        """Write an inline token's children as runs: bold, italic and code kept, a link's
        address after its text, an image as its alt text and address (nothing dropped)."""
        self.run(p, prefix)
        if not token.children:
            self.run(p, token.content, bold=bold)
            return
        strong, em, buf, fmt = 0, 0, [], (bold, False, False)
        link_text: list[str] = []
        hrefs: list[str] = []

        def flush() -> None:
            if buf:
                self.run(p, "".join(buf), bold=fmt[0], italic=fmt[1], mono=fmt[2])
                buf.clear()

        def put(text: str, mono: bool = False) -> None:
            nonlocal fmt
            want = (bold or strong > 0, em > 0, mono)
            if want != fmt:
                flush()
                fmt = want
            buf.append(text)
            if hrefs:
                link_text.append(text)

        for c in token.children:
            kind = c.type
            if kind == "text" or kind == "html_inline":
                put(c.content)
            elif kind == "code_inline":
                put(c.content, mono=True)
            elif kind == "softbreak":
                put(" ")
            elif kind == "hardbreak":
                put("\n")
            elif kind == "strong_open":
                strong += 1
            elif kind == "strong_close":
                strong -= 1
            elif kind == "em_open":
                em += 1
            elif kind == "em_close":
                em -= 1
            elif kind == "link_open":
                hrefs.append(str(c.attrGet("href") or ""))
                link_text.clear()
            elif kind == "link_close":
                href = hrefs.pop() if hrefs else ""
                if suffix := _link_suffix(href, "".join(link_text)):
                    put(suffix)
            elif kind == "image":
                put(_image_text(c))
            elif c.content:  # anything else markdown-it may add is written as its text
                put(c.content)
        flush()

    def table(self, rows: list[list[Any]], *, indent: int = 0) -> None:
        width = max(len(r) for r in rows)
        tbl = self.new_tbl(len(rows), width, self.width)
        tblpr = tbl.find(_W + "tblPr")
        tblpr.insert(0, self._sub(tblpr, "tblStyle", val="TableGrid"))
        if indent:
            tblpr.insert(2, self._sub(tblpr, "tblInd", w=str(indent), type="dxa"))
        # into the body before its cells are written: lxml moves a finished tree between
        # documents in time quadratic in its size
        self.body.append(tbl)
        for r, (tr, row) in enumerate(zip(tbl.iterchildren(_W + "tr"), rows, strict=True)):
            for tc, cell in zip(tr.iterchildren(_W + "tc"), row, strict=False):
                self.inline(tc.find(_W + "p"), cell, bold=r == 0)


def _docx_list_style(kind: str, level: int) -> tuple[str, int]:
    """The paragraph style of a list item ``level`` deep (1 = outermost) and, past the three
    levels Word's default styles have, the left indent (twips) that shows the deeper level."""
    base = {"bullet": "ListBullet", "ordered": "List", "continue": "ListContinue"}[kind]
    style = base + (str(min(level, 3)) if level > 1 else "")
    return style, (360 * (level + 1) if level > 3 else 0)


def render_docx(*, markdown: str, context: dict, path: Path, title: str) -> None:
    """Every block of the Markdown, nested ones included: headings, paragraphs (bold, italic,
    code), bullet and numbered lists to any depth markdown-it allows (List Bullet / List
    2, 3 styles, indented past three levels; numbers written as text, so every list starts
    where the Markdown says), tables (also inside lists and quotes), code blocks, quotes and
    thematic breaks. Links keep their address and images their alt text and address."""
    from docx import Document

    doc = Document()
    # characters XML cannot carry (controls, U+FFFE, U+FFFF) are written as U+FFFD, as .xlsx does
    doc.core_properties.title = _xml_text(title)
    tokens = _parse_office(".docx", _xml_text(markdown))
    _docx_check(tokens)
    w = _DocxWriter(doc)
    lists: list[list[Any]] = []  # [kind, next number] of each open list
    items: list[list[Any]] = []  # [marked, level, kind, number] of each open list item
    quotes = 0

    def block_style() -> tuple[str | None, int, str]:
        """The style, indent and prefix of the next block: an open list item's first block
        carries its bullet or number; later ones continue it."""
        if items:
            item = items[-1]
            if not item[0]:
                item[0] = True
                style, indent = _docx_list_style(item[2], item[1])
                return style, indent, (f"{item[3]}. " if item[2] == "ordered" else "")
            style, indent = _docx_list_style("continue", item[1])
            return style, indent, ""
        return ("Quote" if quotes else None), 0, ""

    def mark_item() -> None:
        """A list item whose first block is not text (empty, a code block, a table, a nested
        list) gets its bullet or number on a paragraph of its own first."""
        if items and not items[-1][0]:
            style, indent, prefix = block_style()
            w.run(w.paragraph(style, indent=indent), prefix)

    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        kind = t.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            mark_item()
            start = t.attrGet("start")
            lists.append(["ordered" if kind == "ordered_list_open" else "bullet",
                          int(start) if start is not None else 1])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            lst = lists[-1]
            items.append([False, len(lists), lst[0], lst[1]])
            lst[1] += 1
        elif kind == "list_item_close":
            mark_item()
            items.pop()
        elif kind == "blockquote_open":
            quotes += 1
        elif kind == "blockquote_close":
            quotes -= 1
        elif kind == "heading_open":
            if items:
                style, indent, prefix = block_style()
                w.inline(w.paragraph(style, indent=indent), tokens[i + 1], bold=True, prefix=prefix)
            else:
                level = int(t.tag[1])
                w.inline(w.paragraph("Title" if level == 1 else f"Heading{min(level, 4)}"), tokens[i + 1])
            i += 3
            continue
        elif kind == "paragraph_open":
            style, indent, prefix = block_style()
            w.inline(w.paragraph(style, indent=indent), tokens[i + 1], prefix=prefix)
            i += 3
            continue
        elif kind in ("fence", "code_block"):
            mark_item()
            style, indent, _ = block_style()
            w.run(w.paragraph(style, indent=indent), t.content.rstrip("\n"), mono=True)
        elif kind == "html_block":
            style, indent, prefix = block_style()
            w.run(w.paragraph(style, indent=indent), prefix + t.content.rstrip("\n"))
        elif kind == "hr":
            mark_item()
            w.paragraph(rule=True)
        elif kind == "table_open":
            mark_item()
            rows: list[list[Any]] = []
            while tokens[i].type != "table_close":
                if tokens[i].type == "tr_open":
                    rows.append([])
                elif tokens[i].type == "inline":
                    rows[-1].append(tokens[i])
                i += 1
            w.table(rows, indent=360 * len(items))
        i += 1
    w.finish()
    doc.save(str(path))


# -- Excel ------------------------------------------------------------------------------------

def render_xlsx(*, markdown: str, context: dict, path: Path, title: str) -> None:
    """One table per sheet: the scorecard (RAG as text with conditional fills), funding,
    actions, then every table of the rendered report."""
    from openpyxl import Workbook
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Scorecard"
    _append(ws, [title])
    ws["A1"].font = Font(bold=True, size=13)
    header = ["Code", "Indicator", "Period", "Value", "Target", "RAG", "Basis", "Direction"]
    _append(ws, header)
    for row in (context.get("scorecard") or {}).get("rows") or []:
        _append(ws, [row["code"], row["name"], row["period"],
                   row.get("value") if row.get("value") is not None else row.get("text"),
                   row.get("target"), RAG_WORDS.get(row.get("rag") or "", "not rated"), row["rag_basis"],
                   row["direction"]])
    last = ws.max_row
    for word, colour in (("Red", "F4C7C3"), ("Amber", "FCE8B2"), ("Green", "B7E1CD")):
        ws.conditional_formatting.add(f"F3:F{max(last, 3)}", CellIsRule(operator="equal", formula=[f'"{word}"'],
                                                                       fill=PatternFill("solid", fgColor=colour)))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    fund = context.get("funding") or {}
    fs = wb.create_sheet("Funding")
    _append(fs, ["Stream", "Line", "Amount (£)", "Banked by", "Used for"])
    for l in fund.get("lines") or []:
        _append(fs, [l["stream_name"], l.get("line"), None if l["amount"] is None else float(l["amount"]),
                   l.get("banked_by"), l.get("used_for")])
    if fund.get("total") is not None:
        _append(fs, ["Total", None, float(fund["total"]), None, None])
    for cell in fs[1]:
        cell.font = Font(bold=True)
    acts = wb.create_sheet("Actions")
    _append(acts, ["Ref", "Theme", "Action", "Lead", "Due", "Status", "Outcome"])
    for a in context.get("actions") or []:
        _append(acts, [a["ref"], a.get("theme"), a["action"], a.get("lead"), a.get("due"), a["status"],
                       a.get("outcome")])
    for cell in acts[1]:
        cell.font = Font(bold=True)
    # every table in the rendered report, one per sheet
    tokens = _parse_office(".xlsx", markdown)
    _xlsx_check(tokens)
    n, heading, i = 0, "Table", 0
    while i < len(tokens):
        if tokens[i].type == "heading_open":
            heading = _inline_text(tokens[i + 1])
        if tokens[i].type == "table_open":
            n += 1
            sheet = wb.create_sheet(_sheet_name(f"{n} {heading}", wb.sheetnames))
            cur: list[Any] = []
            while tokens[i].type != "table_close":
                if tokens[i].type == "tr_open":
                    cur = []
                elif tokens[i].type == "inline":
                    cur.append(_cell_value(_cell_text(tokens[i])))
                elif tokens[i].type == "tr_close":
                    _append(sheet, [v[0] if isinstance(v, tuple) else v for v in cur])
                    for col, v in enumerate(cur, 1):
                        if isinstance(v, tuple):
                            sheet.cell(sheet._current_row, col).number_format = v[1]
                i += 1
            for cell in sheet[1]:
                cell.font = Font(bold=True)
        i += 1
    wb.save(str(path))


def _append(ws: Any, values: list[Any]) -> None:
    """Append a row whose text cells are neutralised (``safe_cell``) and typed as text, so
    nothing from the data becomes a live formula; characters that XML cannot carry are written
    as U+FFFD; a cell over Excel's 32,767 characters is refused, never cut."""
    texts = [_xml_text(v) if isinstance(v, str) else v for v in (safe_cell(v, separators=False) for v in values)]
    for v in texts:
        if isinstance(v, str) and len(v) > XLSX_MAX_CELL_CHARS:
            raise RenderLimitError(
                f"the report has a cell of {len(v):,} characters on sheet {ws.title!r}; Excel allows at "
                f"most {XLSX_MAX_CELL_CHARS:,} in a cell (write .md, .html or .docx instead)")
    ws.append(texts)
    row = ws._current_row  # not ws.max_row / ws[row]: both scan every cell of the sheet
    for col in range(1, len(values) + 1):
        cell = ws._cells.get((row, col))
        if cell is not None and isinstance(cell.value, str):
            cell.data_type = "s"


#: the most significant digits a table cell may have to become a number (Excel keeps 15)
XLSX_MAX_DIGITS = 15


#: a report table cell that is one number Excel shows back as written: an optional ``-`` and
#: £ (a written ``+`` keeps the cell text: Excel would show ``+5`` as ``5``), ASCII digits
#: with thousands separators only in groups of three and no leading zero
#: (but a lone 0), an optional decimal part; no exponent, no %
_CELL_NUMBER = re.compile(r"(-?)(£?)([1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]*|0)(?:\.([0-9]+))?")


def _cell_value(text: str) -> Any:
    """A report table cell as a number only when its text is unambiguously one number that
    Excel shows back as written: the strict rule of the importers (``_NUM_POINT``: ASCII
    digits, an optional ``-`` (a leading ``+`` keeps the cell text: Excel shows no ``+``),
    thousands separators only in groups of three, an optional
    decimal part, an optional leading ``£``) without an exponent or ``%``, no leading zeros
    (but ``0.5``), not ``-0`` and at most 15 significant digits. Returns ``(value, number
    format)`` for a number (the format keeps the decimals, separators and £ written), else the
    text as it is. (The importers' rule is dat.core's; a plugin uses only dat.core.api, so the
    stricter subset it needs is written out here as :data:`_CELL_NUMBER`.)"""
    m = _CELL_NUMBER.fullmatch(text.strip())
    if m is None:
        return text
    sign, cur, whole, frac = m.groups()
    digits = (whole.replace(",", "") + (frac or "")).lstrip("0")
    if len(digits) > XLSX_MAX_DIGITS or (sign == "-" and not digits):
        return text
    literal = f"{sign}{whole.replace(',', '')}" + (f".{frac}" if frac else "")
    value: Any = float(literal) if frac else int(literal)
    fmt = ("#,##0" if "," in whole else "0") + (f".{'0' * len(frac)}" if frac else "")
    if cur:
        fmt = f'"£"{fmt}'
    return value, fmt


def _sheet_name(name: str, existing: list[str]) -> str:
    """A sheet name Excel accepts: none of ``[]:*?/\\``, no characters XML cannot carry, not
    starting or ending with ``'``, 1-31 characters, unique ignoring case, not "History"."""
    clean = _xml_text("".join(ch for ch in name if ch not in '[]:*?/\\'))[:31].strip("'") or "Sheet"
    taken = {e.casefold() for e in existing} | {"history"}
    base, k = clean, 2
    while clean.casefold() in taken:
        suffix = f" {k}"
        clean = (base[:31 - len(suffix)].strip("'") or "Sheet") + suffix
        k += 1
    return clean


@hookimpl
def register_renderers(register):
    register(name="markdown", suffixes=(".md", ".markdown", ".txt"), render=render_markdown,
             description="The rendered Markdown as it is.")
    register(name="html", suffixes=(".html", ".htm"), render=render_html,
             description="Standalone accessible HTML with inline SVG charts; prints cleanly.")
    register(name="docx", suffixes=(".docx",), render=render_docx,
             description="Word document for committee papers (python-docx).")
    register(name="xlsx", suffixes=(".xlsx",), render=render_xlsx,
             description="Excel workbook: one table per sheet, RAG as text with conditional fills.")

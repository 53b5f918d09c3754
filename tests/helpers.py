"""Helpers shared by tests (tests/ is on sys.path via pytest's ``pythonpath``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_PLUGINS = Path(__file__).with_name("plugins")


def make_entry_points(tmp_path: Path, plugins: dict[str, str], dist: str = "dat-fixture-plugins") -> Path:
    """Write a real distribution (dist-info with entry_points.txt) declaring ``plugins``
    (entry-point name -> "module[:attr]") in the ``dat`` group; return the folder to put on
    ``sys.path``/``PYTHONPATH``. importlib.metadata finds it like any installed package."""
    site = tmp_path / "site"
    info = site / f"{dist.replace('-', '_')}-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in plugins.items())
    (info / "entry_points.txt").write_text(f"[dat]\n{lines}\n")
    return site


def run_dat(*args: str, env: dict | None = None, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``dat`` console script in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    exe = Path(sys.executable).with_name("dat")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "dat.cli.main"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env,
                          input=input, timeout=timeout)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def db_digest(url: str) -> str:
    """A SHA-256 over every row of every table in the database at ``url`` (tables and rows
    in a fixed order), so a test can assert that a refused command changed nothing."""
    import hashlib

    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        digest = hashlib.sha256()
        with engine.connect() as conn:
            for name in sorted(meta.tables):
                table = meta.tables[name]
                digest.update(f"\x00table {name}\x00".encode())
                rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                for row in rows:
                    digest.update(row.encode())
                    digest.update(b"\x00")
        return digest.hexdigest()
    finally:
        engine.dispose()


# -- hand-made .xlsx: the raw XML a spreadsheet program never writes ------------------------------

_XLSX_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XLSX_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XLSX_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def xlsx_inline(ref: str, text: str) -> str:
    """An inline-string cell of raw sheet XML."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def raw_xlsx(rows: list[str], *, styles: str | None = None, sst: list[str] | None = None,
             extra_members: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A workbook whose one sheet holds dat's header in row 1 and then ``rows`` (raw
    ``<row>`` XML); ``styles``: the raw styles.xml; ``sst``: shared strings; ``extra_members``
    are added to the zip as they are (a duplicate name included)."""
    import io
    import zipfile

    header = "".join(xlsx_inline(f"{c}1", h) for c, h in zip("ABCDEFG", (
        "partnership", "indicator", "period", "value", "numerator", "denominator", "note"), strict=True))
    rels = [f'<Relationship Id="rId1" Type="{_XLSX_REL}/worksheet" Target="worksheets/sheet1.xml"/>']
    members = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
        'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{_XLSX_PKG}"><Relationship Id="rId1" Type="{_XLSX_REL}/'
                       'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{_XLSX_NS}" xmlns:r="{_XLSX_REL}"><sheets><sheet name="Data" '
                           'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_XLSX_NS}"><sheetData><row r="1">{header}</row>'
                                    + "".join(rows) + "</sheetData></worksheet>",
    }
    if styles is not None:
        rels.append(f'<Relationship Id="rId8" Type="{_XLSX_REL}/styles" Target="styles.xml"/>')
        members["xl/styles.xml"] = styles
    if sst is not None:
        rels.append(f'<Relationship Id="rId9" Type="{_XLSX_REL}/sharedStrings" Target="sharedStrings.xml"/>')
        members["[Content_Types].xml"] = members["[Content_Types].xml"].replace("</Types>", (
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
        members["xl/sharedStrings.xml"] = f'<sst xmlns="{_XLSX_NS}">' + "".join(
            f"<si><t>{s}</t></si>" for s in sst) + "</sst>"
    members["xl/_rels/workbook.xml.rels"] = f'<Relationships xmlns="{_XLSX_PKG}">{"".join(rels)}</Relationships>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in [*members.items(), *extra_members]:
            zf.writestr(name, data)
    return buf.getvalue()


def xlsx_styles(numfmts: list[tuple[int, str]], xfs: list[int]) -> str:
    """A raw styles.xml with these custom number formats (id, code) and cell styles (each a
    numFmtId); codes are XML-escaped."""
    from xml.sax.saxutils import quoteattr

    fmts = "".join(f"<numFmt numFmtId=\"{i}\" formatCode={quoteattr(c)}/>" for i, c in numfmts)
    return (f'<styleSheet xmlns="{_XLSX_NS}">' + (f"<numFmts>{fmts}</numFmts>" if numfmts else "")
            + '<fonts count="1"><font/></fonts><fills count="1"><fill><patternFill patternType="none"/></fill>'
            '</fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            "<cellXfs>" + "".join(f'<xf numFmtId="{x}" applyNumberFormat="1"/>' for x in xfs)
            + "</cellXfs></styleSheet>")

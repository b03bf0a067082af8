"""The text of a Typst PDF, read the way a PDF reader reads it: content streams' glyph codes
through each font's ToUnicode map. Small on purpose (no PDF library is a dependency): it knows
the subset Typst writes (Type0 fonts with 2-byte codes, Flate streams, TJ arrays), which is
what these tests need. One line per text object, as laid out."""

from __future__ import annotations

import re
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj\b")
_FONT_REF = re.compile(rb"/([A-Za-z0-9_.-]+) (\d+) 0 R")
_TOUNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
_LENGTH = re.compile(rb"/Length (\d+)( 0 R)?")
_ESC = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary text, stream bytes or None)."""
    starts = [(int(m.group(1)), m.end()) for m in _OBJ.finditer(pdf)]
    out: dict[int, tuple[bytes, bytes | None]] = {}
    for number, start in starts:
        end = pdf.find(b"endobj", start)
        body = pdf[start:end]
        stream_at = body.find(b"stream")
        if stream_at < 0:
            out[number] = (body, None)
            continue
        head = body[:stream_at]
        length = _LENGTH.search(head)
        if length is None:
            out[number] = (body, None)
            continue
        begin = start + stream_at + len(b"stream")
        begin += 2 if pdf[begin : begin + 2] == b"\r\n" else 1
        if length.group(2):  # an indirect length: read up to endstream
            raw_end = pdf.find(b"endstream", begin)
            raw = pdf[begin:raw_end].rstrip(b"\r\n")
        else:
            raw = pdf[begin : begin + int(length.group(1))]
        if b"/FlateDecode" in head:
            raw = zlib.decompress(raw)
        out[number] = (head, raw)
    return out


def _cmap(data: bytes) -> dict[int, str]:
    table: dict[int, str] = {}

    def text(hexes: bytes) -> str:
        return bytes.fromhex(hexes.decode()).decode("utf-16-be")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(src, 16)] = text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            first = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                table[code] = chr(first + offset)
    return table


def _literal(data: bytes, i: int) -> tuple[bytes, int]:
    """A (...) string starting at data[i] == '(' : its bytes and the index after it."""
    out, depth, i = bytearray(), 1, i + 1
    while depth:
        ch = data[i : i + 1]
        if ch == b"\\":
            nxt = data[i + 1 : i + 2]
            if nxt in _ESC:
                out += _ESC[nxt]
                i += 2
            elif nxt.isdigit():
                digits = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4])
                assert digits is not None
                out.append(int(digits.group(), 8) & 0xFF)
                i += 1 + len(digits.group())
            else:
                out += nxt
                i += 2
            continue
        if ch == b"(":
            depth += 1
        elif ch == b")":
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out += ch
        i += 1
    return bytes(out), i


def pdf_text(pdf: bytes) -> str:
    objects = _objects(pdf)
    cmaps: dict[int, dict[int, str]] = {}
    for number, (head, _) in objects.items():
        if b"/Type/Font" in head.replace(b" ", b"") or b"/Type /Font" in head:
            found = _TOUNICODE.search(head)
            if found:
                stream = objects[int(found.group(1))][1] or b""
                cmaps[number] = _cmap(stream)
    lines: list[str] = []
    for head, _ in objects.values():  # each page, in the order the file holds them
        if not re.search(rb"/Type\s*/Page\b", head):
            continue
        resources = re.search(rb"/Resources (\d+) 0 R", head)
        where = objects[int(resources.group(1))][0] if resources else head
        names: dict[bytes, dict[int, str]] = {}
        for block in re.findall(rb"/Font\s*<<(.*?)>>", where, re.S):
            for name, ref in _FONT_REF.findall(block):
                names[name] = cmaps.get(int(ref), {})
        contents = re.search(rb"/Contents (\d+) 0 R", head)
        if contents:
            lines.extend(_page_lines(objects[int(contents.group(1))][1] or b"", names))
    return "\n".join(lines)


def _page_lines(stream: bytes, names: dict[bytes, dict[int, str]]) -> list[str]:
    lines: list[str] = []
    font: dict[int, str] = {}
    i, line, in_text = 0, [], False  # strings outside BT ... ET are tags (/Lang(fr)), not text
    while i < len(stream):
        ch = stream[i : i + 1]
        if ch == b"(" and in_text:
            raw, i = _literal(stream, i)
            line.append(
                "".join(
                    font.get(int.from_bytes(raw[k : k + 2]), "?") for k in range(0, len(raw) - 1, 2)
                )
            )
            continue
        if ch == b"/":
            name = re.match(rb"/([A-Za-z0-9_.-]+)\s+[\d.]+\s+Tf", stream[i : i + 40])
            if name and name.group(1) in names:
                font = names[name.group(1)]
        if stream[i : i + 2] == b"BT":
            in_text = True
        if stream[i : i + 2] == b"ET":
            in_text = False
            if line:
                lines.append("".join(line))
            line = []
        i += 1
    return lines

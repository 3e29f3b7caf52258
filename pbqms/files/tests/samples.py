"""Small real files of every accepted kind, and liars, made in memory for the attachment tests."""

from __future__ import annotations

import io
import struct
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
       + b"This program cannot be run in DOS mode.")


def image(fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 16, 46)).save(buf, format=fmt)
    return buf.getvalue()


def docx(text: str = "整改报告") -> bytes:
    from docx import Document

    buf = io.BytesIO()
    d = Document()
    d.add_paragraph(text)
    d.save(buf)
    return buf.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    buf = io.BytesIO()
    wb = Workbook()
    wb.active["A1"] = "目标"
    wb.save(buf)
    return buf.getvalue()


def pptx() -> bytes:
    """A minimal OOXML presentation package (no python-pptx here): the parts that name it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr("ppt/presentation.xml", "<p:presentation/>")
    return buf.getvalue()


def plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not an office file")
    return buf.getvalue()


def ole(stream: str) -> bytes:
    """An OLE2 compound file shell whose directory names `stream` (WordDocument, Workbook …)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HHH", 0x3E, 3, 9)
    header = header.ljust(512, b"\x00")
    def entry(name: str) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return (raw.ljust(64, b"\x00") + struct.pack("<H", len(raw))).ljust(128, b"\x00")
    directory = entry("Root Entry") + entry(stream) + entry("\x05SummaryInformation")
    return header + directory.ljust(512, b"\x00") + b"\x00" * 512


GOOD = {  # name → (bytes, kind, content type)
    "照片.png": (image("PNG"), "image", "image/png"),
    "现场.jpg": (image("JPEG"), "image", "image/jpeg"),
    "现场.jpeg": (image("JPEG"), "image", "image/jpeg"),
    "动图.gif": (image("GIF"), "image", "image/gif"),
    "截图.webp": (image("WEBP"), "image", "image/webp"),
    "整改报告.pdf": (PDF, "pdf", "application/pdf"),
    "会议记录.docx": (docx(), "word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "旧记录.doc": (ole("WordDocument"), "word", "application/msword"),
    "目标分解.xlsx": (xlsx(), "excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "旧台账.xls": (ole("Workbook"), "excel", "application/vnd.ms-excel"),
    "党课.pptx": (pptx(), "presentation",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    if content is None:
        content = GOOD[name][0]
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")

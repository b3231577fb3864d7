"""Small helpers to make image uploads for tests."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png_upload(width: int = 64, height: int = 48, name: str = "me.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def huge_png_upload(side: int = 20_000) -> SimpleUploadedFile:
    """A valid PNG header claiming side x side pixels, without the pixels: a few bytes that a
    careless decoder would expand to hundreds of megabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
    data += chunk(b"IEND", b"")
    return SimpleUploadedFile("huge.png", data, content_type="image/png")


def text_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("notes.png", b"this is not an image at all", content_type="image/png")

"""Uploaded images (avatars, badge art, logos): checked with Pillow and re-encoded, so what is
stored is always a real, bounded image and never the bytes the client sent."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def _too_many_pixels(max_pixels: int, detail: str) -> ValidationError:
    return ValidationError(
        f"The image is too large: max {max_pixels:,} px in all ({detail}).",
        code="too_many_pixels",
    )


def image_validate_and_normalise(
    upload: UploadedFile,
    *,
    max_bytes: int,
    max_pixels: int,
    max_side: int = 1024,
    square: bool = False,
) -> ContentFile[bytes]:
    """Return the upload re-encoded as PNG, scaled down to fit `max_side` (cropped to a
    centred square when `square`). Raises ValidationError with a message for the form."""
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            f"The image is {upload.size / 1_048_576:.1f} MB; the largest allowed is "
            f"{max_bytes / 1_048_576:.0f} MB.",
            code="too_large",
        )
    data = upload.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                image_format = probe.format
                if width * height > max_pixels:
                    raise _too_many_pixels(max_pixels, f"this one is {width:,} x {height:,}")
                if image_format not in ALLOWED_FORMATS:
                    raise ValidationError("Upload a JPEG, PNG, GIF or WebP image.", code="format")
                probe.verify()
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()
                image: Image.Image = opened.convert("RGBA")
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses to open it at all (its header declares more pixels than Pillow's own
        # limit, a decompression bomb), so the size is not known; the limit is what helps.
        raise _too_many_pixels(max_pixels, "this one declares far more") from None
    except UnidentifiedImageError:
        raise ValidationError("The file is not an image we can read.", code="invalid") from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError(
            "The image file is damaged or not an image.", code="invalid"
        ) from None
    if square:
        side = min(image.size)
        left = (image.width - side) // 2
        top = (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    stem = Path(upload.name or "image").stem[:60] or "image"
    return ContentFile(out.getvalue(), name=f"{stem}.png")


def image_resized(content: bytes, *, side: int) -> ContentFile[bytes]:
    """A square PNG copy of an already normalised image, for the sizes pages use."""
    with Image.open(io.BytesIO(content)) as opened:
        image = opened.convert("RGBA")
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"{side}.png")

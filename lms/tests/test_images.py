"""Uploaded images: what the uploader is told when the image is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from lms.images import image_validate_and_normalise
from users.tests.images import huge_png_upload, png_upload, text_upload


def _refusal(upload: object, **limits: int) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        image_validate_and_normalise(
            upload,  # type: ignore[arg-type]
            max_bytes=limits.get("max_bytes", 5_000_000),
            max_pixels=limits.get("max_pixels", 16_000_000),
        )
    return error.value


def test_a_decompression_bomb_is_refused_as_too_large_with_the_limit() -> None:
    # 20,000 x 20,000 declared: Pillow refuses to open it, so the size check never runs
    error = _refusal(huge_png_upload(side=20_000), max_pixels=16_000_000)
    assert error.code == "too_many_pixels"
    assert "The image is too large: max 16,000,000 px" in error.messages[0]


def test_an_image_over_the_pixel_limit_is_refused_with_the_limit_and_its_size() -> None:
    error = _refusal(png_upload(width=300, height=200), max_pixels=50_000)
    assert error.code == "too_many_pixels"
    assert error.messages == [
        "The image is too large: max 50,000 px in all (this one is 300 x 200)."
    ]


def test_a_file_that_is_not_an_image_is_not_called_too_large() -> None:
    error = _refusal(text_upload())
    assert error.code == "invalid"
    assert "too large" not in error.messages[0]


def test_an_image_within_the_limits_is_re_encoded_as_png() -> None:
    result = image_validate_and_normalise(
        png_upload(width=64, height=48), max_bytes=5_000_000, max_pixels=16_000_000
    )
    assert result.name == "me.png" and result.read().startswith(b"\x89PNG")

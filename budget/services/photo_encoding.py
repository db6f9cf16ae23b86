"""Re-encoding an uploaded photo with Pillow, so that what is stored and served is pixels only:
no EXIF (the GPS position of a resident's home, the camera, the time), no XMP, no comments,
whatever the upload carried.

- The pixel count is read from the header and bounded (MAX_PIXELS) before anything is
  decoded: a decompression bomb (a small file that declares huge dimensions) is refused at
  once, never decoded.
- A JPEG is decoded at a reduced scale when it is much larger than what is kept (`draft`), so
  a 40-megapixel photo never takes 120 MB to decode.
- The EXIF orientation is applied to the pixels, then the metadata is dropped; the ICC colour
  profile of an RGB image is kept (colours, not personal data).
- Opaque images are stored as JPEG; images with real transparency as PNG. The longest side
  kept is FULL_SIZE; a thumbnail for cards and lists is THUMB_WIDTH wide.

Synchronous and CPU-bound: callers run it in a worker thread (budget.services.photos), and at
most DECODERS photos are decoded at once in the process (each can take ~100 MB while it is).
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000  # a 40-megapixel photo; larger ones are refused before decoding
FULL_SIZE = 2048  # the longest side of the photo kept
THUMB_WIDTH = 480  # thumbnails for cards: this wide at most …
THUMB_HEIGHT = 960  # … and this tall
JPEG_QUALITY = 85
DECODERS = 2

# Pillow's own guard (it warns past this, refuses past twice this) agrees with ours.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_decoding = threading.BoundedSemaphore(DECODERS)

FORMATS = ("JPEG", "PNG", "WEBP")
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


class Refused(Exception):
    """The upload cannot be a photo here; `reason` is "too_many_pixels" or "unreadable"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Encoded:
    """A photo re-encoded from an upload: the stored image and its thumbnail, same type."""

    content_type: str
    data: bytes
    thumb: bytes
    width: int
    height: int


def reencode(data: bytes) -> Encoded:
    """The upload re-encoded without metadata, or Refused."""
    with _decoding:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return _reencode(data)
        except Refused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused("too_many_pixels") from None
        except (OSError, SyntaxError, ValueError, EOFError, TypeError, KeyError, IndexError):
            # Pillow's ways of saying that a file is not a readable image
            raise Refused("unreadable") from None


def _reencode(data: bytes) -> Encoded:
    source = Image.open(io.BytesIO(data), formats=FORMATS)
    width, height = source.size
    if width < 1 or height < 1:
        raise Refused("unreadable")
    if width * height > MAX_PIXELS:
        raise Refused("too_many_pixels")
    icc = source.info.get("icc_profile") if source.mode in ("RGB", "RGBA") else None
    source.draft(None, (FULL_SIZE, FULL_SIZE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
    source.load()
    # In place, and shrunk before any conversion: one full-size copy of the pixels at most.
    ImageOps.exif_transpose(source, in_place=True)
    kind, mode = ("PNG", "RGBA") if _transparent(source) else ("JPEG", "RGB")
    image = source if source.mode in ("RGB", "RGBA", "L", "LA") else source.convert(mode)
    image.thumbnail((FULL_SIZE, FULL_SIZE), Image.Resampling.LANCZOS)
    if image.mode != mode:
        image = image.convert(mode)
    thumb = image.copy()
    thumb.thumbnail((THUMB_WIDTH, THUMB_HEIGHT), Image.Resampling.LANCZOS)
    return Encoded(
        content_type=CONTENT_TYPES[kind],
        data=_save(image, kind, icc),
        thumb=_save(thumb, kind, icc),
        width=image.width,
        height=image.height,
    )


def _transparent(image: Image.Image) -> bool:
    """Whether some pixel is not fully opaque (an alpha channel that is all 255 is not)."""
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        return image.getchannel("A").getextrema()[0] < 255
    if "transparency" in image.info:
        return image.convert("RGBA").getchannel("A").getextrema()[0] < 255
    return False


def _save(image: Image.Image, kind: str, icc: bytes | None) -> bytes:
    """Pixels only: a fresh file with no metadata from the upload (info is emptied, no exif or
    xmp passed), but the RGB colour profile."""
    image.info = {}
    out = io.BytesIO()
    options: dict = {"icc_profile": icc} if icc else {}
    if kind == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **options)
    else:
        image.save(out, "PNG", **options)
    return out.getvalue()

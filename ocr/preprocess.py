"""Image preparation before OCR.

- every image: EXIF orientation, RGB, a working resolution;
- RapidOCR on invoices: the red channel as a 3-channel image, which makes the red seal (and most of the brown
  print) disappear while black values stay black;
- Tesseract: flatten uneven light, drop red print by colour, upscale to about 2400 px wide, deskew, binarise and
  strip the table lines, then ``psm 6`` (see docs/notes: this matters more than any psm or language choice).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageOps

__all__ = [
    "estimate_skew",
    "load_image",
    "for_rapidocr",
    "for_tesseract",
    "red_channel_rgb",
    "to_working_resolution",
]

RAPID_MAX_SIDE = 2000  # RapidOCR resizes anything larger to this anyway
RAPID_MIN_SIDE = 1200
TESSERACT_WIDTH = 2400


def load_image(data: bytes) -> Image.Image:
    """Decode, apply the EXIF orientation and return an RGB image."""
    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image)
    if image.mode != "RGB":
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image)
        image = image.convert("RGB")
    return image


def to_working_resolution(image: Image.Image, max_side: int = RAPID_MAX_SIDE, min_side: int = RAPID_MIN_SIDE):
    """Scale so that the long side is within [min_side, max_side]."""
    long_side = max(image.size)
    if long_side > max_side:
        scale = max_side / long_side
    elif long_side < min_side:
        scale = min_side / long_side
    else:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.LANCZOS if scale < 1 else Image.BICUBIC)


def _background(channel: np.ndarray) -> np.ndarray:
    """A coarse estimate of the paper's brightness around each pixel (computed at 1/16 scale: cheap)."""
    h, w = channel.shape
    small = cv2.resize(channel, (max(1, w // 16), max(1, h // 16)), interpolation=cv2.INTER_AREA)
    small = cv2.dilate(small, np.ones((5, 5), np.uint8))
    small = cv2.GaussianBlur(small, (0, 0), 2)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def red_channel_rgb(image: Image.Image, drop_seal: bool = False) -> Image.Image:
    """The red channel replicated into three channels: red ink becomes light, black stays black.

    In the red channel a seal is still about 10% darker than the paper, enough for the text detector to read its
    characters. With ``drop_seal`` (off by default: on blurred photos it leaves halos and costs accuracy) the seal's
    own pixels (green well under half of red; brown print is about 0.6,
    black and paper about 1, whatever the light) are replaced by the surrounding paper brightness. Black text under
    the seal stays black, since the ink is multiplied, not covered.
    """
    rgb = np.asarray(image.convert("RGB"))
    red = rgb[..., 0]
    if drop_seal:
        red_f = red.astype(np.float32)
        green_f = rgb[..., 1].astype(np.float32)
        seal = ((green_f < 0.5 * red_f) & (red > 60)).astype(np.uint8)
        if seal.any():
            seal = cv2.dilate(seal, np.ones((3, 3), np.uint8)).astype(bool)
            red = np.where(seal, _background(red), red)
    return Image.fromarray(np.ascontiguousarray(np.dstack([red, red, red])))


def otsu(image: Image.Image) -> Image.Image:
    """Black text on white by Otsu's threshold (a grey image in, a grey image out)."""
    _, binary = cv2.threshold(np.asarray(image.convert("L")), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return Image.fromarray(binary)


def for_rapidocr(image: Image.Image, kind: str) -> Image.Image:
    image = to_working_resolution(image)
    if kind in ("invoice", "vehicle_license"):
        image = red_channel_rgb(image)
    return image


def _flatten_light(channel: np.ndarray) -> np.ndarray:
    """Divide by the estimated paper brightness so shadows and gradients disappear."""
    background = _background(channel).astype(np.float32)
    flat = channel.astype(np.float32) / np.maximum(background, 1.0) * 255.0
    return flat.clip(0, 255).astype(np.uint8)


def estimate_skew(gray: np.ndarray, max_angle: float = 8.0) -> float:
    """Skew in degrees (positive = counter-clockwise text) by maximising the variance of row projections."""
    h, w = gray.shape
    scale = 900 / max(w, 1)
    small = cv2.resize(gray, (900, max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    center = (binary.shape[1] / 2, binary.shape[0] / 2)

    def score(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(center, angle, 1.0)
        rotated = cv2.warpAffine(binary, matrix, (binary.shape[1], binary.shape[0]), flags=cv2.INTER_NEAREST)
        rows = rotated.sum(axis=1, dtype=np.float64)
        return float(np.var(rows))

    best = max(np.arange(-max_angle, max_angle + 0.01, 0.5), key=score)
    fine = max(np.arange(best - 0.5, best + 0.51, 0.1), key=score)
    return float(round(fine, 2))


def _rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    if abs(angle) < 0.05:
        return gray
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def for_tesseract(image: Image.Image, kind: str) -> Image.Image:
    """Binary, deskewed, line-free image for Tesseract."""
    rgb = np.asarray(image.convert("RGB"))
    long_side = max(rgb.shape[:2])
    scale = 1.0
    if long_side < TESSERACT_WIDTH * 0.8 or long_side > TESSERACT_WIDTH * 1.3:
        scale = TESSERACT_WIDTH / long_side
    if scale != 1.0:
        rgb = cv2.resize(
            rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        )
    channels = [_flatten_light(rgb[..., i]) for i in range(3)]
    r, g, b = (c.astype(np.int16) for c in channels)
    gray = cv2.cvtColor(np.dstack(channels), cv2.COLOR_RGB2GRAY)
    # Red print (seals): green under 45% of red whatever the light (brown print is about 60%, black and paper 100%).
    seal = (g * 100 < r * 45) & (b * 100 < r * 60) & (r > 90)
    gray = np.where(seal, 255, gray).astype(np.uint8)
    angle = estimate_skew(gray)
    gray = _rotate(gray, angle)
    gray = cv2.GaussianBlur(gray, (3, 3), 0)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Strip long horizontal and vertical lines (table borders) so they are not read as characters.
    ink = 255 - binary
    h, w = ink.shape
    horizontal = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(40, w // 30), 1))
    )
    vertical = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(40, h // 25)))
    )
    lines = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    ink = cv2.bitwise_and(ink, cv2.bitwise_not(lines))
    return Image.fromarray(255 - ink)

"""Phone-photo damage: perspective, shadow, glare, crumple and motion blur (on top of the scan damages)."""

from __future__ import annotations

import io
import math
import random

import cv2
import numpy as np
from PIL import Image

__all__ = ["photo"]


def _perspective(arr: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = arr.shape[:2]
    pad = int(0.06 * w)
    bg = np.array([rng.randint(60, 150) for _ in range(3)], dtype=np.uint8)
    canvas = np.empty((h + 2 * pad, w + 2 * pad, 3), dtype=np.uint8)
    canvas[:] = bg
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = 0.035
    dst = np.float32(
        [
            [pad + rng.uniform(-j, j) * w, pad + rng.uniform(-j, j) * h],
            [pad + w + rng.uniform(-j, j) * w, pad + rng.uniform(-j, j) * h],
            [pad + w + rng.uniform(-j, j) * w, pad + h + rng.uniform(-j, j) * h],
            [pad + rng.uniform(-j, j) * w, pad + h + rng.uniform(-j, j) * h],
        ]
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(
        arr, matrix, (canvas.shape[1], canvas.shape[0]), dst=canvas, borderMode=cv2.BORDER_TRANSPARENT
    )


def _crumple(arr: np.ndarray, rng: random.Random) -> np.ndarray:
    """A smooth random displacement field with matching shading, like creased paper."""
    h, w = arr.shape[:2]
    seed = np.random.default_rng(rng.randrange(2**32))
    coarse = seed.normal(0, 1, (6, 9, 2)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    amp = rng.uniform(2, 5)
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(
        arr,
        xx + field[..., 0] * amp,
        yy + field[..., 1] * amp,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    gy, gx = np.gradient(field[..., 0])
    shade = 1.0 + np.clip((gx + gy) * 8, -0.12, 0.12)
    return np.clip(out.astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)


def _shadow(arr: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = arr.shape[:2]
    small = 8
    mask = np.zeros((h // small, w // small), dtype=np.float32)
    x0 = rng.uniform(0.0, 0.6) * w
    pts = np.array(
        [
            [x0, 0],
            [x0 + rng.uniform(0.2, 0.5) * w, 0],
            [x0 + rng.uniform(0.0, 0.6) * w, h],
            [x0 - 0.2 * w, h],
        ],
        dtype=np.float32,
    )
    cv2.fillPoly(mask, [(pts / small).astype(np.int32)], 1.0)
    mask = cv2.resize(
        cv2.GaussianBlur(mask, (0, 0), w * 0.03 / small), (w, h), interpolation=cv2.INTER_LINEAR
    )
    depth = rng.uniform(0.25, 0.45)
    return np.clip(arr.astype(np.float32) * (1 - depth * mask[..., None]), 0, 255).astype(np.uint8)


def _glare(arr: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = arr.shape[:2]
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    rx, ry = rng.uniform(0.05, 0.12) * w, rng.uniform(0.04, 0.1) * h
    xx, yy = np.meshgrid(np.arange(0, w, 8, dtype=np.float32), np.arange(0, h, 8, dtype=np.float32))
    spot = cv2.resize(np.exp(-(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)), (w, h))
    strength = rng.uniform(0.35, 0.6)
    out = arr.astype(np.float32) + (255 - arr.astype(np.float32)) * (strength * spot)[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def _motion_blur(arr: np.ndarray, rng: random.Random) -> np.ndarray:
    length = rng.randint(1, 3)
    angle = rng.uniform(0, math.pi)
    kernel = np.zeros((length * 2 + 1, length * 2 + 1), dtype=np.float32)
    for t in np.linspace(-length, length, 4 * length + 1):
        kernel[int(round(length + t * math.sin(angle))), int(round(length + t * math.cos(angle)))] = 1
    kernel /= kernel.sum()
    return cv2.filter2D(arr, -1, kernel)


def photo(image: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo of the page: perspective, crumple, shadow, glare, motion blur, noise, JPEG, lower resolution."""
    arr = np.asarray(image.convert("RGB")).copy()
    arr = _crumple(arr, rng)
    arr = _perspective(arr, rng)
    arr = _shadow(arr, rng)
    if rng.random() < 0.8:
        arr = _glare(arr, rng)
    arr = _motion_blur(arr, rng)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(3, 8), arr.shape)
    arr = np.clip(arr + noise.astype(np.float32), 0, 255).astype(np.uint8)
    img = Image.fromarray(arr)
    factor = rng.uniform(0.8, 0.95)
    img = img.resize((int(img.width * factor), int(img.height * factor)), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(55, 80))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")

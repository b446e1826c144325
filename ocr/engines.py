"""OCR engines behind one interface: RapidOCR (PP-OCR models on onnxruntime) and Tesseract (pytesseract).

An engine is *available* when its package (and, for Tesseract, the binary and languages) is installed; a missing
engine is reported, never raised.  Every call is bounded by a timeout.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

logger = logging.getLogger(__name__)

__all__ = [
    "EngineError",
    "EngineTimeout",
    "OcrEngine",
    "RapidOcrEngine",
    "TesseractEngine",
    "TextLine",
    "get_engine",
    "resolve_engines",
]

DEFAULT_TIMEOUT_SECONDS = 60.0


class EngineError(RuntimeError):
    """The engine ran but could not produce a result for this image (the reading is unknown)."""


class EngineTimeout(EngineError):
    """The engine did not answer within its time limit."""


@dataclass(frozen=True)
class TextLine:
    """One recognised line: text, confidence 0..1 and its quadrilateral (four (x, y) points, clockwise from top-left)."""

    text: str
    confidence: float
    box: tuple[tuple[float, float], ...]
    engine: str = ""

    @property
    def x0(self) -> float:
        return min(p[0] for p in self.box)

    @property
    def x1(self) -> float:
        return max(p[0] for p in self.box)

    @property
    def y0(self) -> float:
        return min(p[1] for p in self.box)

    @property
    def y1(self) -> float:
        return max(p[1] for p in self.box)

    @property
    def angle(self) -> float:
        """Angle of the top edge in degrees (positive = clockwise in image coordinates)."""
        (ax, ay), (bx, by) = self.box[0], self.box[1]
        return math.degrees(math.atan2(by - ay, bx - ax))


@dataclass
class OcrEngine:
    """Base class. Subclasses implement ``_load_check`` and ``_recognize``."""

    name: str = ""
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    missing_reason: str = field(default="", init=False)

    def available(self) -> bool:
        raise NotImplementedError

    def recognize(self, image: Image.Image, timeout: float | None = None) -> list[TextLine]:
        raise NotImplementedError


# --- RapidOCR ---------------------------------------------------------------------------------------------------

_rapid_lock = threading.Lock()
_rapid_instance = None
_rapid_executor: concurrent.futures.ThreadPoolExecutor | None = None


def _rapid_engine():
    """The process-wide RapidOCR object, created on first use with the bundled default models only."""
    global _rapid_instance, _rapid_executor
    with _rapid_lock:
        if _rapid_instance is None:
            from rapidocr import RapidOCR  # imported lazily: heavy, and optional

            started = time.monotonic()
            _rapid_instance = RapidOCR(params={"Global.log_level": "warning"})
            _rapid_executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="rapidocr"
            )
            logger.info("RapidOCR loaded in %.2f s", time.monotonic() - started)
        return _rapid_instance


@dataclass
class RapidOcrEngine(OcrEngine):
    name: str = "rapidocr"

    def available(self) -> bool:
        try:
            import onnxruntime  # noqa: F401
            import rapidocr  # noqa: F401
        except Exception as exc:  # ImportError, or a broken native library
            self.missing_reason = f"rapidocr 未安装（{type(exc).__name__}）"
            return False
        return True

    def raw_call(self, image: Image.Image):
        """The bare engine call on an RGB image (used by the benchmark as the reference time)."""
        import numpy as np

        engine = _rapid_engine()
        return engine(np.asarray(image.convert("RGB")))

    def recognize(self, image: Image.Image, timeout: float | None = None) -> list[TextLine]:
        _rapid_engine()
        assert _rapid_executor is not None
        future = _rapid_executor.submit(self.raw_call, image)
        try:
            output = future.result(timeout=timeout or self.timeout)
        except concurrent.futures.TimeoutError as exc:
            raise EngineTimeout(f"rapidocr 超时（{timeout or self.timeout:.0f} 秒）") from exc
        except Exception as exc:  # the engine's own failures make the reading unknown
            raise EngineError(f"rapidocr 出错：{exc}") from exc
        lines: list[TextLine] = []
        if output is None or output.txts is None:
            return lines
        for text, score, box in zip(output.txts, output.scores, output.boxes, strict=False):
            points = tuple((float(x), float(y)) for x, y in box)
            lines.append(TextLine(text=str(text), confidence=float(score), box=points, engine=self.name))
        return lines


# --- Tesseract --------------------------------------------------------------------------------------------------


@dataclass
class TesseractEngine(OcrEngine):
    name: str = "tesseract"
    lang: str = "chi_sim+eng"
    psm: int = 6

    def available(self) -> bool:
        try:
            import pytesseract
        except ImportError:
            self.missing_reason = "pytesseract 未安装"
            return False
        try:
            langs = set(pytesseract.get_languages(config=""))
        except Exception as exc:  # binary missing or not runnable
            self.missing_reason = f"tesseract 程序不可用（{type(exc).__name__}）"
            return False
        wanted = set(self.lang.split("+"))
        if not wanted <= langs:
            self.missing_reason = f"tesseract 缺少语言包：{'、'.join(sorted(wanted - langs))}"
            return False
        return True

    def _run(self, image: Image.Image, timeout: float, output_type: str):
        import pytesseract

        # Tesseract's OpenMP threading is 3.4x slower on two cores: one thread per call, always.
        os.environ["OMP_THREAD_LIMIT"] = "1"
        return pytesseract.image_to_data(
            image,
            lang=self.lang,
            config=f"--psm {self.psm}",
            timeout=timeout,
            output_type=output_type,
        )

    def raw_call(self, image: Image.Image, timeout: float | None = None):
        import pytesseract

        return self._run(image, timeout or self.timeout, pytesseract.Output.DICT)

    def read_line(self, image: Image.Image, timeout: float | None = None, lang: str | None = None) -> str:
        """The text of one cropped line (page segmentation mode 7); raises ``EngineError``."""
        import pytesseract

        os.environ["OMP_THREAD_LIMIT"] = "1"
        try:
            return pytesseract.image_to_string(
                image, lang=lang or self.lang, config="--psm 7", timeout=timeout or self.timeout
            )
        except RuntimeError as exc:
            raise EngineError(f"tesseract 出错：{exc}") from exc
        except pytesseract.TesseractError as exc:
            raise EngineError(f"tesseract 出错：{exc}") from exc

    def recognize(self, image: Image.Image, timeout: float | None = None) -> list[TextLine]:
        import pytesseract

        try:
            data = self.raw_call(image, timeout)
        except RuntimeError as exc:
            # pytesseract raises RuntimeError("Tesseract process timeout") on timeout.
            if "timeout" in str(exc).lower():
                raise EngineTimeout(f"tesseract 超时（{timeout or self.timeout:.0f} 秒）") from exc
            raise EngineError(f"tesseract 出错：{exc}") from exc
        except pytesseract.TesseractError as exc:
            raise EngineError(f"tesseract 出错：{exc}") from exc
        return _tesseract_lines(data, self.name)


def _tesseract_lines(data: dict, engine: str) -> list[TextLine]:
    """Group Tesseract words into lines, splitting a line where the gap between words is wide (table cells)."""
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i, word in enumerate(data["text"]):
        if not str(word).strip():
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        groups.setdefault(key, []).append(i)
    lines: list[TextLine] = []
    for indexes in groups.values():
        indexes.sort(key=lambda i: data["left"][i])
        heights = sorted(data["height"][i] for i in indexes)
        gap_limit = max(heights[len(heights) // 2], 8) * 2.2
        run: list[int] = []
        for i in indexes:
            if run:
                prev = run[-1]
                gap = data["left"][i] - (data["left"][prev] + data["width"][prev])
                if gap > gap_limit:
                    lines.append(_tesseract_line(data, run, engine))
                    run = []
            run.append(i)
        if run:
            lines.append(_tesseract_line(data, run, engine))
    return lines


def _tesseract_line(data: dict, run: Sequence[int], engine: str) -> TextLine:
    words = [str(data["text"][i]).strip() for i in run]
    text = ""
    for word in words:
        # Tesseract separates CJK characters with spaces; keep spaces only between Latin/digit words.
        if text and text[-1].isascii() and text[-1].isalnum() and word[:1].isascii() and word[:1].isalnum():
            text += " "
        text += word
    confs = [float(data["conf"][i]) for i in run if float(data["conf"][i]) >= 0]
    confidence = (sum(confs) / len(confs) / 100.0) if confs else 0.0
    x0 = min(data["left"][i] for i in run)
    y0 = min(data["top"][i] for i in run)
    x1 = max(data["left"][i] + data["width"][i] for i in run)
    y1 = max(data["top"][i] + data["height"][i] for i in run)
    box = ((float(x0), float(y0)), (float(x1), float(y0)), (float(x1), float(y1)), (float(x0), float(y1)))
    return TextLine(text=text, confidence=confidence, box=box, engine=engine)


# --- registry ---------------------------------------------------------------------------------------------------

ENGINE_CLASSES: dict[str, type[OcrEngine]] = {
    "rapidocr": RapidOcrEngine,
    "tesseract": TesseractEngine,
}

_availability_cache: dict[str, tuple[bool, str]] = {}


def get_engine(name: str, timeout: float | None = None) -> OcrEngine | None:
    cls = ENGINE_CLASSES.get(name)
    if cls is None:
        return None
    engine = cls()
    if timeout:
        engine.timeout = float(timeout)
    return engine


def resolve_engines(
    names: Sequence[str] | None = None, timeout: float | None = None
) -> tuple[list[OcrEngine], list[str]]:
    """The configured engines that are installed, and the names of those that are not (with reasons logged)."""
    if names is None:
        from django.conf import settings

        names = list(getattr(settings, "OCR_ENGINES", ["rapidocr", "tesseract"]))
        if timeout is None:
            timeout = float(getattr(settings, "OCR_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    engines: list[OcrEngine] = []
    missing: list[str] = []
    for name in names:
        name = name.strip().lower()
        if not name:
            continue
        engine = get_engine(name, timeout)
        if engine is None:
            missing.append(name)
            continue
        if name not in _availability_cache:
            ok = engine.available()
            _availability_cache[name] = (ok, engine.missing_reason)
        ok, reason = _availability_cache[name]
        if ok:
            engines.append(engine)
        else:
            logger.warning("OCR engine %s is not available: %s", name, reason)
            missing.append(name)
    return engines, missing

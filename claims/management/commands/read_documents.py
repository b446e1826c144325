"""``manage.py read_documents --kind KIND FILE [FILE ...]``: one JSON line per file with the fields read."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ocr.readers import FIELDS, KINDS
from ocr.reading import read_document


class Command(BaseCommand):
    help = "Read claim documents with the configured OCR engines and print one JSON object per file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, **options) -> None:
        kind = options["kind"]
        if kind not in KINDS:
            raise CommandError(f"unknown kind {kind}")
        for name in options["files"]:
            path = Path(name)
            result = read_document(kind, path)
            fields = {name: {"value": None, "confident": False} for name in FIELDS[kind]}
            for name, reading in result.fields.items():
                fields[name] = {
                    "value": _text(reading.to_json()["value"]),
                    "confident": bool(reading.confident),
                }
            line = {
                "file": str(path),
                "kind": kind,
                "seconds": round(result.seconds, 3),
                "engines": result.engines,
                "fields": fields,
                "error": result.error or _no_engine(result),
            }
            self.stdout.write(json.dumps(line, ensure_ascii=False))


def _no_engine(result) -> str | None:
    if result.engines:
        return None
    if result.engines_missing:
        return "OCR 引擎未安装：" + "，".join(result.engines_missing)
    return "未配置 OCR 引擎"


def _text(value) -> str | None:
    return None if value is None else str(value)

"""The layout's rules, checked on the source: ocr is a library, and no import hides inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(), filename=str(path))


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def test_ocr_imports_nothing_from_claims():
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _modules("ocr")
        for node in ast.walk(tree)
        if any(name == "claims" or name.startswith("claims.") for name in _imported(node))
    ]
    assert offenders == []


def test_no_import_inside_a_function_in_claims():
    offenders = []
    for path, tree in _modules("claims"):
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                offenders += [
                    f"{path.relative_to(ROOT)}:{node.lineno}"
                    for node in ast.walk(func)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
    assert offenders == []

"""Where the grammar and the rulebook library are: inside the package in an installed wheel
(``jxdsl/grammar``, ``jxdsl/rulebooks``, mapped there by pyproject.toml's ``package-dir``), or
next to the package in a checkout (``grammar/``, ``rulebooks/``), whose layout stays as it is."""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _first(*candidates: Path) -> Path:
    return next((p for p in candidates if p.exists()), candidates[-1])


def grammar_file() -> Path:
    """The Lark grammar of the rulebook language."""
    return _first(_PACKAGE / "grammar" / "jxdsl.lark", _PACKAGE.parent / "grammar" / "jxdsl.lark")


def library_dir() -> Path:
    """The national and provincial rulebooks shipped with jxdsl."""
    return _first(_PACKAGE / "rulebooks", _PACKAGE.parent / "rulebooks")


CACHE_ENV = "JXDSL_CACHE_DIR"


def cache_dir() -> Path:
    """The user's own cache folder (never a shared temporary folder: the parser cache is a pickle)."""
    import os
    import sys

    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "jxdsl" / "Cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jxdsl"


def parser_cache(grammar: str) -> str | bool:
    """Where Lark keeps the built LALR tables for this grammar, Lark and Python (about 100 ms saved
    on each start), or False when no cache folder can be made: then the parser is built each time.
    Lark checks the grammar's hash inside the file, rebuilds on a mismatch or a damaged file, and
    silently skips writing into a read-only folder."""
    import hashlib
    import sys

    import lark

    key = hashlib.sha256(f"{grammar}\0{lark.__version__}\0{sys.version_info[:2]}".encode()).hexdigest()[:16]
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(folder / f"parser-{key}.lark")

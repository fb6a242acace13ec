"""Language knowledge as data: one TOML file per language (``de.toml``, ``en.toml``). A text is
matched against every language's entries (customers mix languages); add a language by adding a
file with the same keys."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent


@cache
def entries(name: str, directory: Path = DIRECTORY) -> tuple[str, ...]:
    """Every language's entries under ``name`` (a string or a list), in file order; ``{person}`` in
    a pattern stands for that file's ``person`` pattern."""
    found: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        value = data.get(name, [])
        found += [v.replace("{person}", data.get("person", "")) for v in ([value] if isinstance(value, str) else value)]
    return tuple(found)

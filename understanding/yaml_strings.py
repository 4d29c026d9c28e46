"""Every string (keys included) inside a parsed YAML document: the words of a word list."""
from __future__ import annotations

from typing import Any, Iterable


def yaml_strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield key
            yield from yaml_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from yaml_strings(item)

"""Numbers in YAML and JSON facts files, kept exact and bounded before they become text.

Python's loaders turn ``1e999999999`` into infinity, ``1e-99999999`` into 0.0 (a silent wrong
value), ``0.12345678901234567890`` into a rounded float, and a 5000-digit integer into an int that
cannot be printed (Python's 4300-digit limit).  Here a number that a float does not hold exactly
stays a ``Decimal`` (``inputs.as_text`` writes it, ``units.number_problem`` refuses what is out of
range), and an integer longer than ``units.MAX_DIGITS`` stays the text it was written as.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import yaml

from jxdsl.units import MAX_DIGITS


def exact_float(text: str) -> float | Decimal:
    """A float when it is the written number exactly (as before), else the number as a Decimal."""
    f = float(text)
    try:
        exact = Decimal(text)
    except InvalidOperation:  # .inf, .nan, 1:30 (YAML's sexagesimal): as the loader read it
        return f
    return f if exact.is_finite() and Decimal(repr(f)) == exact else exact


def bounded_int(text: str) -> int | str:
    """An integer, or its text when it has more digits than any number may have (refused later)."""
    return int(text) if len(text.lstrip("+-")) <= MAX_DIGITS + 1 else text


JSON_HOOKS = {"parse_float": exact_float, "parse_int": bounded_int}


class YamlLoader(yaml.SafeLoader):
    """``yaml.safe_load`` with exact, bounded numbers."""


def _yaml_int(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node)
    return text if len(text.replace("_", "")) > MAX_DIGITS + 1 else yaml.SafeLoader.construct_yaml_int(loader, node)


def _yaml_float(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node).replace("_", "")
    if text.lower().lstrip("+-") in (".inf", ".nan") or ":" in text:
        return yaml.SafeLoader.construct_yaml_float(loader, node)
    return exact_float(text)


YamlLoader.add_constructor("tag:yaml.org,2002:int", _yaml_int)
YamlLoader.add_constructor("tag:yaml.org,2002:float", _yaml_float)

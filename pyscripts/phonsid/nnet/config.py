"""The networks' YAML configurations (``conf/bnf1.yaml``, ``conf/xvector.yaml``, ...): reading a file, the
``section.key=value`` overrides of the trainers' ``--set`` option, and building each section's dataclass.

A configuration is a mapping of sections (``model:``, ``train:``, ...), each a mapping of key: value. Errors are
``error`` (each network passes its own ``ValueError`` subclass) naming the file (or the defaults), the section and
the key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Collection, Sequence, TypeVar

import yaml

T = TypeVar("T")


def check_sections(d: Any, sections: Collection[str], source: str, error: type[ValueError] = ValueError) -> None:
    """Raises ``error`` unless ``d`` is a mapping whose keys are all in ``sections``."""
    if not isinstance(d, dict):
        raise error(f"{source}: expected a mapping with sections {', '.join(sections)}")
    unknown = sorted(set(d) - set(sections))
    if unknown:
        raise error(f"{source}: unknown section(s) {', '.join(unknown)} (known: {', '.join(sections)})")


def apply_overrides(d: dict[str, Any], overrides: Sequence[str], sections: Collection[str],
                    error: type[ValueError] = ValueError) -> dict[str, Any]:
    """``section.key=value`` overrides, the value parsed as YAML (``train.num_epochs=1``, ``input.splice=[-2,0,2]``);
    ``section=value`` replaces one of ``sections`` whole (``multitask=null`` removes a bottleneck DNN's speaker
    head). Returns a new mapping; a section that is neither a mapping nor null is an error."""
    for k, v in d.items():
        if v is not None and not isinstance(v, dict):
            raise error(f"section '{k}' must be a mapping of key: value, got {type(v).__name__}")
    d = {k: (dict(v) if isinstance(v, dict) else v) for k, v in d.items()}
    for item in overrides:
        key, eq, value = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not eq or not section or not (name if dot else section in sections):
            raise error(f"override '{item}' is not of the form section.key=value")
        if not dot:
            d[section] = yaml.safe_load(value)
            continue
        if not isinstance(d.get(section), dict):
            d[section] = {}
        d[section][name.replace("-", "_")] = yaml.safe_load(value)
    return d


def load_yaml_config(path: str | Path | None, overrides: Sequence[str] | None, what: str, defaults_name: str,
                     sections: Collection[str], error: type[ValueError] = ValueError) -> tuple[dict[str, Any], str]:
    """The mapping in a network's YAML config file (``{}`` when ``path`` is None: the built-in defaults) with
    ``overrides`` applied, and the name messages give it (the path, or ``defaults_name``). Errors say
    "<what> <path> ..." or "<source>: ..."."""
    if not path:
        d, source = {}, defaults_name
    else:
        try:
            with open(path, encoding="utf-8") as f:
                d = yaml.safe_load(f) or {}
        except FileNotFoundError:
            raise error(f"{what} {path} does not exist") from None
        except yaml.YAMLError as e:
            raise error(f"{what} {path}: invalid YAML ({e})") from None
        source = str(path)
    if not isinstance(d, dict):
        raise error(f"{source}: expected a mapping with sections {', '.join(sections)}")
    try:
        return apply_overrides(d, overrides or [], sections, error), source
    except error as e:
        raise error(f"{source}: {e}") from None


def config_section(cls: type[T], d: Any, name: str, source: str, error: type[ValueError] = ValueError) -> T:
    """The dataclass ``cls`` of one section (all defaults when the section is absent or null; built with
    ``cls.from_dict`` when it has one); a section that is not a mapping, an unknown key or a rejected value is an
    ``error`` naming ``source`` and the section."""
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise error(f"{source}: section '{name}' must be a mapping of key: value")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise error(f"{source}: unknown key(s) in '{name}': {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    try:
        return cls.from_dict(d) if hasattr(cls, "from_dict") else cls(**d)
    except (TypeError, ValueError) as e:
        raise error(f"{source}: section '{name}': {e}") from None

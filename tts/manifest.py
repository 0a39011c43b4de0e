"""A run's ``manifest.json``: what it must hold, how configs are compared, the errors about it.

The manifest is the run's identity (schema version, the config every stage bound, package and model
versions, stage times, warnings). :func:`load_manifest` accepts only a JSON object with an integer
``schema_version`` this ttscale supports and object-valued sections; anything else is one
:class:`RunDirError` line naming the problem (a manifest holding ``[]``, a string, ``"schema_version": "1"``).

Example:
    >>> config_differences({"n": 8, "t": 0.7}, {"n": 4, "t": 0.7})
    ['n: the run has 8, this command asks for 4']
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tts.errors import TTSError
from tts.records import SCHEMA_VERSION

_PACKAGES = ("ttscale", "torch", "torchvision", "transformers", "vllm", "datasets", "math-verify", "numpy")


class ConfigConflict(TTSError, RuntimeError):
    """A command's settings differ from the settings the run directory was created with."""


class RunDirError(TTSError, RuntimeError):
    """The directory is not a usable run directory (bad manifest, newer schema, corrupt record file, …)."""


class ReadOnlyRun(RunDirError):
    """A write through a run directory opened for reading."""


MANIFEST_SECTIONS = ("config", "models", "stages", "warnings")

POLICY_ENGINE = "policy_engine"
"""Manifest key of the engine name and options the rollouts were sampled with (``tts pairs`` reuses them)."""
"""Manifest keys that must hold JSON objects when present."""

def load_manifest(mpath: Path) -> dict[str, Any]:
    """Read and check ``manifest.json``; any problem is one :class:`RunDirError` line naming it."""
    try:
        manifest = json.loads(mpath.read_bytes())
    except (ValueError, OSError) as exc:
        raise RunDirError(f"{mpath}: unreadable manifest ({exc}); restore it, or write to a new --out") from exc
    if not isinstance(manifest, dict):
        raise RunDirError(f"{mpath}: not a ttscale manifest (a JSON {_json_type(manifest)}, expected an object "
                          "with schema_version); restore it, or write to a new --out")
    version = manifest.get("schema_version")
    if "schema_version" not in manifest:
        raise RunDirError(f"{mpath}: not a ttscale manifest (no schema_version); restore it, or write to a new --out")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RunDirError(f"{mpath}: schema_version is {version!r} (a JSON {_json_type(version)}), expected a "
                          f"positive integer such as {SCHEMA_VERSION}; fix the manifest")
    if version > SCHEMA_VERSION:
        raise RunDirError(f"{mpath}: schema version {version} is newer than this ttscale supports "
                          f"(<= {SCHEMA_VERSION}); upgrade ttscale")
    for key in MANIFEST_SECTIONS:
        if key in manifest and not isinstance(manifest[key], dict):
            raise RunDirError(f"{mpath}: {key!r} is a JSON {_json_type(manifest[key])}, expected an object; "
                              "fix the manifest")
    return manifest


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
             type(None): "null"}
    return names.get(type(value), type(value).__name__)


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that decide a run's numbers (without importing them)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def normalise(value: Any) -> Any:
    """JSON round-trip semantics (tuples are lists) so comparisons match what the manifest stores."""
    if isinstance(value, tuple | list):
        return [normalise(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    return value


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human-readable lines naming every key whose value differs between two config sections."""
    a, b = _flatten(normalise(old), prefix), _flatten(normalise(new), prefix)
    lines = []
    for key in sorted(a.keys() | b.keys()):
        if a.get(key, "<unset>") != b.get(key, "<unset>"):
            lines.append(f"{key}: the run has {a.get(key, '<unset>')!r}, this command asks for {b.get(key, '<unset>')!r}")
    return lines


def new_manifest() -> dict[str, Any]:
    """The manifest of a run directory just created."""
    now = utc_now()
    return {"schema_version": SCHEMA_VERSION, "created": now, "updated": now, "versions": package_versions(),
            "config": {}, "models": {}, "stages": {}, "warnings": {}}

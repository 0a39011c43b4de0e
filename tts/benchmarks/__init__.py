"""Benchmarks by name (``NAME[:SPLIT][@SUBSET,...]``), loaded from the hub or a local copy into Problems.

The seven reasoning benchmarks of the InternVL3 / VisualPRM table are registered, plus the bundled
``demo``; the group ``reasoning7`` names all seven (in the table's column order). Subsets pick MMMU
subjects (``mmmu:validation@Math,Physics``) or MathVerse versions (``mathverse@vision_dominant``).

==============  =====================================  ==========================  ======================
name            hub id                                 splits (default first)      subsets
==============  =====================================  ==========================  ======================
``mmmu``        ``MMMU/MMMU``                          validation, dev, test       30 subjects (all)
``mathvista``   ``AI4Math/MathVista``                  testmini, test              –
``mathvision``  ``MathLLMs/MathVision``                test, testmini              –
``mathverse``   ``AI4Math/MathVerse``                  testmini                    5 versions (Vision Only)
``dynamath``    ``DynaMath/DynaMath_Sample``           all, sample_variant1..10    –
``wemath``      ``We-Math/We-Math``                    testmini                    –
``logicvista``  ``lscpku/LogicVista``                  test                        –
==============  =====================================  ==========================  ======================

With ``data_dir`` (or ``$TTS_DATA_DIR``) each dataset is read from ``ROOT/<org>/<name>``, a hub snapshot,
fully offline. Each module's docstring documents how its rows map into :class:`~tts.records.Problem`.

Example:
    >>> import tempfile
    >>> from tts.images import ImageStore
    >>> loaded = load_problems("demo", store=ImageStore(tempfile.mkdtemp()), limit=2)
    >>> [p.id for p in loaded.problems]
    ['demo-1', 'demo-2']
    >>> expand_spec("reasoning7")
    ['mmmu', 'mathvista', 'mathvision', 'mathverse', 'dynamath', 'wemath', 'logicvista']
    >>> max_tiles("mmmu"), max_tiles("mathvista"), max_tiles("mmmu", n_images=7)
    (12, 6, 9)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts.benchmarks.base import Benchmark, BenchmarkError, LoadedProblems, Progress
from tts.images import ImageStore
from tts.registry import Registry

BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")
BENCHMARKS.register("demo", "tts.benchmarks.demo:DemoBenchmark")
BENCHMARKS.register("mmmu", "tts.benchmarks.mmmu:MMMU")
BENCHMARKS.register("mathvista", "tts.benchmarks.mathvista:MathVista")
BENCHMARKS.register("mathvision", "tts.benchmarks.mathvision:MathVision")
BENCHMARKS.register("mathverse", "tts.benchmarks.mathverse:MathVerse")
BENCHMARKS.register("dynamath", "tts.benchmarks.dynamath:DynaMath")
BENCHMARKS.register("wemath", "tts.benchmarks.wemath:WeMath")
BENCHMARKS.register("logicvista", "tts.benchmarks.logicvista:LogicVista")

#: The seven reasoning benchmarks of the seeds' table, in its column order; "Overall" is their mean.
REASONING7: tuple[str, ...] = ("mmmu", "mathvista", "mathvision", "mathverse", "dynamath", "wemath", "logicvista")
GROUPS: dict[str, tuple[str, ...]] = {"reasoning7": REASONING7}

#: VLMEvalKit ``set_max_num``: the total tile budget shared by all images of one question.
TOTAL_MAX_TILES = 64


@dataclass(frozen=True)
class BenchmarkSpec:
    """A parsed ``NAME[:SPLIT][@SUBSET,...]``."""

    name: str
    split: str | None = None
    subsets: tuple[str, ...] = ()


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"mathvista:testmini"`` → ``("mathvista", "testmini")``; no split → ``(name, None)``."""
    full = parse_full_spec(spec)
    return full.name, full.split


def parse_full_spec(spec: str) -> BenchmarkSpec:
    """``"mmmu:validation@Math,Physics"`` → ``BenchmarkSpec("mmmu", "validation", ("Math", "Physics"))``."""
    head, _, subset_part = spec.partition("@")
    name, _, split = head.partition(":")
    subsets = tuple(s.strip() for s in subset_part.split(",") if s.strip())
    return BenchmarkSpec(name.strip().lower(), split.strip() or None, subsets)


def expand_spec(spec: str) -> list[str]:
    """A group name becomes its members' specs; any other spec is returned as the only element."""
    full = parse_full_spec(spec)
    if full.name in GROUPS:
        if full.split or full.subsets:
            raise BenchmarkError(f"group {full.name!r} takes no split or subset (got {spec!r})")
        return list(GROUPS[full.name])
    return [spec]


def benchmark(name: str) -> Benchmark:
    """A registered benchmark by name (a clear error lists the known names and groups)."""
    try:
        return BENCHMARKS.get(name)()
    except KeyError as exc:
        raise BenchmarkError(f"{exc.args[0]}; groups: {', '.join(GROUPS)}") from None


def load_problems(spec: str, *, store: ImageStore, data_dir: str | Path | None = None, limit: int | None = None,
                  ids: Collection[str] | None = None, strict: bool = False, subset: Sequence[str] | None = None,
                  progress: Progress | None = None) -> LoadedProblems:
    """Load the problems of ``NAME[:SPLIT][@SUBSET,...]`` or of a group such as ``reasoning7``.

    For a group, each member is loaded with its default split, ``limit`` applies to *each* member, and
    problems and warnings are concatenated in the group's order. ``subset`` adds to the spec's ``@``
    subsets. ``data_dir`` falls back to ``$TTS_DATA_DIR``; without either, datasets come from the hub.
    """
    members = expand_spec(spec)
    if len(members) > 1 or members[0] != spec:
        if subset:
            raise BenchmarkError(f"group {spec!r} takes no subset (got {', '.join(subset)})")
        problems, warnings = [], []
        for member in members:
            loaded = load_problems(member, store=store, data_dir=data_dir, limit=limit, ids=ids, strict=strict,
                                   progress=progress)
            problems.extend(loaded.problems)
            warnings.extend(loaded.warnings)
        return LoadedProblems(problems, warnings)
    full = parse_full_spec(spec)
    bench = benchmark(full.name)
    split = bench.check_split(full.split)
    subsets = tuple(full.subsets) + tuple(subset or ())
    kwargs: dict = {}
    if subsets:
        kwargs["subsets"] = subsets
    if progress is not None and hasattr(bench, "hub_id"):
        kwargs["progress"] = progress
    if subsets and not bench.subsets:
        raise BenchmarkError(f"{bench.name} has no subsets; got {', '.join(subsets)}")
    return bench.load(split, store=store, data_dir=Path(data_dir) if data_dir else None, limit=limit, ids=ids,
                      strict=strict, **kwargs)


def max_tiles(name: str, n_images: int = 1) -> int:
    """Dynamic-tiling budget per image for a question of ``name`` with ``n_images`` images.

    VLMEvalKit's InternVL evaluation: 6 tiles by default, 12 for MMMU, and all images of one question
    share a total of 64 (``max(1, min(max_num, 64 // n_images))``). Unknown names get the default.
    """
    base = BENCHMARKS.get(name).max_tiles if name in BENCHMARKS else Benchmark.max_tiles
    return max(1, min(base, TOTAL_MAX_TILES // max(1, n_images)))


def upscale_first_image(name: str) -> bool:
    """Whether the reference evaluation doubles the first image's size before tiling (MMMU only)."""
    return bool(BENCHMARKS.get(name).upscale_first_image) if name in BENCHMARKS else False


def as_evaluated(images: Sequence[Any], name: str | None) -> tuple[Any, ...]:
    """A problem's decoded RGB images as the reference evaluation feeds them to the model: for benchmarks
    whose VLMEvalKit InternVL evaluation upscales the first image (MMMU), that image doubled in size with
    bilinear resampling before tiling; the others unchanged."""
    images = list(images)
    if images and name and upscale_first_image(name):
        from PIL import Image

        first = images[0]
        images[0] = first.resize((first.width * 2, first.height * 2), Image.Resampling.BILINEAR)
    return tuple(images)


__all__ = ["BENCHMARKS", "GROUPS", "REASONING7", "Benchmark", "BenchmarkError", "BenchmarkSpec", "LoadedProblems",
           "benchmark", "expand_spec", "load_problems", "max_tiles", "parse_full_spec", "parse_spec",
           "upscale_first_image", "as_evaluated"]

"""Benchmark datasets: a folder with ``images/`` and ``masks/`` whose files share their stems.

Masks may be binary or soft alpha (8-bit grey, any PIL-readable format).
Nothing is decoded until asked: :class:`Sample` reads its image and mask on
demand, optionally shrunk so the long side is at most ``max_side`` (JPEG
draft decoding keeps 24 MP photos cheap). Images and masks alike go through
the project's one loader (:func:`segmentation.images.load_image`): a
decompression bomb, a truncated file or a FIFO is an :class:`ImageError` naming
the file, and only regular files named like images are indexed (a folder called
``x.png`` is not a sample). Named datasets (``icm58_objects``,
``sod_bsds300``) live under :func:`segmentation.config.datasets_dir`; any
other folder can be given by path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from segmentation.config import datasets_dir
from segmentation.images import image_files, load_image

KNOWN_DATASETS = ("icm58_objects", "sod_bsds300")
#: A mask may carry one of these after its image's stem (``cat.png`` <-> ``cat_mask.png``).
MASK_SUFFIXES = (".mask", "_mask", "-mask", "_gt", "-gt", "_alpha")


def open_rgba(
    path: Path, max_side: int | None = None, *, max_pixels: int | None = None
) -> np.ndarray:
    """Read an image as RGBA uint8 through the project's one loader, long side <= ``max_side``."""
    return load_image(path, max_side=max_side, max_pixels=max_pixels).pixels


@dataclass(frozen=True)
class Sample:
    """One image and its ground-truth mask, read lazily."""

    stem: str
    image_path: Path
    mask_path: Path
    max_side: int | None = None
    max_pixels: int | None = None

    def image(self) -> np.ndarray:
        """RGBA uint8 ``[H, W, 4]``, shrunk to ``max_side`` if set."""
        return open_rgba(self.image_path, self.max_side, max_pixels=self.max_pixels)

    def mask(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """Ground truth as float 0..1 ``[H, W]``, resized (bilinear) to ``size=(H, W)`` if set.

        The mask file is read by :func:`~segmentation.images.load_image` (EXIF
        orientation applied, like its image) and turned to grey from its colour
        channels (luma; a grey mask keeps its values exactly).
        """
        rgba = load_image(self.mask_path, max_pixels=self.max_pixels).pixels
        m = Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB").convert("L")
        if size is not None and m.size != (size[1], size[0]):
            m = m.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        return np.asarray(m, dtype=np.float64) / 255.0


@dataclass(frozen=True)
class Dataset:
    """An ordered list of samples and where they came from."""

    name: str
    root: Path
    samples: tuple[Sample, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def subset(self, limit: int | None = None, every: int = 1) -> Dataset:
        """Every ``every``-th sample, then the first ``limit`` of those (deterministic)."""
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        picked = self.samples[::every][:limit]
        return Dataset(self.name, self.root, picked, self.source)

    def pick(self, stems: Iterable[str]) -> Dataset:
        """Keep the samples with these stems, in the dataset's order (unknown stem: an error)."""
        wanted = set(stems)
        missing = sorted(wanted - {s.stem for s in self.samples})
        if missing:
            raise ValueError(f"dataset {self.name} has no image named {', '.join(missing)}")
        picked = tuple(s for s in self.samples if s.stem in wanted)
        return Dataset(self.name, self.root, picked, self.source)


def _by_stem(folder: Path) -> dict[str, Path]:
    files = image_files(folder)
    out: dict[str, Path] = {}
    for p in files:
        if p.stem in out:
            raise ValueError(
                f"{folder}: two files share the stem {p.stem!r}: {out[p.stem].name}, {p.name}"
            )
        out[p.stem] = p
    return out


def _few(names: list[str]) -> str:
    return "[" + ", ".join(names[:5]) + (", ...]" if len(names) > 5 else "]")


def _pair_masks(folder: Path, image_stems: set[str]) -> dict[str, Path]:
    """Masks by the stem of their image: exact, or the image's stem + one of MASK_SUFFIXES."""
    out: dict[str, Path] = {}
    for stem, path in _by_stem(folder).items():
        key = stem
        if stem not in image_stems:
            key = next(
                (stem[: -len(x)] for x in MASK_SUFFIXES
                 if stem.endswith(x) and stem[: -len(x)] in image_stems),
                stem,
            )  # fmt: skip
        if key in out:
            raise ValueError(
                f"{folder}: two masks for the image {key!r}: {out[key].name}, {path.name}"
            )
        out[key] = path
    return out


def resolve_root(name_or_path: str | Path) -> Path:
    """Map a known dataset name to its folder under ``datasets_dir()``; else treat it as a path."""
    if str(name_or_path) in KNOWN_DATASETS:
        return datasets_dir() / str(name_or_path)
    return Path(name_or_path).expanduser()


def load_dataset(
    name_or_path: str | Path,
    *,
    limit: int | None = None,
    every: int = 1,
    max_side: int | None = None,
    max_pixels: int | None = None,
) -> Dataset:
    """Index a dataset folder (``images/`` + ``masks/``, same stems) without decoding anything.

    Parameters
    ----------
    name_or_path : str or Path
        ``"icm58_objects"``, ``"sod_bsds300"`` or a folder.
    limit, every : int
        Subset: every ``every``-th pair in stem order, then the first ``limit``.
    max_side : int, optional
        Shrink images (and compare masks) to this long side when read.
    max_pixels : int, optional
        Pixel limit of the loader for images and masks (default: its own).

    Raises
    ------
    FileNotFoundError
        The folder, or its ``images/`` or ``masks/`` sub-folder, does not exist.
    ValueError
        Stems of images and masks do not match, or the folder holds no pairs.

    """
    root = resolve_root(name_or_path)
    if not root.is_dir():
        hint = f" (known names: {', '.join(KNOWN_DATASETS)}, under {datasets_dir()})"
        raise FileNotFoundError(f"dataset folder {root} does not exist{hint}")
    for sub in ("images", "masks"):
        if not (root / sub).is_dir():
            raise FileNotFoundError(f"dataset {root} has no {sub}/ folder")
    images, masks = (
        _by_stem(root / "images"),
        _pair_masks(root / "masks", set(_by_stem(root / "images"))),
    )
    only_img, only_mask = sorted(images.keys() - masks.keys()), sorted(masks.keys() - images.keys())
    if only_img or only_mask:
        raise ValueError(
            f"dataset {root}: images and masks do not pair up by file name "
            f"(masks/NAME.png or NAME{{{','.join(MASK_SUFFIXES)}}}.png for images/NAME.*): "
            f"{len(only_img)} image(s) without a mask {_few(only_img)}, "
            f"{len(only_mask)} mask(s) without an image {_few(only_mask)}"
        )
    if not images:
        raise ValueError(f"dataset {root} holds no image/mask pairs")
    samples = tuple(Sample(s, images[s], masks[s], max_side, max_pixels) for s in sorted(images))
    source_file = root / "SOURCE.txt"
    source = source_file.read_text(errors="replace") if source_file.is_file() else ""
    return Dataset(root.name, root, samples, source).subset(limit, every)

"""The image stage: responsive variants of a site's local raster images, and their HTML.

For each local JPEG/PNG/WebP (or other still raster image Pillow reads) the stage makes
resized variants along a width ladder, never wider than the original, in a modern format
(WebP by default, AVIF on request) plus the original's format as the fallback:
`hero.jpg` -> `hero-480w.webp`, `hero-960w.jpg`, ... and one `og_width` variant in the
fallback format for og:image and feeds. EXIF orientation is applied, metadata (EXIF, XMP,
comments) is dropped, an RGB ICC colour profile is kept, alpha is kept (a JPEG fallback is
made only for JPEG sources, which have none).

SVG, GIF (and any animated image) and remote http(s) images pass through unchanged; a local
SVG still reports its intrinsic size when it declares one.

Variants live in the cache (`SITE/.quire-cache/images/`), one folder per source keyed by
the sha256 of its bytes, one file per (width, format, quality, VERSION): a rebuild encodes
nothing, one changed image encodes only its own variants, a changed setting encodes only the
variants it affects. `encode_image` is a pure function of (path, settings, cache folder) ->
files, so it runs as well in a forked worker as in the parent; it returns how many variants
it encoded, which callers add up (`StageStats.encoded`).

Every failure the user can cause (missing, undecodable, truncated or oversized image) is an
`ImageError` carrying a one-line message, never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup, escape

VERSION = 1  # bump when encoding changes in a way that should invalidate cached variants
CACHE_SUBDIR = "images"  # under SITE/.quire-cache/
INFO_FILE = "info.json"

MODERN_FORMATS = ("avif", "webp")
MIME = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "svg": "image/svg+xml",
}
EXTENSION = {"avif": "avif", "webp": "webp", "jpeg": "jpg", "png": "png"}
# Pillow format name of a source -> the fallback format its variants are written in.
# JPEG only for JPEG sources (MPO is how Pillow opens some camera JPEGs): no alpha to lose.
_FALLBACK = {"JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp", "PNG": "png"}
PASSTHROUGH_SUFFIXES = {".svg", ".svgz", ".gif"}
AVIF_SPEED = 8  # libavif's 0 (slowest) .. 10; Pillow's default 6 costs 3-4x the CPU for ~2%
SVG_READ_LIMIT = 1 << 20  # the root <svg> tag is near the top; never read a huge file whole


BOMB = "image too large to decode (refused as a decompression bomb)"


class ImageError(Exception):
    """A user-facing image problem: `str(error)` is `path: message`, ready to print."""

    def __init__(self, path: Path | str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = str(path)
        self.message = message

    def __reduce__(self):  # crosses back from a worker process intact
        return (type(self), (self.path, self.message))


def avif_available() -> bool:
    try:
        from PIL import features

        return bool(features.check("avif"))
    except Exception:  # an old Pillow without the avif feature name
        return False


@dataclass(frozen=True)
class ImageSettings:
    """The `[images]` table of site.toml. `formats` are the modern formats, best first; the
    original's format is always added as the fallback. AVIF asked for on a Pillow without
    AVIF becomes WebP."""

    enabled: bool = True
    widths: tuple[int, ...] = (480, 960, 1600)
    formats: tuple[str, ...] = ("webp",)
    quality: int = 80  # WebP, JPEG
    avif_quality: int = 65  # AVIF's scale differs: 65 matches WebP 80 in PSNR (bench/images.py)
    og_width: int = 1200
    max_pixels: int = 130_000_000  # a 108 MP phone photo passes; a decompression bomb does not

    def __post_init__(self) -> None:
        widths = tuple(sorted({int(w) for w in self.widths}))
        if not widths or widths[0] < 16:
            raise ValueError("images.widths: give one or more widths of at least 16 px")
        formats: list[str] = []
        for name in self.formats:
            name = str(name).lower()
            if name not in MODERN_FORMATS:
                raise ValueError(f"images.formats: unknown format {name!r} (use avif, webp)")
            if name == "avif" and not avif_available():
                name = "webp"
            if name not in formats:
                formats.append(name)
        for label, value in (("quality", self.quality), ("avif_quality", self.avif_quality)):
            if not 1 <= int(value) <= 100:
                raise ValueError(f"images.{label}: must be between 1 and 100")
        if self.og_width < 16 or self.max_pixels < 1:
            raise ValueError("images.og_width and images.max_pixels must be positive")
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "formats", tuple(formats))

    def quality_for(self, fmt: str) -> int:
        return self.avif_quality if fmt == "avif" else self.quality


def settings_from_table(table: dict | None) -> ImageSettings:
    """ImageSettings from site.toml's `[images]` table; ValueError names the bad key."""
    table = dict(table or {})
    known = {f for f in ImageSettings.__dataclass_fields__}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"images: unknown setting {unknown[0]!r}")
    if isinstance(table.get("formats"), str):
        table["formats"] = [table["formats"]]
    for key in ("widths", "formats"):
        if key in table:
            if not isinstance(table[key], list | tuple):
                raise ValueError(f"images.{key}: expected a list")
            table[key] = tuple(table[key])
    for key in ("quality", "avif_quality", "og_width", "max_pixels"):
        if key in table and (isinstance(table[key], bool) or not isinstance(table[key], int)):
            raise ValueError(f"images.{key}: expected a whole number")
    if "enabled" in table and not isinstance(table["enabled"], bool):
        raise ValueError("images.enabled: expected true or false")
    return ImageSettings(**table)


# ---------------------------------------------------------------- looking at a source


def is_remote(src: str) -> bool:
    return src.lower().startswith(("http://", "https://", "//"))


@dataclass(frozen=True)
class SourceInfo:
    """What planning needs to know about a source, read from its header only."""

    stem: str
    kind: str  # "raster", "svg" or "passthrough" (GIF, animated images)
    format: str  # Pillow's name ("JPEG", "PNG", ...), "SVG" or "GIF"
    width: int | None  # as displayed: EXIF orientation applied
    height: int | None
    alpha: bool = False


def _oriented_size(im) -> tuple[int, int]:
    width, height = im.size
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:
        orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _open(data: bytes | io.BufferedIOBase, path: Path, settings: ImageSettings):
    """Pillow image from bytes or an open file, header read only; oversized or unreadable
    -> ImageError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    except Image.DecompressionBombError:
        raise ImageError(path, BOMB) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ImageError(path, f"cannot read this image ({_reason(error)})") from None
    width, height = im.size
    if width * height > settings.max_pixels:
        raise ImageError(
            path,
            f"image of {width}x{height} pixels is larger than images.max_pixels "
            f"({settings.max_pixels}); refused as a possible decompression bomb",
        )
    return im


def _reason(error: BaseException) -> str:
    if type(error).__name__ == "UnidentifiedImageError":  # its text names a Python object
        return "not an image format Pillow knows, or an empty or cut-off file"
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]


def _has_alpha(im) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info
    )


def inspect_image(path: Path | str, settings: ImageSettings | None = None) -> SourceInfo:
    """SourceInfo of a local image (raster, SVG or passthrough); ImageError if it is missing
    or not an image. Reads the header only, not the pixels."""
    path = Path(path)
    settings = settings or ImageSettings()
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ImageError(path, "image not found")
    if suffix in (".svg", ".svgz"):
        size = svg_size(path)
        return SourceInfo(path.stem, "svg", "SVG", *(size or (None, None)))
    try:
        with open(path, "rb") as handle:  # the header only: a 20 MB photo is not read whole
            return _inspect_bytes(handle, path, settings)
    except OSError as error:
        raise ImageError(path, f"cannot read this image ({_reason(error)})") from None


def _inspect_bytes(data, path: Path, settings: ImageSettings) -> SourceInfo:
    im = _open(data, path, settings)
    width, height = _oriented_size(im)
    fmt = im.format or "?"
    if fmt == "GIF" or getattr(im, "n_frames", 1) > 1 and fmt != "MPO":
        return SourceInfo(path.stem, "passthrough", fmt, width, height, _has_alpha(im))
    return SourceInfo(path.stem, "raster", fmt, width, height, _has_alpha(im))


_SVG_TAG = re.compile(rb"<svg\b([^>]*)>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(px)?\s*$")


def svg_size(path: Path | str) -> tuple[int, int] | None:
    """(width, height) an SVG declares on its root element, in px: from width/height, else
    from the viewBox (one of width/height plus a viewBox gives the other by ratio). None if
    it declares none (or only %/em). The root tag is found with a regex, never an XML parser:
    no DTD, no entities, nothing fetched."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SVG_READ_LIMIT)
    except OSError:
        return None
    match = _SVG_TAG.search(_COMMENT.sub(b"", head))
    if not match:
        return None
    attrs = {
        key.decode("ascii", "replace").lower(): value[1:-1].decode("utf-8", "replace")
        for key, value in _ATTR.findall(match.group(1))
    }

    def length(name: str) -> float | None:
        found = _LENGTH.match(attrs.get(name, ""))
        value = float(found.group(1)) if found else None
        return value if value and math.isfinite(value) and value > 0 else None

    width, height = length("width"), length("height")
    box = None
    parts = re.split(r"[\s,]+", attrs.get("viewbox", "").strip())
    if len(parts) == 4:
        try:
            box_w, box_h = float(parts[2]), float(parts[3])
            if box_w > 0 and box_h > 0 and math.isfinite(box_w * box_h):
                box = (box_w, box_h)
        except ValueError:
            pass
    if width and height:
        pass
    elif box and width:
        height = width * box[1] / box[0]
    elif box and height:
        width = height * box[0] / box[1]
    elif box:
        width, height = box
    else:
        return None
    return max(1, round(width)), max(1, round(height))


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class Variant:
    """One file to make: `name` is its output file name (stem kept), `cache_name` its name in
    the source's cache folder (which is keyed by the source's bytes)."""

    name: str
    width: int
    height: int
    format: str  # "avif", "webp", "jpeg", "png"
    quality: int

    @property
    def mime(self) -> str:
        return MIME[self.format]

    @property
    def cache_name(self) -> str:
        return f"{self.width}w-q{self.quality}-v{VERSION}.{EXTENSION[self.format]}"


@dataclass(frozen=True)
class ImagePlan:
    """Everything the HTML needs, and the files to make. For a passthrough or SVG source
    `variants` is empty and the original is used as it is."""

    source: SourceInfo
    modern: tuple[tuple[str, tuple[Variant, ...]], ...] = ()  # (format, ladder), best first
    fallback: tuple[Variant, ...] = ()  # the ladder in the original's format
    og: Variant | None = None

    @property
    def width(self) -> int | None:
        return self.source.width

    @property
    def height(self) -> int | None:
        return self.source.height

    @property
    def passthrough(self) -> bool:
        return not self.fallback

    @property
    def variants(self) -> tuple[Variant, ...]:
        """Every distinct file of the plan (the og variant once, even when on the ladder)."""
        seen: dict[str, Variant] = {}
        for _, ladder in self.modern:
            for variant in ladder:
                seen.setdefault(variant.name, variant)
        for variant in (*self.fallback, *((self.og,) if self.og else ())):
            seen.setdefault(variant.name, variant)
        return tuple(seen.values())


def fallback_format(info: SourceInfo) -> str:
    return _FALLBACK.get(info.format, "png")


def ladder_widths(original: int, widths: Sequence[int]) -> tuple[int, ...]:
    """The ladder clamped to the original: no upscaling; a ladder step wider than the
    original becomes the original's width (once)."""
    return tuple(sorted({min(w, original) for w in widths}))


def plan_variants(info: SourceInfo, settings: ImageSettings) -> ImagePlan:
    if info.kind != "raster" or not settings.enabled or not info.width or not info.height:
        return ImagePlan(info)

    def make(width: int, fmt: str) -> Variant:
        height = max(1, round(info.height * width / info.width))
        name = f"{info.stem}-{width}w.{EXTENSION[fmt]}"
        return Variant(name, width, height, fmt, settings.quality_for(fmt))

    widths = ladder_widths(info.width, settings.widths)
    base = fallback_format(info)
    modern = tuple(
        (fmt, tuple(make(w, fmt) for w in widths)) for fmt in settings.formats if fmt != base
    )
    fallback = tuple(make(w, base) for w in widths)
    og = make(min(settings.og_width, info.width), base)
    return ImagePlan(info, modern, fallback, og)


def plan_image(path: Path | str, settings: ImageSettings) -> ImagePlan:
    """The variants to make of a local image (see plan_variants); ImageError if unreadable."""
    return plan_variants(inspect_image(path, settings), settings)


def name_clashes(plans: Iterable[tuple[str, ImagePlan]]) -> list[tuple[str, str, str]]:
    """(variant name, first source, second source) for variants of two different sources of
    one output folder that would get the same name (`hero.jpg` and `hero.png` both make
    `hero-480w.webp`). `plans` are (output-relative source path, plan) pairs."""
    owner: dict[str, str] = {}
    clashes = []
    for source, plan in plans:
        folder = source.rsplit("/", 1)[0] if "/" in source else ""
        for variant in plan.variants:
            key = f"{folder}/{variant.name}"
            first = owner.setdefault(key, source)
            if first != source:
                clashes.append((key.lstrip("/"), first, source))
    return clashes


# ---------------------------------------------------------------- encoding


@dataclass(frozen=True)
class EncodedImage:
    """The outcome of encode_image: the plan, each variant's file in the cache, and how many
    variants this call encoded (0 when all were cached)."""

    plan: ImagePlan
    files: dict[str, Path] = field(default_factory=dict)  # variant name -> cached file
    encoded: int = 0
    digest: str = ""


def cache_folder(site_cache: Path) -> Path:
    """`SITE/.quire-cache` -> the folder the image stage keeps its variants in."""
    return Path(site_cache) / CACHE_SUBDIR


def _source_folder(cache_dir: Path, digest: str) -> Path:
    return cache_dir / digest[:2] / digest


def _read_info(folder: Path, stem: str) -> SourceInfo | None:
    try:
        raw = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        if raw.get("version") != VERSION:
            return None
        return SourceInfo(
            stem, raw["kind"], raw["format"], raw["width"], raw["height"], raw["alpha"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)  # mkstemp's 0600 would reach the web server
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_info(folder: Path, info: SourceInfo) -> None:
    raw = {
        "version": VERSION,
        "kind": info.kind,
        "format": info.format,
        "width": info.width,
        "height": info.height,
        "alpha": info.alpha,
    }
    _write_atomic(folder / INFO_FILE, json.dumps(raw).encode("utf-8"))


def _icc_space(icc: bytes | None) -> bytes | None:
    return icc[16:20] if icc and len(icc) >= 20 else None


def _decode(data: bytes, path: Path, settings: ImageSettings, info: SourceInfo, widest: int):
    """The oriented pixels in RGB or RGBA, and the ICC profile to embed (None if none or not
    an RGB one). JPEGs are decoded at a reduced scale when the widest variant allows it."""
    from PIL import Image, ImageOps

    im = _open(data, path, settings)
    try:
        if im.format in ("JPEG", "MPO") and widest < info.width:
            scale = widest / info.width
            im.draft("RGB", (math.ceil(im.width * scale), math.ceil(im.height * scale)))
        icc = im.info.get("icc_profile")
        im.load()
        im = ImageOps.exif_transpose(im)
    except Image.DecompressionBombError:
        raise ImageError(path, BOMB) from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageError(path, f"cannot decode this image ({_reason(error)})") from None
    if im.mode == "CMYK":
        if icc:
            try:
                from PIL import ImageCms

                source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                srgb = ImageCms.createProfile("sRGB")
                im = ImageCms.profileToProfile(im, source_profile, srgb, outputMode="RGB")
            except Exception:
                im = im.convert("RGB")
        else:
            im = im.convert("RGB")
        icc = None
    elif info.alpha:
        im = im.convert("RGBA") if im.mode != "RGBA" else im
    elif im.mode != "RGB":
        if im.mode.startswith("I;16") or im.mode in ("I", "F"):
            im = im.convert("I").point(lambda v: v / 256).convert("L")
        im = im.convert("RGB")
    if _icc_space(icc) != b"RGB ":
        icc = None  # a grey profile on RGB pixels would be wrong; sRGB is the default
    # Savers fall back to im.info for comment, EXIF and XMP, and resize() copies it: empty.
    im.info = {}
    return im, icc


def _resize(im, size: tuple[int, int]):
    from PIL import Image

    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode_one(im, variant: Variant, icc: bytes | None) -> bytes:
    options: dict = {"quality": variant.quality}
    if icc:
        options["icc_profile"] = icc
    if variant.format == "jpeg":
        options.update(optimize=True, progressive=True)
        if im.mode != "RGB":
            im = im.convert("RGB")
    elif variant.format == "webp":
        options.update(method=4)
    elif variant.format == "avif":
        options.update(speed=AVIF_SPEED, max_threads=1)
    elif variant.format == "png":
        options = {"icc_profile": icc} if icc else {}
        options["compress_level"] = 6
    buffer = io.BytesIO()
    # No exif=, no xmp=, no comment=: Pillow writes only what it is given.
    im.save(buffer, format=variant.format.upper(), **options)
    return buffer.getvalue()


def encode_image(
    path: Path | str, settings: ImageSettings, cache_dir: Path | str, data: bytes | None = None
) -> EncodedImage:
    """Make (or find in `cache_dir`) every variant of one local image. Pure: depends only on
    its arguments and the cache, so it runs in a worker process; the files it writes are
    atomic, so two workers on one source do no harm. ImageError for anything user-caused."""
    path, cache_dir = Path(path), Path(cache_dir)
    if data is None:
        if path.suffix.lower() in PASSTHROUGH_SUFFIXES:
            return EncodedImage(plan_image(path, settings))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImageError(path, "image not found") from None
        except OSError as error:
            raise ImageError(path, f"cannot read this image ({_reason(error)})") from None
    digest = hashlib.sha256(data).hexdigest()
    folder = _source_folder(cache_dir, digest)
    info = _read_info(folder, path.stem)
    fresh_info = info is None
    if info is None:
        info = _inspect_bytes(data, path, settings)
    plan = plan_variants(info, settings)
    files = {v.name: folder / v.cache_name for v in plan.variants}
    missing = [v for v in plan.variants if not files[v.name].is_file()]
    if missing:
        widest = max(v.width for v in missing)
        im, icc = _decode(data, path, settings, info, widest)
        # Widest first; each width is resized once for all its formats, from the previous
        # (smaller) step when that is at least 1.5x as wide: cheaper than from the full
        # image, and no visible loss with Lanczos.
        source = im
        for width in sorted({v.width for v in missing}, reverse=True):
            group = [v for v in missing if v.width == width]
            size = (group[0].width, group[0].height)
            if source.width < width * 1.5:
                source = im
            resized = source if source.size == size else _resize(source, size)
            for variant in group:
                _write_atomic(files[variant.name], _encode_one(resized, variant, icc))
            source = resized
    if fresh_info:
        _write_info(folder, info)
    return EncodedImage(plan, files, len(missing), digest)


def publish(encoded: EncodedImage, out_dir: Path | str) -> list[Path]:
    """Copy the variants into `out_dir` (the folder the original is published to). A file
    already there with the cached file's size and mtime is left alone: a rebuild rewrites
    nothing. Returns the files written."""
    out_dir = Path(out_dir)
    written = []
    for name, cached in encoded.files.items():
        target = out_dir / name
        source_stat = cached.stat()
        try:
            stat = target.stat()
            if stat.st_size == source_stat.st_size and stat.st_mtime_ns == source_stat.st_mtime_ns:
                continue
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cached, target)
        written.append(target)
    return written


@dataclass
class StageStats:
    images: int = 0
    encoded: int = 0  # variants encoded this run (0 on a no-change rebuild)
    errors: list[ImageError] = field(default_factory=list)


def run_stage(
    paths: Sequence[Path | str], settings: ImageSettings, cache_dir: Path | str
) -> tuple[dict[str, EncodedImage], StageStats]:
    """encode_image over `paths` in this process (the lead's pool can map encode_image
    instead). Errors are collected, not raised, so one run reports every bad image."""
    results: dict[str, EncodedImage] = {}
    stats = StageStats()
    for path in paths:
        try:
            result = encode_image(path, settings, cache_dir)
        except ImageError as error:
            stats.errors.append(error)
            continue
        results[str(path)] = result
        stats.images += 1
        stats.encoded += result.encoded
    return results, stats


# ---------------------------------------------------------------- HTML


def _url(prefix: str, name: str) -> str:
    # Spaces and commas would split a srcset entry: the file name part is percent-encoded.
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    return prefix + quote(name, safe="")


def _srcset(prefix: str, ladder: Sequence[Variant]) -> str:
    return ", ".join(f"{_url(prefix, v.name)} {v.width}w" for v in ladder)


def _pick_src(ladder: Sequence[Variant], target: int = 960) -> Variant:
    for variant in ladder:
        if variant.width >= target:
            return variant
    return ladder[-1]


def img_attrs(first: bool) -> dict[str, str]:
    if first:
        return {"loading": "eager", "decoding": "async", "fetchpriority": "high"}
    return {"loading": "lazy", "decoding": "async"}


def _attrs(pairs: dict[str, object]) -> str:
    return "".join(f' {key}="{escape(value)}"' for key, value in pairs.items() if value is not None)


def picture_html(
    plan: ImagePlan,
    url_prefix: str,
    alt: str,
    *,
    original_url: str | None = None,
    sizes: str = "100vw",
    first: bool = False,
    title: str | None = None,
    css_class: str | None = None,
) -> Markup:
    """`<picture>` for a planned raster image (its variants published under `url_prefix`, a
    URL folder); a plain `<img>` of `original_url` for a passthrough/SVG source, with width
    and height when known. `first` marks the page's first image: eager, fetchpriority=high.
    Every value is escaped."""
    common = {"alt": alt, "title": title, "class": css_class}
    if plan.passthrough:
        if original_url is None:
            raise ValueError("picture_html: a passthrough image needs original_url")
        attrs = {"src": original_url, **common, "width": plan.width, "height": plan.height}
        return Markup(f"<img{_attrs({**attrs, **img_attrs(first)})}>")
    sources = "".join(
        f"<source{_attrs({'type': MIME[fmt], 'srcset': _srcset(url_prefix, ladder), 'sizes': sizes})}>"
        for fmt, ladder in plan.modern
    )
    img = {
        "src": _url(url_prefix, _pick_src(plan.fallback).name),
        "srcset": _srcset(url_prefix, plan.fallback),
        "sizes": sizes,
        **common,
        "width": plan.width,
        "height": plan.height,
        **img_attrs(first),
    }
    return Markup(f"<picture>{sources}<img{_attrs(img)}></picture>")


def remote_img_html(url: str, alt: str, *, first: bool = False, title: str | None = None) -> Markup:
    """A remote http(s) image passes through: no size known, still lazy/eager."""
    return Markup(f"<img{_attrs({'src': url, 'alt': alt, 'title': title, **img_attrs(first)})}>")


def og_url(plan: ImagePlan, url_prefix: str) -> str | None:
    """The og:image / feed variant's URL (1200 px wide by default), None for passthrough."""
    return _url(url_prefix, plan.og.name) if plan.og else None

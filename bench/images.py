"""Image stage benchmark: 200 generated 4000x3000 JPEG photos through quire.images.

    python bench/images.py                 # 200 photos, 2 processes, WebP (the default)
    python bench/images.py --formats avif webp --count 40
    python bench/images.py --encoders      # AVIF vs WebP vs JPEG at 1600 px: CPU, bytes, PSNR
    python bench/images.py --site          # a 1000-post site using the 200 photos, built

--site builds the site with quire (the image stage in the pipeline, `--jobs` processes) and
the same site without images, and reports: the cold build and its image stage (wall, CPU),
a no-change rebuild and a one-post edit with and without images (median of 5), and the
image bytes a phone (390 css px, 3x DPR) downloads for the home page and one post,
before (the originals, as quire sent them) and after (what srcset + sizes pick).

Reports the cold stage (wall and CPU seconds, variants encoded), a no-change pass (in the
pool and in one process), and the bytes a phone downloads per image before (the original)
and after (the 960w variant a ~400 css px wide, 2x DPR screen picks with sizes=100vw).
Photos are cached in bench/work/images/photos (git-ignored); the variant cache is redone.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import random
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageFilter  # noqa: E402

from quire.images import encode as images  # noqa: E402

WORK = ROOT / "bench" / "work" / "images"
_FINE: list[Image.Image] = []


def _fine(width: int, height: int) -> Image.Image:
    """Film-grain-like detail, made once per process and shifted per photo."""
    if not _FINE:
        noise = Image.effect_noise((width + 64, height + 64), 40)
        _FINE.append(noise.filter(ImageFilter.GaussianBlur(0.8)).convert("RGB"))
    return _FINE[0]


def make_photo(args: tuple[Path, int]) -> int:
    """A 4000x3000 JPEG (quality 90) whose size is like a camera photo's (~2 MB): smooth
    colour fields, mid-scale texture and fine grain, different for every seed."""
    path, seed = args
    if path.exists():
        return path.stat().st_size
    width, height = 4000, 3000
    rnd = random.Random(seed)
    grid = Image.frombytes("RGB", (8, 6), bytes(rnd.randrange(256) for _ in range(8 * 6 * 3)))
    base = grid.resize((width // 4, height // 4), Image.Resampling.BICUBIC)
    mid = Image.effect_noise((width // 4, height // 4), 60).filter(ImageFilter.GaussianBlur(3))
    base = Image.blend(base, mid.convert("RGB"), 0.3)
    base = base.resize((width, height), Image.Resampling.BICUBIC)
    dx, dy = rnd.randrange(64), rnd.randrange(64)
    fine = _fine(width, height).crop((dx, dy, dx + width, dy + height))
    photo = Image.blend(base, fine, 0.25)
    tmp = path.with_suffix(".tmp")
    photo.save(tmp, "JPEG", quality=90)
    tmp.replace(path)
    return path.stat().st_size


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


_JOB: list = []


def _encode(path: Path) -> int:
    settings, cache = _JOB[0]
    return images.encode_image(path, settings, cache).encoded


def _init(settings, cache) -> None:
    _JOB.append((settings, cache))


def run(paths, settings, cache, jobs: int) -> tuple[float, float, int]:
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    if jobs > 1:
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_init, initargs=(settings, cache)) as pool:
            encoded = sum(pool.imap_unordered(_encode, paths, chunksize=2))
    else:
        encoded = sum(images.encode_image(p, settings, cache).encoded for p in paths)
    return time.perf_counter() - wall0, cpu_seconds() - cpu0, encoded


def encoders(path: Path) -> None:
    """CPU time, bytes and luma PSNR of one 1600 px variant in each format and setting."""
    import numpy as np

    source = Image.open(path).convert("RGB")
    small = source.resize((1600, round(source.height * 1600 / source.width)), Image.LANCZOS)
    reference = np.asarray(small.convert("L"), np.float64)
    trials = [("JPEG", {"quality": 80, "optimize": True, "progressive": True})]
    trials += [("WEBP", {"quality": q, "method": 4}) for q in (75, 80, 85)]
    trials += [
        ("AVIF", {"quality": q, "speed": s, "max_threads": 1}) for q in (55, 65) for s in (8, 6)
    ]
    print(f"encoders at 1600 px, source {path.name}")
    for fmt, options in trials:
        best = float("inf")
        for _ in range(2):
            buffer = io.BytesIO()
            start = time.process_time()
            small.save(buffer, fmt, **options)
            best = min(best, time.process_time() - start)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"), np.float64)
        psnr = 10 * np.log10(255**2 / np.mean((decoded - reference) ** 2))
        print(
            f"  {fmt:4} {str(options):55} {best * 1000:6.0f} ms CPU "
            f"{buffer.tell() / 1024:7.1f} KiB  PSNR-Y {psnr:5.2f} dB"
        )


# ---------------------------------------------------------------- the site benchmark

PHONE_WIDTH, PHONE_DPR = 390, 3
REM = 16


def make_site(root: Path, photos: list[Path], posts: int, with_images: bool) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    (root / "content" / "posts").mkdir(parents=True)
    (root / "site.toml").write_text('title = "Bench"\nbase_url = "https://b.example.com/"\n')
    if with_images:
        (root / "content" / "images").mkdir()
        for photo in photos:
            os.link(photo, root / "content" / "images" / photo.name)
    rnd = random.Random(7)
    words = "chip display battery camera review price launch update design speed".split()
    for i in range(posts):
        text = " ".join(rnd.choice(words) for _ in range(300))
        fields = f"title: Post {i}\ndate: 2024-01-01T00:00:00\ntags: [t{i % 20}]\n"
        body = f"{text}\n\n{text}\n"
        if with_images:
            fields += f"image: /images/{photos[i % len(photos)].name}\n"
            other = photos[(i * 7 + 3) % len(photos)].name
            body = f"{text}\n\n![A photo of the product](/images/{other})\n\n{text}\n"
        date = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
        fields = fields.replace("2024-01-01", date)
        (root / "content" / "posts" / f"post-{i:04d}.md").write_text(f"---\n{fields}---\n{body}")
    past = time.time() - 3600
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past))
    return root


def timed_build(site: Path, out: Path, jobs: int):
    from quire.model import BuildOptions
    from quire.pipeline import build

    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    result = build(BuildOptions(site, out, jobs=jobs))
    return result, time.perf_counter() - wall0, cpu_seconds() - cpu0


def _length(text: str) -> float:
    text = text.strip()
    if text.startswith("calc("):  # calc(100vw - 2rem)
        a, b = text[5:-1].split(" - ")
        return _length(a) - _length(b)
    for unit, scale in (("rem", REM), ("px", 1), ("vw", PHONE_WIDTH / 100)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(text)


def _slot(sizes: str) -> float:
    for part in sizes.split(","):
        part = part.strip()
        if part.startswith("(min-width:"):
            cond, length = part[1:].split(")", 1)
            if _length(cond.split(":")[1]) <= PHONE_WIDTH:
                return _length(length)
            continue
        return _length(part)
    return PHONE_WIDTH


def phone_bytes(out: Path, page: str, site: Path) -> tuple[int, int, int]:
    """(before, after, images) for one page: before = the originals of the images it shows,
    after = the candidate a 390 px, 3x phone picks from the first <source> (WebP)."""
    import html5lib

    doc = html5lib.parse((out / page).read_bytes(), treebuilder="lxml", namespaceHTMLElements=False)
    before = after = count = 0
    for img in doc.getroot().iter("img"):
        src = img.get("src", "")
        if not src.startswith("/") or src.endswith(".svg"):
            continue
        picture = img.getparent()
        source = picture.find("source") if picture.tag == "picture" else None
        srcset = (source if source is not None else img).get("srcset")
        if not srcset:
            continue
        need = _slot((source if source is not None else img).get("sizes", "100vw")) * PHONE_DPR
        candidates = sorted(
            (int(w.rstrip("w")), url) for url, w in (c.strip().split() for c in srcset.split(","))
        )
        url = next((u for w, u in candidates if w >= need), candidates[-1][1])
        after += (out / url.lstrip("/")).stat().st_size
        stem = Path(src).name.rsplit("-", 1)[0]
        original = next((site / "content" / "images").glob(f"{stem}.*"))
        before += original.stat().st_size
        count += 1
    return before, after, count


def site_bench(photos: list[Path], posts: int, jobs: int) -> None:
    import statistics

    rows = {}
    for label, with_images in (("images", True), ("no images", False)):
        site = make_site(WORK / f"site-{label.replace(' ', '-')}", photos, posts, with_images)
        out = site.parent / (site.name + "-out")
        shutil.rmtree(out, ignore_errors=True)
        result, wall, cpu = timed_build(site, out, jobs)
        laps = dict(result.stages)
        print(
            f"{label:9}: cold build {wall:6.2f} s wall {cpu:7.2f} s CPU; image stage "
            f"{laps.get('images', 0):6.2f} s; {result.images_encoded} variants encoded"
        )
        same = [timed_build(site, out, jobs)[1] for _ in range(5)]
        edits = []
        for n in range(5):
            path = site / "content" / "posts" / "post-0005.md"
            path.write_text(path.read_text() + f"\nEdit {n}.\n")
            result, wall, _ = timed_build(site, out, jobs)
            edits.append((wall, dict(result.stages).get("images", 0), result.images_encoded))
        rows[label] = (statistics.median(same), statistics.median(e[0] for e in edits))
        print(
            f"{label:9}: no-change rebuild {rows[label][0] * 1000:6.1f} ms, one-post edit "
            f"{rows[label][1] * 1000:6.1f} ms (image stage "
            f"{statistics.median(e[1] for e in edits) * 1000:.1f} ms, "
            f"{max(e[2] for e in edits)} encoded)"
        )
        if with_images:
            for page in ("index.html", "posts/post-0000/index.html"):
                before, after, count = phone_bytes(out, page, site)
                print(
                    f"phone bytes {page}: {count} images, before {before / 1024:.0f} KiB, "
                    f"after {after / 1024:.0f} KiB ({100 * after / before:.1f}%)"
                )
    (a_same, a_edit), (b_same, b_edit) = rows["images"], rows["no images"]
    print(
        f"overhead of images: no-change {100 * (a_same / b_same - 1):+.1f}%, "
        f"one-post edit {100 * (a_edit / b_edit - 1):+.1f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=["webp"])
    parser.add_argument("--encoders", action="store_true", help="compare encoders and stop")
    parser.add_argument("--site", action="store_true", help="build a site using the photos")
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args()

    photos = WORK / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    paths = [photos / f"photo-{i:03d}.jpg" for i in range(args.count)]
    start = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(args.jobs) as pool:
        sizes = pool.map(make_photo, [(p, i) for i, p in enumerate(paths)])
    print(
        f"{len(paths)} photos 4000x3000, {sum(sizes) / len(sizes) / 1e6:.2f} MB each on average "
        f"(ready in {time.perf_counter() - start:.1f} s)"
    )
    if args.encoders:
        encoders(paths[0])
        return
    if args.site:
        site_bench(paths, args.posts, args.jobs)
        return

    settings = images.ImageSettings(formats=tuple(args.formats))
    cache = WORK / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    print(f"settings: widths {settings.widths}, formats {settings.formats} + original")
    print(f"cpus: {os.cpu_count()}, processes: {args.jobs}")

    wall, cpu, encoded = run(paths, settings, cache, args.jobs)
    print(f"cold:       {wall:7.2f} s wall {cpu:7.2f} s CPU  {encoded} variants encoded")
    wall, cpu, encoded = run(paths, settings, cache, args.jobs)
    print(f"no change:  {wall:7.2f} s wall {cpu:7.2f} s CPU  {encoded} variants encoded (pool)")
    wall, cpu, encoded = run(paths, settings, cache, 1)
    print(f"no change:  {wall:7.2f} s wall {cpu:7.2f} s CPU  {encoded} variants encoded (1 proc)")

    before = after = fallback = 0
    for path in paths:
        result = images.encode_image(path, settings, cache)
        stem = path.stem
        before += path.stat().st_size
        modern = settings.formats[0]
        after += result.files[f"{stem}-960w.{images.EXTENSION[modern]}"].stat().st_size
        fallback += result.files[f"{stem}-960w.jpg"].stat().st_size
    n = len(paths)
    print(
        f"phone (400 css px, 2x DPR -> 960w) per image: before {before / n / 1024:.0f} KiB, "
        f"after {after / n / 1024:.0f} KiB {settings.formats[0]} "
        f"({100 * after / before:.1f}%), {fallback / n / 1024:.0f} KiB JPEG fallback "
        f"({100 * fallback / before:.1f}%)"
    )


if __name__ == "__main__":
    main()

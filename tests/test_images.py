"""The image stage end to end: a small site with generated photos, built for real, its output
read back with lxml and Pillow (quire/images/stage.py, the default theme, feeds)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import feedparser
import html5lib
import pytest
from conftest import build_site, post, write

from quire.model import BuildOptions
from quire.pipeline import build

Image = pytest.importorskip("PIL.Image")

PRODUCTS = """
phone:
  name: "Phone X"
  price: "$999"
  image: /images/phone.png
  links:
    - store: Shop
      url: https://shop.example.com/phone
"""


def photo(path: Path, size=(2000, 1500), orientation: int | None = None, seed: int = 1) -> Path:
    """A JPEG with some texture (so sizes differ by width) and optional EXIF orientation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.effect_noise(size, 30 + seed).convert("RGB")
    im = Image.merge(
        "RGB", (im.getchannel(0), im.getchannel(0).point(lambda v: v // 2), im.getchannel(0))
    )
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # must not reach the variants
    if orientation:
        exif[0x0112] = orientation
    im.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def png_alpha(path: Path, size=(800, 600)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGBA", size, (10, 120, 200, 0))
    im.paste((200, 30, 30, 255), (100, 100, 500, 400))
    im.save(path, "PNG")
    return path


@pytest.fixture
def gallery(site: Path) -> Path:
    """Posts with a bundle hero, a rotated photo, a PNG with alpha, an SVG, a remote image,
    a buy box, and one post without any image."""
    write(
        site / "site.toml",
        'title = "Pics"\nbase_url = "https://pics.example.com/"\n'
        "[images]\nwidths = [320, 640]\nquality = 70\n",
    )
    photo(site / "content" / "posts" / "trip" / "hero.jpg", (1600, 1200))
    write(
        site / "content" / "posts" / "trip" / "index.md",
        """
        ---
        title: "Trip"
        date: 2025-03-01
        image: hero.jpg
        tags: [travel]
        ---

        Intro.

        ![A rotated shot](/images/rotated.jpg)

        ![Logo](/images/logo.svg)

        ![Remote](https://cdn.example.com/x.jpg)

        {{< buy "phone" >}}
        """,
    )
    photo(site / "content" / "images" / "rotated.jpg", (1200, 800), orientation=6, seed=2)
    png_alpha(site / "content" / "images" / "phone.png")
    write(
        site / "content" / "images" / "logo.svg",
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
        '<rect width="120" height="40"/></svg>\n',
    )
    write(site / "content" / "products.yaml", PRODUCTS)
    post(site, "plain", "Plain", "2025-02-01", "No pictures here.", tags="[travel]")
    post(site, "inline", "Inline", "2025-01-01", "Text\n\n![](/images/rotated.jpg)\n")
    return site


def run(site: Path, out: Path, **kw):
    return build(BuildOptions(site, out, **kw))


def parse(data: bytes):
    """html5lib, as browsers parse: libxml2's HTML parser would nest <img> in a void <source>."""
    return html5lib.parse(data, treebuilder="lxml", namespaceHTMLElements=False).getroot()


def page(out: Path, rel: str):
    return parse((out / rel).read_bytes())


def images_in(out: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for p in out.rglob("*"):
        if p.suffix in (".jpg", ".png", ".webp", ".avif", ".svg") and p.is_file():
            st = p.stat()
            found[p.relative_to(out).as_posix()] = (st.st_mtime_ns, st.st_ino)
    return found


def age(site: Path) -> None:
    past = time.time() - 3600
    for path in [site, *site.rglob("*")]:
        if ".quire-cache" not in path.parts:
            os.utime(path, (past, past))


def test_markup_variants_and_theme(gallery: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(gallery, out, jobs=1)
    assert result.images_encoded > 0
    doc = page(out, "posts/trip/index.html")

    # hero: the first image, eager and high priority, variants next to the bundle
    hero = doc.xpath('//figure[@class="post-hero"]//img')[0]
    assert hero.get("loading") == "eager" and hero.get("fetchpriority") == "high"
    assert (hero.get("width"), hero.get("height")) == ("1600", "1200")
    assert hero.get("src") == "/posts/trip/hero-640w.jpg"
    sources = doc.xpath('//figure[@class="post-hero"]//source')
    assert [s.get("type") for s in sources] == ["image/webp"]
    assert (
        sources[0].get("srcset")
        == "/posts/trip/hero-320w.webp 320w, /posts/trip/hero-640w.webp 640w"
    )
    with Image.open(out / "posts/trip/hero-320w.webp") as im:
        assert im.format == "WEBP" and im.size == (320, 240)
    with Image.open(out / "posts/trip/hero-640w.jpg") as im:  # the fallback keeps the format
        assert im.format == "JPEG" and im.size == (640, 480)
        assert not im.getexif()  # metadata stripped

    # body images: rotated JPEG has the displayed (rotated) size, lazy after the hero
    body = doc.xpath('//div[contains(@class,"post-content")]')[0]
    rotated = body.xpath('.//img[@alt="A rotated shot"]')[0]
    assert (rotated.get("width"), rotated.get("height")) == ("800", "1200")
    assert rotated.get("loading") == "lazy" and rotated.get("decoding") == "async"
    assert rotated.getparent().tag == "picture"
    with Image.open(out / "images/rotated-320w.webp") as im:
        assert im.size == (320, 480)  # EXIF orientation applied
    # SVG passes through with its declared size; remote passes through, lazy
    logo = body.xpath('.//img[@alt="Logo"]')[0]
    assert (logo.get("src"), logo.get("width"), logo.get("height")) == (
        "/images/logo.svg",
        "120",
        "40",
    )
    remote = body.xpath('.//img[@alt="Remote"]')[0]
    assert remote.get("src") == "https://cdn.example.com/x.jpg" and remote.get("loading") == "lazy"
    assert not list(out.glob("images/logo-*"))

    # buy box: the PNG with alpha keeps PNG as its fallback (alpha kept), WebP first
    buy = body.xpath('.//aside[contains(@class,"buy-box")]//img')[0]
    assert buy.get("src") == "/images/phone-640w.png" and buy.get("alt") == "Phone X"
    assert buy.get("sizes") == "(min-width: 36rem) 160px, 88px"
    with Image.open(out / "images/phone-640w.png") as im:
        assert im.mode == "RGBA" and im.size == (640, 480)
    with Image.open(out / "images/phone-640w.webp") as im:
        assert im.mode == "RGBA"

    # og:image and twitter:image: the og variant (never wider than the original: 1600 px)
    og = doc.xpath('//meta[@property="og:image"]/@content')[0]
    assert og == "https://pics.example.com/posts/trip/hero-1200w.jpg"
    with Image.open(out / "posts/trip/hero-1200w.jpg") as im:
        assert im.size == (1200, 900)

    # related list: thumbnail for Trip on Plain's page, a quiet tile for the image-less
    plain = page(out, "posts/plain/index.html")
    thumbs = plain.xpath('//aside[@class="related"]//span[contains(@class,"related-thumb")]')
    assert thumbs and any(t.xpath(".//img") for t in thumbs)
    assert all(t.get("aria-hidden") == "true" for t in thumbs)
    assert not plain.xpath('//figure[@class="post-hero"]')  # no image, no hero box

    # a post without a hero: its first body image is the eager one
    inline = page(out, "posts/inline/index.html")
    first = inline.xpath('//div[contains(@class,"post-content")]//img')[0]
    assert first.get("fetchpriority") == "high" and first.get("loading") == "eager"


def test_cards_have_thumbnails_or_a_fallback(gallery: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(gallery, out, jobs=1)
    for rel in ("index.html", "tags/travel/index.html"):
        doc = page(out, rel)
        cards = doc.xpath('//article[contains(@class,"card")]')
        assert len(cards) >= 2
        by_title = {c.xpath(".//h2//a/text()")[0]: c for c in cards}
        trip = by_title["Trip"].xpath('.//div[contains(@class,"card-thumb")]//img')[0]
        assert trip.get("src").startswith("/posts/trip/hero-") and trip.get("width") == "1600"
        assert trip.get("alt") == ""  # decorative: the title link names the card
        tile = by_title["Plain"].xpath('.//div[contains(@class,"card-thumb")]')[0]
        assert "card-thumb--none" in tile.get("class") and not tile.xpath(".//img")
        imgs = doc.xpath('//div[contains(@class,"card-thumb")]//img')
        assert imgs[0].get("loading") == "eager"  # the first card's image is the page's first
        assert all(i.get("loading") == "lazy" for i in imgs[1:])


def test_feed_enclosure_uses_the_og_variant(gallery: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(gallery, out, jobs=1)
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    trip = next(e for e in feed.entries if e.title == "Trip")
    enclosure = trip.enclosures[0]
    assert enclosure.href == "https://pics.example.com/posts/trip/hero-1200w.jpg"
    assert int(enclosure.length) == (out / "posts/trip/hero-1200w.jpg").stat().st_size
    assert enclosure.type == "image/jpeg"


def test_empty_alt_warns_with_file_and_line(gallery: Path, tmp_path: Path) -> None:
    result = run(gallery, tmp_path / "out", jobs=1)
    texts = [str(w) for w in result.warnings]
    assert any(t.startswith("content/posts/inline.md:8:") and "alt text" in t for t in texts), texts


@pytest.mark.parametrize(
    "where, expected",
    [
        ("markdown", "content/posts/broken.md:8: image not found: 'missing.png'"),
        ("front", "content/posts/broken.md:4: image not found: 'nope.jpg'"),
        ("catalog", "content/products.yaml:4: image not found: '/images/gone.png'"),
    ],
)
def test_missing_image_is_an_error_with_file_and_line(
    gallery: Path, tmp_path: Path, where: str, expected: str
) -> None:
    if where == "markdown":
        post(gallery, "broken", "Broken", "2025-01-02", "Hi.\n\n![x](missing.png)\n")
    elif where == "front":
        post(gallery, "broken", "Broken", "2025-01-02", "Hi.", image="nope.jpg")
    else:
        write(gallery / "content" / "products.yaml", PRODUCTS.replace("phone.png", "gone.png"))
    out = tmp_path / "out"
    code, stdout, stderr = build_site(gallery, out)
    assert code == 1
    assert expected in stderr, stderr
    assert "Traceback" not in stderr
    assert not out.exists()


def test_undecodable_image_is_a_clear_error(gallery: Path, tmp_path: Path) -> None:
    (gallery / "content" / "images" / "rotated.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    code, _, stderr = build_site(gallery, tmp_path / "out")
    assert code == 1
    assert "content/posts/trip/index.md" in stderr and "cannot read this image" in stderr
    assert "Traceback" not in stderr


def test_an_empty_image_file_is_named_without_python_internals(gallery: Path, tmp_path: Path):
    # an image left empty (a git LFS checkout without the files, say) was reported as
    # "cannot identify image file <_io.BytesIO object at 0x7f...>"
    (gallery / "content" / "images" / "rotated.jpg").write_bytes(b"")
    code, _, stderr = build_site(gallery, tmp_path / "out")
    assert code == 1
    assert "rotated.jpg: cannot read this image (not an image format" in stderr, stderr
    assert "object at 0x" not in stderr and "Traceback" not in stderr


def test_no_change_rebuild_keeps_every_image_and_one_change_encodes_only_its_own(
    gallery: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    age(gallery)  # sources older than the build: the no-change check may trust their stat
    first = run(gallery, out, jobs=1)
    variants = len(list(out.rglob("*-*w.*")))
    assert first.images_encoded == variants  # every variant encoded once (og on the ladder: once)
    before = images_in(out)
    assert run(gallery, out, jobs=2).images_encoded == 0  # no change at all
    assert images_in(out) == before

    # an edit elsewhere: the build runs, encodes nothing, rewrites no image
    post(gallery, "plain", "Plain", "2025-02-01", "No pictures here, still.", tags="[travel]")
    again = run(gallery, out, jobs=2)
    assert again.images_encoded == 0
    assert images_in(out) == before

    # one changed image: only its variants are encoded again
    photo(gallery / "content" / "images" / "rotated.jpg", (1200, 800), orientation=6, seed=9)
    changed = run(gallery, out, jobs=2)
    rotated_variants = len(list(out.glob("images/rotated-*w.*")))
    assert changed.images_encoded == rotated_variants
    after = images_in(out)
    kept = {k for k in before if not k.startswith("images/rotated")}
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}


def test_images_disabled_serves_originals(gallery: Path, tmp_path: Path) -> None:
    text = (gallery / "site.toml").read_text().replace("quality = 70", "enabled = false")
    (gallery / "site.toml").write_text(text)
    out = tmp_path / "out"
    result = run(gallery, out, jobs=1)
    assert result.images_encoded == 0
    assert not list(out.rglob("*-*w.*"))
    hero = page(out, "posts/trip/index.html").xpath('//figure[@class="post-hero"]//img')[0]
    assert (hero.get("src"), hero.get("width")) == ("/posts/trip/hero.jpg", "1600")


def test_bad_images_setting_is_reported_with_its_line(gallery: Path, tmp_path: Path) -> None:
    text = (gallery / "site.toml").read_text().replace("quality = 70", "quality = 700")
    (gallery / "site.toml").write_text(text)
    code, _, stderr = build_site(gallery, tmp_path / "out")
    assert code == 1 and "site.toml:5: images.quality: must be between 1 and 100" in stderr


def test_base_url_sub_folder_reaches_srcset(gallery: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(gallery, out, jobs=1, base_url="https://x.example.com/blog/")
    doc = page(out, "posts/trip/index.html")
    body = doc.xpath('//div[contains(@class,"post-content")]')[0]
    source = body.xpath(".//picture/source")[0]
    assert source.get("srcset").startswith("/blog/images/rotated-320w.webp 320w, /blog/images/")
    assert body.xpath(".//picture/img")[0].get("src").startswith("/blog/images/rotated-")
    hero = doc.xpath('//figure[@class="post-hero"]//source')[0]
    assert hero.get("srcset").startswith("/blog/posts/trip/hero-320w.webp")


def test_preview_renders_originals_without_encoding(gallery: Path, tmp_path: Path) -> None:
    from quire import pipeline

    snap = pipeline.snapshot(BuildOptions(gallery, tmp_path / "out"))
    trip = next(p for p in snap.loaded.posts if p.slug == "trip")
    (path, data), problems = pipeline.render_one(snap, trip)
    assert not [p for p in problems if not p.warning]
    doc = parse(data)
    hero = doc.xpath('//figure[@class="post-hero"]//img')[0]
    assert (hero.get("src"), hero.get("width")) == ("/posts/trip/hero.jpg", "1600")
    assert not doc.xpath("//source")  # no variants in a preview: the originals
    assert not (gallery / ".quire-cache" / "images").exists()


def test_undecodable_error_message_is_one_line() -> None:
    import pickle

    from quire.images.encode import ImageError

    error = ImageError("a.jpg", "cannot read this image (x)")

    again = pickle.loads(pickle.dumps(error))  # crosses back from a worker intact
    assert str(again) == "a.jpg: cannot read this image (x)"

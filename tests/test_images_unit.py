"""The image stage on its own (quire/images.py): variants, cache, errors, SVG size, markup.

Photos are generated here with Pillow; variants are opened with Pillow and markup parsed
with lxml. Work is measured by counting encodes, never by the clock."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import html5lib
import pytest
from PIL import Image, ImageCms

from quire.images import encode as images
from quire.images.encode import ImageError, ImageSettings

WEBP_ONLY = ImageSettings()  # the default: WebP + the original's format


def photo(path: Path, size=(2000, 1500), fmt="JPEG", mode="RGB", **save) -> Path:
    """A photo-like image: gradients and a few shapes, so encoders have something to do."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    im = Image.merge(
        "RGB",
        (
            gradient,
            gradient.transpose(Image.Transpose.ROTATE_90).resize(size),
            Image.new("L", size, 90),
        ),
    )
    im.paste((200, 30, 30), (width // 4, height // 4, width // 2, height // 2))
    if mode == "RGBA":
        im = im.convert("RGBA")
        alpha = Image.new("L", size, 255)
        alpha.paste(0, (0, 0, width // 3, height // 3))
        im.putalpha(alpha)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, fmt, **save)
    return path


def exif_with(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0110] = "Model X"
    if orientation:
        exif[0x0112] = orientation
    return exif.tobytes()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / ".quire-cache" / "images"


def opened(result: images.EncodedImage, name: str) -> Image.Image:
    im = Image.open(result.files[name])
    im.load()
    return im


# ---------------------------------------------------------------- settings


def test_settings_defaults_and_validation():
    s = ImageSettings()
    assert s.widths == (480, 960, 1600) and s.formats == ("webp",) and s.og_width == 1200
    assert ImageSettings(widths=(960, 480, 960)).widths == (480, 960)
    with pytest.raises(ValueError, match="formats"):
        ImageSettings(formats=("heic",))
    with pytest.raises(ValueError, match="quality"):
        ImageSettings(quality=0)
    table = images.settings_from_table({"widths": [320, 640], "formats": "webp", "quality": 70})
    assert table.widths == (320, 640) and table.formats == ("webp",) and table.quality == 70
    with pytest.raises(ValueError, match="colour"):
        images.settings_from_table({"colour": 1})
    with pytest.raises(ValueError, match="enabled"):
        images.settings_from_table({"enabled": "no"})


def test_avif_is_kept_when_pillow_has_it():
    s = ImageSettings(formats=("avif", "webp"))
    assert s.formats == (("avif", "webp") if images.avif_available() else ("webp",))


# ---------------------------------------------------------------- planning


def test_plan_clamps_ladder_to_original_and_keeps_stem(tmp_path):
    source = photo(tmp_path / "hero.jpg", size=(1200, 800))
    plan = images.plan_image(source, WEBP_ONLY)
    assert (plan.width, plan.height) == (1200, 800)
    assert [v.name for v in plan.fallback] == ["hero-480w.jpg", "hero-960w.jpg", "hero-1200w.jpg"]
    assert [v.name for v in dict(plan.modern)["webp"]] == [
        "hero-480w.webp",
        "hero-960w.webp",
        "hero-1200w.webp",
    ]
    assert plan.og.name == "hero-1200w.jpg"  # og variant is on the ladder: one file
    assert len(plan.variants) == 6
    assert all(v.width <= 1200 for v in plan.variants)
    assert dict((v.width, v.height) for v in plan.fallback)[480] == 320


def test_small_image_gets_one_width(tmp_path):
    plan = images.plan_image(photo(tmp_path / "icon.png", size=(300, 200), fmt="PNG"), WEBP_ONLY)
    assert [v.name for v in plan.variants] == ["icon-300w.webp", "icon-300w.png"]


def test_disabled_plans_nothing(tmp_path):
    plan = images.plan_image(photo(tmp_path / "a.jpg"), ImageSettings(enabled=False))
    assert plan.passthrough and plan.variants == ()


def test_name_clashes_between_two_sources_of_one_folder(tmp_path):
    a = images.plan_image(photo(tmp_path / "hero.jpg", size=(600, 400)), WEBP_ONLY)
    b = images.plan_image(photo(tmp_path / "hero.png", size=(600, 400), fmt="PNG"), WEBP_ONLY)
    clashes = images.name_clashes([("img/hero.jpg", a), ("img/hero.png", b)])
    assert ("img/hero-480w.webp", "img/hero.jpg", "img/hero.png") in clashes
    assert images.name_clashes([("img/hero.jpg", a), ("other/hero.png", b)]) == []


# ---------------------------------------------------------------- encoding


def test_jpeg_variants_sizes_formats_and_metadata(tmp_path, cache):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = photo(
        tmp_path / "hero.jpg",
        size=(2000, 1500),
        exif=exif_with(),
        icc_profile=profile,
        comment=b"secret comment",
    )
    result = images.encode_image(source, WEBP_ONLY, cache)
    assert result.encoded == 7  # 3 webp + 3 jpeg + og 1200 jpeg
    expected = {
        "hero-480w.webp": ("WEBP", (480, 360)),
        "hero-960w.webp": ("WEBP", (960, 720)),
        "hero-1600w.webp": ("WEBP", (1600, 1200)),
        "hero-480w.jpg": ("JPEG", (480, 360)),
        "hero-960w.jpg": ("JPEG", (960, 720)),
        "hero-1600w.jpg": ("JPEG", (1600, 1200)),
        "hero-1200w.jpg": ("JPEG", (1200, 900)),
    }
    assert set(result.files) == set(expected)
    for name, (fmt, size) in expected.items():
        im = opened(result, name)
        assert (im.format, im.size) == (fmt, size), name
        assert not im.getexif(), name  # EXIF stripped (camera make, model)
        assert "comment" not in im.info and "xmp" not in im.info, name
        assert im.info.get("icc_profile") == profile, name  # colour profile kept


def test_exif_orientation_is_applied(tmp_path, cache):
    # Stored 1600x800 with the left half red; orientation 6 means "rotate 90 clockwise".
    im = Image.new("RGB", (1600, 800), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 800, 800))
    source = tmp_path / "rotated.jpg"
    im.save(source, "JPEG", exif=exif_with(orientation=6), quality=95)
    result = images.encode_image(source, WEBP_ONLY, cache)
    assert (result.plan.width, result.plan.height) == (800, 1600)
    assert [v.name for v in result.plan.fallback] == ["rotated-480w.jpg", "rotated-800w.jpg"]
    variant = opened(result, "rotated-800w.webp")
    assert variant.size == (800, 1600)
    assert not variant.getexif()  # no orientation tag left to rotate it a second time
    top, bottom = variant.convert("RGB").getpixel((400, 200)), variant.getpixel((400, 1400))
    assert top[0] > 200 and top[2] < 60  # the red half is on top after rotating clockwise
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_alpha_is_kept_and_fallback_is_png(tmp_path, cache):
    source = photo(tmp_path / "cutout.png", size=(1000, 600), fmt="PNG", mode="RGBA")
    result = images.encode_image(source, ImageSettings(formats=("avif", "webp")), cache)
    names = set(result.files)
    assert "cutout-960w.png" in names and not any(n.endswith(".jpg") for n in names)
    for name in names:
        im = opened(result, name)
        assert im.mode in ("RGBA", "RGBa"), name
        assert im.getpixel((5, 5))[3] == 0 and im.getpixel((im.width - 5, im.height - 5))[3] > 250
    if images.avif_available():
        assert opened(result, "cutout-960w.avif").format == "AVIF"


def test_palette_png_and_grey_jpeg_become_rgb(tmp_path, cache):
    pal = photo(tmp_path / "pal.png", size=(600, 400), fmt="PNG")
    Image.open(pal).convert("P").save(pal)
    grey = tmp_path / "grey.jpg"
    Image.linear_gradient("L").resize((600, 400)).save(grey)
    for source in (pal, grey):
        result = images.encode_image(source, WEBP_ONLY, cache)
        assert all(opened(result, n).mode == "RGB" for n in result.files)


# ---------------------------------------------------------------- cache


def test_second_run_encodes_nothing_and_one_change_only_its_variants(tmp_path, cache):
    sources = [photo(tmp_path / f"p{i}.jpg", size=(1000 + i * 10, 700)) for i in range(3)]
    first, stats = images.run_stage(sources, WEBP_ONLY, cache)
    # Per image: 480, 960 and its own width (~1000) in WebP and JPEG; og (1200 -> its own
    # width) is the widest JPEG, so no extra file.
    assert stats.images == 3 and stats.encoded == 3 * 6 and not stats.errors

    again, stats = images.run_stage(sources, WEBP_ONLY, cache)
    assert stats.encoded == 0
    assert again[str(sources[0])].files == first[str(sources[0])].files

    photo(sources[1], size=(1000, 701))  # one image changes
    _, stats = images.run_stage(sources, WEBP_ONLY, cache)
    assert stats.encoded == 6

    # A setting re-encodes only the variants it affects.
    _, stats = images.run_stage(sources, ImageSettings(quality=70), cache)
    assert stats.encoded == 3 * 6
    _, stats = images.run_stage(sources, ImageSettings(quality=70, widths=(480, 960)), cache)
    assert stats.encoded == 0  # fewer widths: every variant it needs is cached
    _, stats = images.run_stage(sources, ImageSettings(widths=(480, 960, 2000)), cache)
    assert stats.encoded == 0  # quality back to 80: cached; 2000 clamps to the original


def test_publish_rewrites_nothing_when_unchanged(tmp_path, cache):
    source = photo(tmp_path / "hero.jpg", size=(1000, 700))
    result = images.encode_image(source, WEBP_ONLY, cache)
    out = tmp_path / "output" / "img"
    assert len(images.publish(result, out)) == len(result.files)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = images.encode_image(source, WEBP_ONLY, cache)
    assert images.publish(again, out) == []
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in out.iterdir())  # world-readable


def test_same_bytes_under_two_names_share_the_cache(tmp_path, cache):
    a = photo(tmp_path / "a.jpg", size=(700, 500))
    b = tmp_path / "b.jpg"
    b.write_bytes(a.read_bytes())
    assert images.encode_image(a, WEBP_ONLY, cache).encoded == 4
    result = images.encode_image(b, WEBP_ONLY, cache)
    assert result.encoded == 0 and "b-480w.webp" in result.files


def test_encode_runs_in_a_process_pool(tmp_path, cache):
    import concurrent.futures
    import multiprocessing

    sources = [photo(tmp_path / f"p{i}.jpg", size=(600, 400)) for i in range(2)]
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        results = list(pool.map(images.encode_image, sources, [WEBP_ONLY] * 2, [cache] * 2))
    assert sum(r.encoded for r in results) == 2 * 4
    assert all(path.is_file() for r in results for path in r.files.values())


# ---------------------------------------------------------------- errors


def test_missing_corrupt_and_truncated_images_are_clear_errors(tmp_path, cache):
    with pytest.raises(ImageError, match="not found"):
        images.encode_image(tmp_path / "nope.jpg", WEBP_ONLY, cache)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with pytest.raises(ImageError, match="corrupt.jpg: cannot") as caught:
        images.encode_image(corrupt, WEBP_ONLY, cache)
    assert "\n" not in str(caught.value)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(ImageError, match="cannot read"):
        images.plan_image(text, WEBP_ONLY)
    whole = photo(tmp_path / "whole.jpg", size=(1200, 900)).read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ImageError, match="truncated.jpg: cannot decode"):
        images.encode_image(truncated, WEBP_ONLY, cache)
    _, stats = images.run_stage([corrupt, truncated], WEBP_ONLY, cache)
    assert len(stats.errors) == 2 and stats.images == 0


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused(tmp_path, cache):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(60_000, 60_000))  # 3.6 gigapixels in 100 bytes
    with pytest.raises(ImageError, match="bomb"):
        images.encode_image(bomb, WEBP_ONLY, cache)
    # Under Pillow's own limit but over the site's: refused before decoding too.
    big = photo(tmp_path / "big.png", size=(1200, 1000), fmt="PNG")
    with pytest.raises(ImageError, match="max_pixels"):
        images.encode_image(big, ImageSettings(max_pixels=1_000_000), cache)
    assert not any(cache.rglob("*.webp"))


# ---------------------------------------------------------------- passthrough, SVG


def test_gif_and_svg_pass_through(tmp_path, cache):
    gif = tmp_path / "anim.gif"
    frames = [Image.new("P", (120, 80), i) for i in range(3)]
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    result = images.encode_image(gif, WEBP_ONLY, cache)
    assert result.plan.passthrough and result.encoded == 0 and result.files == {}
    assert (result.plan.width, result.plan.height) == (120, 80)

    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"/>')
    result = images.encode_image(svg, WEBP_ONLY, cache)
    assert result.plan.passthrough and (result.plan.width, result.plan.height) == (200, 100)


@pytest.mark.parametrize(
    "root, size",
    [
        ('<svg width="120px" height="40">', (120, 40)),
        ('<svg viewBox="0 0 300 150">', (300, 150)),
        ('<svg width="600" viewBox="0,0,300,150">', (600, 300)),
        ('<svg height="50" viewBox="0 0 300 150">', (100, 50)),
        ('<svg width="100%" height="100%">', None),
        ('<svg width="10em" height="4em">', None),
        ("<svg>", None),
    ],
)
def test_svg_size(tmp_path, root, size):
    svg = tmp_path / "x.svg"
    svg.write_text(f'<?xml version="1.0"?>\n<!-- <svg width="1" height="1"> -->\n{root}</svg>')
    assert images.svg_size(svg) == size


def test_svg_entities_are_never_expanded(tmp_path):
    svg = tmp_path / "evil.svg"
    svg.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY w SYSTEM "file:///etc/passwd">'
        '<!ENTITY a "&a;&a;&a;">]>\n<svg width="&w;" height="30" viewBox="0 0 90 30"></svg>'
    )
    assert images.svg_size(svg) == (90, 30)  # width unusable: taken from the viewBox ratio


# ---------------------------------------------------------------- markup


def parse(markup: str):
    """An lxml tree of the markup, parsed the HTML5 way (libxml2's HTML parser does not know
    that <source> is a void element and would put the <img> inside it)."""
    document = html5lib.parse(str(markup), treebuilder="lxml", namespaceHTMLElements=False)
    return document.getroot().find("body")


def test_picture_markup(tmp_path, cache):
    source = photo(tmp_path / "hero shot,1.jpg", size=(2000, 1500))
    plan = images.encode_image(source, WEBP_ONLY, cache).plan
    html = images.picture_html(plan, "/posts/x/", 'A "quoted" <b>alt</b> & more', sizes="50vw")
    root = parse(html)
    (picture,) = root.findall("picture")
    (source_el,) = picture.findall("source")
    assert source_el.get("type") == "image/webp" and source_el.get("sizes") == "50vw"
    entries = [e.strip().split(" ") for e in source_el.get("srcset").split(",")]
    assert entries == [
        ["/posts/x/hero%20shot%2C1-480w.webp", "480w"],
        ["/posts/x/hero%20shot%2C1-960w.webp", "960w"],
        ["/posts/x/hero%20shot%2C1-1600w.webp", "1600w"],
    ]
    (img,) = picture.findall("img")
    assert img.get("src") == "/posts/x/hero%20shot%2C1-960w.jpg"
    assert img.get("srcset").count("w,") == 2 and ".jpg 1600w" in img.get("srcset")
    assert img.get("alt") == 'A "quoted" <b>alt</b> & more'
    assert (img.get("width"), img.get("height")) == ("2000", "1500")
    assert (img.get("loading"), img.get("decoding"), img.get("fetchpriority")) == (
        "lazy",
        "async",
        None,
    )
    hero = parse(images.picture_html(plan, "/posts/x", "", first=True)).find("picture/img")
    assert (hero.get("loading"), hero.get("fetchpriority")) == ("eager", "high")
    assert hero.get("alt") == "" and hero.get("src").startswith("/posts/x/hero")
    assert images.og_url(plan, "https://example.com/posts/x/").endswith("hero%20shot%2C1-1200w.jpg")


def test_rotated_image_markup_uses_oriented_size(tmp_path, cache):
    source = tmp_path / "r.jpg"
    Image.new("RGB", (1200, 600)).save(source, exif=exif_with(orientation=8))
    plan = images.encode_image(source, WEBP_ONLY, cache).plan
    img = parse(images.picture_html(plan, "/", "r")).find("picture/img")
    assert (img.get("width"), img.get("height")) == ("600", "1200")


def test_passthrough_and_remote_markup(tmp_path):
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg width="64" height="32"></svg>')
    plan = images.plan_image(svg, WEBP_ONLY)
    img = parse(images.picture_html(plan, "/", "Logo", original_url='/logo.svg?v=1&x="')).find(
        "img"
    )
    assert img.get("src") == '/logo.svg?v=1&x="' and img.get("width") == "64"
    assert img.get("loading") == "lazy"
    remote = parse(images.remote_img_html("https://cdn.example.com/a.png?x=1&y=2", "A", first=True))
    img = remote.find("img")
    assert img.get("src") == "https://cdn.example.com/a.png?x=1&y=2"
    assert img.get("fetchpriority") == "high" and img.get("width") is None
    assert images.is_remote("HTTPS://x/y.png") and not images.is_remote("img/y.png")


def test_variant_bytes_are_much_smaller_than_the_original(tmp_path, cache):
    source = photo(tmp_path / "big.jpg", size=(4000, 3000), quality=95)
    result = images.encode_image(source, WEBP_ONLY, cache)
    phone = result.files["big-960w.webp"].stat().st_size
    assert phone * 4 < source.stat().st_size


def test_bytes_input_matches_path_input(tmp_path, cache):
    source = photo(tmp_path / "a.jpg", size=(700, 500))
    by_path = images.encode_image(source, WEBP_ONLY, cache)
    by_bytes = images.encode_image(
        source, WEBP_ONLY, cache, data=io.BytesIO(source.read_bytes()).getvalue()
    )
    assert by_bytes.encoded == 0 and by_bytes.files == by_path.files


def test_cmyk_jpeg_becomes_rgb_without_its_cmyk_profile(tmp_path, cache):
    source = tmp_path / "print.jpg"
    Image.new("CMYK", (600, 400), (0, 255, 255, 0)).save(source, "JPEG")
    result = images.encode_image(source, WEBP_ONLY, cache)
    for name in result.files:
        im = opened(result, name)
        assert im.mode == "RGB" and "icc_profile" not in im.info, name
        red = im.getpixel((10, 10))
        assert red[0] > 200 and red[1] < 60, name

"""The text helpers' fast paths (ASCII as bytes, literal-first patterns) give what the
general, regex-only way gives: output must not change by a byte for being faster."""

from __future__ import annotations

import random
import re

import pytest

from quire.render import feeds, search, templates

SAMPLES = [
    "",
    "a",
    "Hello_World foo_bar ABC abc Abc 123 x1y2 __init__ the THE The and zz9 z9z",
    "tabs\tand\nnew lines\r\nand CamelCase and snake_case_words and dashes-here",
    "a" * 30 + " " + "b" * 24 + " " + "c" * 25 + " " + "d" * 3,
    "".join(map(chr, range(128))) * 2,
    "Café naïve ÜBER straße İstanbul ﬁne ２０２６ 東京",
]


def _general_terms(text: str) -> list[str]:
    return search._top(search._WORD.findall(search.fold(text)), search._STOP, search.MAX_TERMS)


@pytest.mark.parametrize("text", SAMPLES)
def test_key_terms_same_as_the_regex(text: str) -> None:
    assert search.key_terms(text) == _general_terms(text)


def test_key_terms_random_ascii_same_as_the_regex() -> None:
    rng = random.Random(16)
    words = ["Go", "go", "GO", "rust", "a1", "x_y", "q", "zzz", "the", "__", "9lives", "don't"]
    for _ in range(300):
        text = " ".join(
            rng.choice(words) + rng.choice(["", ".", ",", "\n", "-", "_"]) for _ in range(40)
        )
        assert search.key_terms(text) == _general_terms(text)


_OLD_ROOT_LINK = re.compile(r'(\s(?:href|src)=")/(?!/)')


def _general_rebase(text: str, prefix: str) -> str:
    text = _OLD_ROOT_LINK.sub(lambda m: m.group(1) + prefix, text)
    return templates._SRCSET.sub(
        lambda m: (
            m.group(1) + templates._SRCSET_ROOT.sub(lambda u: u.group(1) + prefix, m.group(2)) + '"'
        ),
        text,
    )


def test_rebase_root_links_same_as_the_whitespace_first_pattern() -> None:
    rng = random.Random(16)
    pieces = [" ", "\n", "\t", "href", "src", '="', "/", "//", "a", '"', "xhref", 'srcset="', ", "]
    pieces += ["\\1", "\\g<0>"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        for prefix in ("/sub/", "https://example.org/", "\\1/"):
            assert templates.rebase_root_links(text, prefix) == _general_rebase(text, prefix)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def test_clean_same_as_the_regex() -> None:
    for code in [*range(256), 0xD800, 0xFFFE, 0xFFFF, 0x10000]:
        for text in (chr(code), f"ab{chr(code)}c", chr(code) * 3 + "é"):
            assert feeds._clean(text) == _NOT_XML.sub("", text)


EVIL = "Evil \" ' & </title><script>x</script> ]]> <!-- é中😀 \x01 \r\n\ttab"


def _whole_feed_entry(config, view, rss: bool) -> str:
    """The entry as a feed serialised whole by feedgen shows it (the way before Scratch)."""
    fg = feeds._channel(config, feeds.FeedSpec("entry", "/", "/", None), None, "/", rss)
    feeds._add_entry(fg, config, feeds.feed_entry(config, view), rss)
    text = feeds._serialise(fg, rss)
    opening, closing, _ = feeds._LAYOUT[rss]
    return text[text.index(opening) + 1 : text.rindex(closing) + len(closing)]


@pytest.mark.parametrize("rss", [True, False])
def test_entry_xml_same_as_in_a_whole_feed(rss: bool) -> None:
    import datetime as dt

    from markupsafe import Markup

    from quire.config import SiteConfig
    from quire.model import Kind, Link, OgImage, PostView

    config = SiteConfig(title=EVIL, base_url="https://example.org/sub/", author=EVIL)
    when = dt.datetime(2026, 11, 4, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    scratch = feeds.scratch_channel(config, rss)
    for n, (title, author, image) in enumerate(
        [
            ("Plain", None, None),
            (EVIL, EVIL, OgImage("/images/a-1200.jpg", "image/jpeg", 4321, 1200, 630)),
            ("Tagged", "Ann", OgImage("https://cdn.example/b.png", None, 0)),
        ]
    ):
        view = PostView(
            title=title,
            url=f"/posts/p{n}/",
            slug=f"p{n}",
            kind=Kind.POST,
            date=when,
            updated=when + dt.timedelta(days=n) if n else None,
            summary=EVIL if n else "",
            author=author,
            image=None,
            draft=False,
            params={},
            tags=(Link(EVIL, "/tags/x/", "x"), Link("b", "/tags/b/", "b")),
            categories=(Link("c", "/categories/c/", "c"),) if n else (),
            content=Markup(
                f'<p><a href="/x/">{EVIL}</a> <img src="/i.png"> ]]&gt;</p>\n<pre>  a\n</pre>'
            ),
            og_image=image,
        )
        for _ in range(2):  # the scratch feed is used again and again
            assert feeds.entry_xml(config, view, scratch, rss) == _whole_feed_entry(
                config, view, rss
            )

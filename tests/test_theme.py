"""The default theme as a browser draws it (headless Chromium over HTTP)."""

from __future__ import annotations

from pathlib import Path

from browser import chrome, serve  # noqa: F401 - chrome is a fixture
from conftest import build_site, post, write

PRODUCTS = """
air:
  name: MacBook Air
  price: "$999"
  links:
    - store: A store whose name is long enough to wrap the button's label
      url: https://store.example.com/air/
"""

TABLE = """
| Model | Price | Stock |
|:------|------:|:-----:|
| Air   | $999  | yes   |

{{< buy "air" >}}
"""


def test_table_alignment_and_a_wrapped_buy_label(chrome, site: Path, tmp_path: Path):  # noqa: F811
    """A Markdown table's `---:` column is right-aligned on the page (the theme's cell rule
    overrode the align attribute), and a buy button's label that wraps stays centred."""
    write(site / "content" / "products.yaml", PRODUCTS)
    post(site, "air", "MacBook Air review", "2025-01-01", TABLE)
    out = tmp_path / "out"
    code, _, stderr = build_site(site, out)
    assert code == 0, stderr
    chrome.set_window_size(390, 844)
    with serve(out) as url:
        chrome.get(url + "posts/air/")
        align = chrome.execute_script(
            "return [...document.querySelectorAll('.post-content td, .post-content th')]"
            ".map(c => getComputedStyle(c).textAlign)"
        )
        button = chrome.execute_script(
            "const b = document.querySelector('.buy-link');"
            "return [getComputedStyle(b).textAlign, b.getClientRects().length && "
            "b.getBoundingClientRect().height]"
        )
    assert align == ["left", "right", "center"] * 2
    assert button[0] == "center"
    assert button[1] > 44  # the label did wrap at phone width: the check means something


def test_an_alias_redirect_keeps_the_fragment(chrome, site: Path, tmp_path: Path):  # noqa: F811
    """/old/b/#details lands on /posts/b/#details (a meta refresh alone drops the fragment;
    it stays as the fallback when scripts are off)."""
    from selenium.webdriver.support.ui import WebDriverWait

    write(
        site / "content/posts/b.md",
        "---\ntitle: B\ndate: 2024-01-02\naliases: [/old/b/]\n---\n## Details\n\nText.\n",
    )
    www = tmp_path / "www"
    www.mkdir()
    with serve(www) as url:
        code, _, stderr = build_site(site, www / "out", "--base-url", url + "out/")
        assert code == 0, stderr
        assert 'http-equiv="refresh"' in (www / "out" / "old" / "b" / "index.html").read_text()
        url += "out/"
        chrome.get(url + "old/b/#details")
        WebDriverWait(chrome, 30).until(lambda d: "/posts/" in d.current_url)
        assert chrome.current_url == url + "posts/b/#details"

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

"""The product catalogue (content/products.yaml) behind the buy boxes."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from quire.problems import Problem, display_path
from quire.read import content

try:
    _LOADER = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _LOADER = yaml.SafeLoader


@dataclass(frozen=True)
class StoreLink:
    store: str
    url: str


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    price: str
    links: tuple[StoreLink, ...]
    image: str | None = None
    note: str | None = None
    line: int = 1


# Front matter fields (besides `image`) whose values are URLs and are checked like it.
URL_FIELDS = ("image", "images", "link", "links", "url", "canonical", "cover", "thumbnail")


def check_url(url: object, allow_site_path: bool = True) -> str | None:
    """Why a URL from user data is refused, or None. Only http(s) and site paths pass.

    Browsers drop tabs, newlines and leading spaces and ignore case before reading the
    scheme ("java\tscript:", " JavaScript:"), so any whitespace or control character is
    refused outright rather than stripped; quotes, angle brackets and backslashes too.
    """
    if not isinstance(url, str) or not url:
        return "must be a URL"
    if any(_bad_url_char(c) for c in url):
        return f"URL {url!r} contains characters a URL may not have (spaces, quotes, <>, \\)"
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc and url[:1].isalpha():
        return None
    if allow_site_path and url.startswith("/") and not url.startswith("//") and not parts.scheme:
        if ".." in url.split("?")[0].split("#")[0].split("/"):
            return f"URL {url!r} must not contain '..'"
        return None
    allowed = (
        "an http(s) URL or a site path starting with /" if allow_site_path else "an http(s) URL"
    )
    return f"URL {url!r} is not allowed: use {allowed}"


def _bad_url_char(c: str) -> bool:
    if c in "\\<>\"'`" or c.isspace():
        return True
    # control (Cc), format (Cf: zero-width, bidi), surrogate, unassigned, private use
    return unicodedata.category(c) in ("Cc", "Cf", "Cs", "Cn", "Co")


def load_catalog(path: Path, site_root: Path) -> tuple[dict[str, Product], list[Problem]]:
    if not path.is_file():
        return {}, []
    shown = display_path(path, site_root)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raw = path.read_bytes()
        line = raw[: err.start].count(b"\n") + 1
        byte = f"byte 0x{raw[err.start]:02x}"
        return {}, [Problem(shown, line, f"file is not UTF-8 ({byte}); save it as UTF-8")]
    try:
        root = yaml.compose(text, Loader=_LOADER)
        if root is None:
            return {}, []
        found = content.yaml_node_problems(root, shown, 1)
        if found:
            return {}, found
        _LOADER("").construct_document(root)  # impossible dates raise here, not later
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        return {}, [Problem(shown, mark.line + 1 if mark else 1, f"invalid YAML: {err.problem}")]
    except yaml.YAMLError as err:
        return {}, [Problem(shown, 1, f"invalid YAML: {err}")]
    except (ValueError, OverflowError, TypeError) as err:
        line = content.failing_scalar_line(root)
        return {}, [Problem(shown, line + 1 if line is not None else 1, f"invalid value: {err}")]
    if not isinstance(root, yaml.MappingNode):
        return {}, [
            Problem(
                shown, root.start_mark.line + 1, "products.yaml must map product ids to products"
            )
        ]
    products: dict[str, Product] = {}
    problems: list[Problem] = []
    for key_node, value_node in root.value:
        product, found = _product(key_node, value_node, shown)
        problems.extend(found)
        if product is not None:
            if product.id in products:
                problems.append(
                    Problem(shown, product.line, f"duplicate product id '{product.id}'")
                )
            products[product.id] = product
    return products, problems


def _plain(node: yaml.Node) -> object:
    return content.clean_text(_LOADER("").construct_document(node))


def _fields(node: yaml.MappingNode) -> dict[str, tuple[object, int, yaml.Node]]:
    return {
        str(k.value): (_plain(v), v.start_mark.line + 1, v)
        for k, v in node.value
        if isinstance(k, yaml.ScalarNode)
    }


def _product(key_node, value_node, shown) -> tuple[Product | None, list[Problem]]:
    line = key_node.start_mark.line + 1
    pid = str(key_node.value)
    if not isinstance(value_node, yaml.MappingNode):
        return None, [
            Problem(shown, line, f"product '{pid}' must be a mapping with name, price, links")
        ]
    fields = _fields(value_node)
    problems = []

    def text(key: str, required: bool) -> str | None:
        if key not in fields:
            if required:
                problems.append(Problem(shown, line, f"product '{pid}' is missing '{key}'"))
            return None
        value, at, _ = fields[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            problems.append(Problem(shown, at, f"product '{pid}' field '{key}' must be text"))
            return None
        return str(value)

    name = text("name", True)
    price = text("price", False) or ""
    note = text("note", False)
    image = text("image", False)
    if image is not None and (why := check_url(image)):
        problems.append(Problem(shown, fields["image"][1], f"product '{pid}' image: {why}"))
    for key in fields.keys() - {"name", "price", "note", "image", "links"}:
        problems.append(
            Problem(shown, fields[key][1], f"product '{pid}' has unknown field '{key}'")
        )
    links: list[StoreLink] = []
    if "links" in fields:
        _, at, node = fields["links"]
        if not isinstance(node, yaml.SequenceNode):
            problems.append(
                Problem(shown, at, f"product '{pid}' links must be a list of store + url")
            )
        else:
            for item in node.value:
                item_line = item.start_mark.line + 1
                if not isinstance(item, yaml.MappingNode):
                    problems.append(
                        Problem(shown, item_line, f"product '{pid}' link must have store and url")
                    )
                    continue
                link = _fields(item)
                store = link.get("store", (None,))[0]
                url = link.get("url", (None,))[0]
                if not isinstance(store, str) or not store.strip():
                    problems.append(
                        Problem(shown, item_line, f"product '{pid}' link needs a 'store' name")
                    )
                    continue
                if why := check_url(url, allow_site_path=False):
                    problems.append(
                        Problem(
                            shown,
                            link.get("url", (0, item_line))[1],
                            f"product '{pid}' link: {why}",
                        )
                    )
                    continue
                links.append(StoreLink(store.strip(), str(url).strip()))
    if problems:
        return None, problems
    return Product(pid, name or pid, price, tuple(links), image, note, line), []

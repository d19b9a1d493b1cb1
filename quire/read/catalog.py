"""The product catalogue (content/products.yaml) behind the buy boxes."""

from __future__ import annotations

from pathlib import Path

import yaml

from quire.model import Product, StoreLink
from quire.problems import Problem, display_path
from quire.read import content
from quire.urls import check_url

try:
    _LOADER = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _LOADER = yaml.SafeLoader


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

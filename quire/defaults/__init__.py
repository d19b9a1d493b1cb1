"""The default templates and theme, shipped inside the package: a site overrides them file by file."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "defaults" / "templates"
THEME = PACKAGE / "defaults" / "theme"

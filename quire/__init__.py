"""quire: a fast static site generator for tech blogs."""

__version__ = "0.1.0"

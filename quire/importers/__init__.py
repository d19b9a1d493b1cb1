"""`quire import FLAVOUR SRC --site DST`: another generator's site into a quire site.

common.py holds the skeleton (`run_import`) and the shared helpers; each generator is one
module that maps fields (hugo.py, pelican.py). A new one is added to SOURCES below.
"""

from quire.importers.common import ImportRefused, ImportReport, Source, run_import
from quire.importers.hugo import HugoSource, import_hugo
from quire.importers.pelican import PelicanSource, import_pelican

SOURCES: dict[str, type[Source]] = {"hugo": HugoSource, "pelican": PelicanSource}

__all__ = [
    "SOURCES",
    "ImportRefused",
    "ImportReport",
    "Source",
    "import_hugo",
    "import_pelican",
    "run_import",
]

"""A live-reload preview, knowing nothing of what builds the pages it serves.

    live = LiveServer(folder, host="127.0.0.1", port=0, page_override=pages.get)
    watcher = Watcher(site, on_change=rebuild, folders=("content",), files=("site.toml",))
    watcher.start()        # returns once saves are being watched
    ...build folder...
    live.start()           # answers at live.url
    live.publish(problems) # after each change: tabs reload, or show problems over the page
    live.close(); watcher.close()

server.py is the HTTP side (files, clean URLs, Server-Sent Events), script.py and live.js
what is injected into served HTML, watcher.py the file watching (watchfiles).
"""

from quire.livereload.server import LiveServer
from quire.livereload.watcher import Watcher, editor_temp_file

__all__ = ["LiveServer", "Watcher", "editor_temp_file"]

"""The image stage: responsive variants of the site's local images, and their HTML.

- `encode.py`: one image at a time (Pillow): plan the variants, encode them into the
  cache (`SITE/.quire-cache/images/`), draw `<picture>` markup. Knows nothing of sites.
- `stage.py`: the site's images: find them (front matter `image`, products.yaml, `<img>` in
  rendered bodies), resolve them to source files, encode what the cache lacks in the worker
  pool, rewrite body `<img>` to `<picture>`, publish the variants, and the `picture()`
  function templates call.

This file imports nothing: `config.py` reads `encode.ImageSettings` without loading the stage.
"""

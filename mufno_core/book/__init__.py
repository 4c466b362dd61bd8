"""The book's helpers: one module per chapter (``*_chapter``, ``chapter`` for the sweep chapters,
``sqrt_log``), the figures (``plots``) and tables (``tables``) they draw, and the build
(``build``: which notebooks, which preset, ``launch``: how a notebook is started). Imports
``analysis``, ``sweep`` and the core; nothing below imports it."""

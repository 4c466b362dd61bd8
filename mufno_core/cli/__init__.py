"""The ``mufno`` command line (``main``) and its subcommands (``data``, ``sweep``): argument
parsing and printing only, over the library's functions. The top layer: nothing imports it."""

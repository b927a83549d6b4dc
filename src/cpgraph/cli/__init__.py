"""The ``cpgraph`` command: a thin layer over the library."""

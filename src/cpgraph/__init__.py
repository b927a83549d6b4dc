"""cpgraph: a knowledge graph of cleaner-production policy in China.

The package is a library first: :mod:`cpgraph.store.build` makes the store,
:mod:`cpgraph.store`
owns it, :mod:`cpgraph.validation.shacl` judges RDF against the shapes, and :mod:`cpgraph.cli.main`
and
:mod:`cpgraph.server` are thin layers over those functions.
"""

__version__ = "0.1.0"

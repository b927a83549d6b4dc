"""RDF terms, formats and files: reading and writing RDF, JSON-LD, literals, namespaces."""

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal
"""An RDF term that can stand as an object: pyoxigraph's terms are cpgraph's common currency."""

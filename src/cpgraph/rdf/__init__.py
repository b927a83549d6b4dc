"""RDF terms, formats and files: reading and writing RDF, JSON-LD, literals, namespaces."""

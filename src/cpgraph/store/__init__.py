"""The store: what cpgraph needs from a store, and the embedded Oxigraph that provides it."""

"""The store: what cpgraph needs from a store, and the embedded Oxigraph that provides it.

The rest of the package sees the interface exported here: :class:`Store` (a dataset, queried
and written) and the results a query returns. The embedded
implementation is laid out by concern:

- :mod:`cpgraph.store.results`: query results and the sinks that write them within bounds;
- :mod:`cpgraph.store.datasets`: the dataset a query reads;
- :mod:`cpgraph.store.union`: the merged union, and every write that keeps it;
- :mod:`cpgraph.store.oxigraph`: :class:`~cpgraph.store.oxigraph.GraphStore`, queries and
  reads (copied into memory by :mod:`~cpgraph.store.copies`);
- :mod:`cpgraph.store.builds`: build folders, publication and write transactions;
- :mod:`cpgraph.store.following` and :mod:`cpgraph.store.memory`: a server following new
  builds, and serving them from memory;
- :mod:`cpgraph.store.build`, :mod:`cpgraph.store.update`, :mod:`cpgraph.store.graph_store`:
  building a store, SPARQL Update and the Graph Store Protocol over it.
"""

from cpgraph.store.interface import Store
from cpgraph.store.results import BinarySink, QueryKind, QueryResult

__all__ = ["BinarySink", "QueryKind", "QueryResult", "Store"]

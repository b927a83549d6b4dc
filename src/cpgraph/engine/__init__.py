"""Answering queries: requests, the thread pool with its time limits, result formats.

- :mod:`cpgraph.engine.requests`: a query as the engine takes it, and its answer's head;
- :mod:`cpgraph.engine.negotiation`: which format an answer takes;
- :mod:`cpgraph.engine.pool`: the threads that evaluate queries under a time limit, through
  :mod:`~cpgraph.engine.jobs` (a query's channel to the event loop, carrying
  :mod:`~cpgraph.engine.messages`) and :mod:`~cpgraph.engine.evaluation` (what a thread does);
- :mod:`cpgraph.engine.at_once`: point lookups answered on the event loop;
- :mod:`cpgraph.engine.limits`: how many queries each client may run at once.
"""

"""The HTTP service: a FastAPI app over the library (see :func:`cpgraph.server.app.create_app`)."""

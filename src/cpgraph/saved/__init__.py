"""Saved queries: the library of research questions in ``queries/*.rq``."""

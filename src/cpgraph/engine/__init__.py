"""Answering queries: requests, the thread pool with its time limits, result formats."""

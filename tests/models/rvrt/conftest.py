"""Fixtures for the RVRT tests: the local HTTP file server."""

from tests.weights.fileserver import file_server  # noqa: F401  (a fixture)

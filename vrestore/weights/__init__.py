"""Checkpoint manifest, cache and loading."""

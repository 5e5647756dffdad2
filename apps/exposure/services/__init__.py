"""Exposure writes: scoring, the mix engine and its cache, pins and experiments."""

"""Benchmarks: each module prints one line of figures."""

"""Benchmarks, each runnable as ``python -m bench.<name>`` and printing one line of figures."""

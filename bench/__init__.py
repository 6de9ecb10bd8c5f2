"""Benchmarks, run on demand with ``make bench`` (never in the tests): figures go to the README."""

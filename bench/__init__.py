"""Benchmarks and their peers; never run by ``make test``."""

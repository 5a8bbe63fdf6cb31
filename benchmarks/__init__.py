"""Benchmarks of nnsym against its peers: `python -m benchmarks` (see README)."""

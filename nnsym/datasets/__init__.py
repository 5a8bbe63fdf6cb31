"""Public data sets shipped in the package (README.md names source and licence)."""

"""Public data sets shipped inside the package (see README.md for source and licence)."""

"""nnsym: small neural networks as SymPy expressions, with exact gradients as code."""

__version__ = "0.1.0"

__all__ = ["__version__"]

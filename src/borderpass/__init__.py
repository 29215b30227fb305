"""borderpass: an open, privacy-preserving platform for crossing a border during an epidemic."""

__version__ = "0.1.0"
__all__ = ["__version__"]

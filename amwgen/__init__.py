"""amwgen: a static site generator for AI-news digests."""

__version__ = "0.1.0"

"""paperkg: a knowledge-graph API of open large language models."""

__version__ = "0.1.0"

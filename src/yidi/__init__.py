"""yidi (异地): an open platform for China's cross-region medical insurance."""

__version__ = "0.1.0"

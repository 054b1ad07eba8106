"""Synthetic demo data: `python -m data.generate` writes extracts in the contract format (see README.md)."""

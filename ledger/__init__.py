"""Amanah: a signed, verifiable ledger of CSR money for informal workers' social security."""

__version__ = "0.1.0"

"""`amanah demo`: the North Jakarta 2025 programme as a live, signed ledger, deterministic from a seed."""

from cli.demo.build import build_demo, demo_tokens

__all__ = ["build_demo", "demo_tokens"]

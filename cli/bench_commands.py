"""`amanah bench`: benchmarks, each beside its baseline (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.common import EXIT_OK


def add_parsers(commands) -> None:
    """The `bench` command."""
    bench = commands.add_parser("bench", help="benchmarks, each beside its baseline (docs/benchmarks.md)")
    bench.add_argument("--scale", type=_scales, default=["tiny"],
                       help="tiny, small, demo or large, or several joined by commas (default tiny)")
    bench.add_argument("--postgres", help="also measure ingest and reads on this PostgreSQL URL")
    bench.add_argument("--output", type=Path, help="write the figures as JSON here")
    bench.add_argument("--markdown", type=Path, help="write the table (for docs/benchmarks.md) here")
    bench.set_defaults(handler=command_bench)


def _scales(text: str) -> list[str]:
    from api.bench import SCALES

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCALES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"--scale takes {', '.join(SCALES)} (joined by commas), not {text!r}")
    return names


def command_bench(arguments: argparse.Namespace) -> int:
    from api.bench import run
    from api.bench_report import markdown

    results = [run(scale, arguments.postgres, None) for scale in arguments.scale]
    if arguments.output:
        arguments.output.write_text(json.dumps(results if len(results) > 1 else results[0], indent=2) + "\n")
    if arguments.markdown:
        arguments.markdown.write_text(markdown(results))
        print(f"wrote {arguments.markdown}")
    return EXIT_OK

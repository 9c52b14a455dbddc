"""helgenom manifest: the run manifest (engine: helgenom.report.manifest)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom import __version__
from helgenom.cli.validate import check_run
from helgenom.errors import InputError
from helgenom.report import manifest
from helgenom.report.manifest import NOT_FOUND, parse_size, write_run_manifest
from helgenom.sheets.samplesheet import load_yaml


def run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir)
    try:
        run = check_run(load_yaml(args.config), workdir, config_source=args.config)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 2
    out = workdir / args.out
    written = write_run_manifest(out, run, [args.config], args.outputs or ["results"], workdir,
                                  size_only_above=args.size_only_above, threads=args.threads)
    summary, git = written["summary"], written["helgenom"]["git"] or {}
    absent = [t for t, v in written["tools"].items() if v == NOT_FOUND]
    size_only = f", {summary['size_only']} by size+mtime only" if summary["size_only"] else ""
    commit = f"{git['commit'][:12]}{' dirty' if git['dirty'] else ''}" if git else "no git"
    print(f"{out}: {summary['inputs']} inputs, {summary['outputs']} outputs{size_only}; "
          f"helgenom {__version__} ({commit}); tools not found: {', '.join(absent) or 'none'}")
    for path in summary["missing"]:
        print(f"warning: listed but missing: {path}", file=sys.stderr)
    return 1 if summary["missing"] else 0


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `manifest` subcommand."""
    p = sub.add_parser("manifest", help="write the run manifest (versions, config, checksums)",
                       description=manifest.__doc__)
    p.add_argument("--config", required=True, help="workflow config YAML (validated first)")
    p.add_argument("--workdir", default=".", help="workflow working directory; sheet, FASTQ, "
                   "--out and --outputs paths resolve against it (default: .)")
    p.add_argument("--out", default="results/manifest.json",
                   help="manifest to write (default: results/manifest.json)")
    p.add_argument("--outputs", nargs="*", default=[], metavar="PATH",
                   help="output files or folders to checksum (default: results/)")
    p.add_argument("--size-only-above", type=_size, default=None, metavar="SIZE",
                   help="record only size and mtime of files larger than SIZE (e.g. 20G); "
                   "default: SHA-256 of every file")
    p.add_argument("--threads", type=int, default=4, help="files hashed in parallel (default: 4)")
    p.set_defaults(func=run)

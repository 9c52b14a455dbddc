"""helgenom annotate-sources: the clinical annotation sources on a family's normalised calls."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from helgenom.annotate import engine
from helgenom.annotate.engine import AnnotateError, annotate
from helgenom.annotate.sources import sources_from_config


def _annotation(text: str) -> dict:
    """The `annotation` section given as JSON text, or @FILE holding it."""
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("a JSON object (the config's annotation section) is expected")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        sources = sources_from_config(_annotation(args.annotation))
    except (OSError, ValueError) as error:
        print(f"helgenom annotate-sources: --annotation: {error}", file=sys.stderr)
        return 2
    try:
        result = annotate(args.input, args.output, sources, threads=args.threads)
    except AnnotateError as error:
        print(f"helgenom annotate-sources: {error}; nothing written", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"helgenom annotate-sources: {note}", file=sys.stderr)
    for warning in result.warnings[:20]:
        print(f"helgenom annotate-sources: warning: {warning}", file=sys.stderr)
    names = [name for source in result.applied for name in source.names]
    print(f"helgenom annotate-sources: {result.records:,} records, "
          f"{len(result.applied)} source file{'s' if len(result.applied) != 1 else ''} "
          f"({', '.join(dict.fromkeys(names)) or 'none'}) -> {args.output}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `annotate-sources` subcommand."""
    parser = sub.add_parser(
        "annotate-sources", help="add the configured annotation sources (ClinVar, gnomAD, "
        "CADD, REVEL, SpliceAI, ...) to a family's normalised calls",
        description=engine.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True,
                        help="the normalised calls (biallelic, indexed VCF.gz or BCF)")
    parser.add_argument("--output", required=True,
                        help="annotated output: .bcf, .vcf.gz (indexed) or .vcf")
    parser.add_argument("--annotation", required=True,
                        help="the config's annotation section as JSON (or @FILE with it); "
                        "relative paths resolve against the working directory")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads (output compression) (default: %(default)s)")
    parser.set_defaults(func=run)

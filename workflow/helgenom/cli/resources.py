"""helgenom resources: fetch and prepare a build's reference bundle, write its site overlay.

    helgenom resources --build GRCh38 --outdir DIR [--dry-run [--probe]] [--pin] [--verify]
                       [--manifest FILE] [--site NAME [--force]] [--retries N]

(engine: helgenom.bundle; the manifests: resources/bundle/<build>.yaml)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helgenom.annotate.checks import source_problems
from helgenom.bundle.build import Options, output_stats, run_bundle
from helgenom.bundle.fetch import BundleError
from helgenom.bundle.manifest import (
    apply_pins,
    builds,
    builtin_manifest,
    load_manifest,
    pinned_path,
)
from helgenom.bundle.plan import make_plan, plan_text
from helgenom.bundle.site import (
    overlay_of,
    overlay_problems,
    overlay_text,
    site_path,
    write_overlay,
)
from helgenom.errors import InputError


def _log(message: str) -> None:
    print(f"helgenom resources: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    outdir = Path(args.outdir).absolute()
    path = Path(args.manifest) if args.manifest else builtin_manifest(args.build)
    if not path.is_file():
        print(f"helgenom resources: no manifest for build {args.build!r} ({path}); builds: "
              f"{', '.join(builds()) or 'none'}", file=sys.stderr)
        return 2
    try:
        manifest = load_manifest(path)
        if manifest.build != args.build:
            print(f"helgenom resources: {path} is the manifest of build {manifest.build}, "
                  f"not {args.build}", file=sys.stderr)
            return 2
        pinned = pinned_path(outdir, manifest.build)
        manifest = apply_pins(manifest, pinned)
        if args.dry_run:
            sys.stdout.write(plan_text(make_plan(manifest, outdir, args.probe), manifest,
                                       outdir))
            return 0
        target = site_path(outdir, args.site)
        options = Options(pin=args.pin, verify=args.verify, retries=args.retries,
                          backoff=args.backoff, timeout=args.timeout)
        outcome = run_bundle(manifest, outdir, options, _log)
        overlay = overlay_of(manifest, outdir)
        problems = overlay_problems(overlay, target, (source_problems,))
        if problems:
            raise InputError(problems)
        changed = write_overlay(overlay_text(overlay, manifest, outdir), target, args.force)
    except (InputError, BundleError) as error:
        print(f"helgenom resources: {error}", file=sys.stderr)
        return 2
    sizes = output_stats(manifest, outdir)
    print(f"{manifest.build} bundle in {outdir}: {len(outcome.downloaded)} downloaded, "
          f"{len(outcome.resumed)} resumed, {len(outcome.present)} already there; "
          f"{len(sizes)} prepared files ({sum(sizes.values()) / 1e9:.2f} GB)")
    if outcome.pinned:
        print(f"pinned {len(outcome.pinned)} part(s) as downloaded: their sizes and SHA-256 "
              f"are in {pinned}")
    print(f"site overlay {'written' if changed else 'unchanged'}: {target}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `resources` subcommand."""
    p = sub.add_parser(
        "resources", help="fetch and prepare a reference bundle (FASTA, GFF3, ClinVar, gnomAD)",
        description="Download the files of a build's manifest (resources/bundle/<build>.yaml) "
        "into DIR, resuming interrupted downloads and checking size and checksum, prepare them "
        "(faidx, bwa index, contig names, kept INFO fields, tabix) and write a site overlay "
        "pointing at them (DIR/site.yaml, or config/gmc/NAME.yaml with --site). Done work is "
        "recorded in DIR/.helgenom-bundle.json: a re-run fetches and hashes nothing.")
    p.add_argument("--build", required=True, help="genome build (a manifest in "
                   "resources/bundle/), e.g. GRCh38")
    p.add_argument("--outdir", required=True, help="the bundle folder")
    p.add_argument("--manifest", help="another manifest file (default: the build's)")
    p.add_argument("--dry-run", action="store_true", help="list files, sizes, what exists and "
                   "the disk needed; write nothing")
    p.add_argument("--probe", action="store_true", help="with --dry-run: ask the servers "
                   "(HEAD) the sizes the manifest does not give")
    p.add_argument("--pin", action="store_true", help="fetch unpinned parts (no checksum in "
                   "the manifest), compare them with the published checksum where there is "
                   "one, and record size and SHA-256 in DIR/<build>.pinned.yaml")
    p.add_argument("--verify", action="store_true", help="hash the recorded downloads again "
                   "and check the prepared files' contigs against the FASTA")
    p.add_argument("--site", help="write the overlay as config/gmc/SITE.yaml of the workflow "
                   "instead of DIR/site.yaml")
    p.add_argument("--force", action="store_true", help="replace an existing, different overlay")
    p.add_argument("--retries", type=int, default=5, help="retries of a cut download, each "
                   "resuming (default: 5)")
    p.add_argument("--backoff", type=float, default=2.0, help="seconds before the first retry, "
                   "doubling each time (default: 2)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds without data before a "
                   "connection counts as cut (default: 60)")
    p.set_defaults(func=run)

"""A bundle run: every part downloaded (or found done), every resource prepared, in manifest
order with the FASTA first (the others are checked against it and renamed to its names)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from helgenom.bundle.fetch import (
    BundleError,
    Log,
    bsd_sum,
    fetch,
    published_checksum,
    read_url,
)
from helgenom.bundle.manifest import Manifest, Part, Resource, pinned_path, write_pinned
from helgenom.bundle.prepare import (
    download_path,
    fasta_lengths,
    gff3_contig_problems,
    prepare_resource,
    prepared_files,
    vcf_contig_problems,
)
from helgenom.bundle.state import State, stat_of


@dataclass
class Options:
    pin: bool = False
    verify: bool = False
    retries: int = 5
    backoff: float = 2.0
    timeout: float = 60.0


@dataclass
class Outcome:
    downloaded: list[str] = field(default_factory=list)  # files fetched by this run
    resumed: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # recorded earlier: not fetched, not hashed
    pinned: list[str] = field(default_factory=list)  # URLs pinned by this run (--pin)
    requests: int = 0


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while data := handle.read(1 << 22):
            digest.update(data)
    return digest.hexdigest()


def refuse_unpinned(manifest: Manifest, outdir: Path) -> None:
    """BundleError listing the unpinned parts (no SHA-256, no MD5, not in the pinned copy)."""
    unpinned = manifest.unpinned()
    if not unpinned:
        return
    shown = "\n".join(f"  {res.name}: {part.url}" for res, part in unpinned[:10])
    more = f"\n  ... and {len(unpinned) - 10} more" if len(unpinned) > 10 else ""
    raise BundleError(
        f"{manifest.path}: {len(unpinned)} part(s) have no checksum (unpinned):\n{shown}{more}\n"
        "Run again with --pin to download them anyway: each is compared with the checksum its "
        "distributor publishes where there is one, and its size and SHA-256 are recorded in "
        f"{pinned_path(outdir, manifest.build)} (copy them into the manifest to pin it).")


def _check_published(part: Part, path: Path, md5: str, log: Log, timeout: float) -> None:
    """Compare a download being pinned with its distributor's published checksum (MD5, or
    BSD `sum`); a mismatch deletes it. Without one, it is pinned as downloaded (said)."""
    if part.published is None:
        log(f"{part.filename}: no published checksum to compare with: pinned as downloaded")
        return
    url, kind = part.published
    expected = published_checksum(read_url(url, timeout).decode("utf-8", "replace"),
                                  part.filename, kind)
    if expected is None:
        log(f"{part.filename}: not listed in {url}: pinned as downloaded, not compared")
        return
    got = md5 if kind == "md5" else bsd_sum(path)
    if got != expected:
        path.unlink(missing_ok=True)
        raise BundleError(f"{part.url}: the published {kind} checksum ({url}) is {expected}, "
                          f"the download's {got}: deleted (nothing kept)")
    log(f"{part.filename}: matches the published {kind} checksum ({url})")


def _ensure_download(part: Part, outdir: Path, state: State, options: Options,
                     outcome: Outcome, pins: dict[str, tuple[int, str]], log: Log) -> str:
    """The part's SHA-256: from the record when it is done (nothing fetched, nothing hashed,
    unless --verify), else downloaded now."""
    rel = download_path(part.filename)
    path = outdir / rel
    record = state.download(rel, part.url)
    if record and ((part.sha256 and record["sha256"] != part.sha256)
                   or (part.md5 and record.get("md5") and record["md5"] != part.md5)):
        log(f"{rel}: recorded with another checksum than the manifest's: downloading again")
        state.forget_download(rel)
        record = None
    if record:
        if options.verify:
            got = _sha256_of(path)
            if got != record["sha256"]:
                state.forget_download(rel)
                path.unlink()
                raise BundleError(f"{path}: changed since it was downloaded: SHA-256 "
                                  f"{got}, recorded {record['sha256']}; deleted: run again to "
                                  "download it")
            log(f"{rel}: verified (SHA-256 {got[:12]}...)")
        outcome.present.append(rel)
        return record["sha256"]
    if not part.pinned and not options.pin:
        raise BundleError(f"{part.url}: unpinned (no checksum in the manifest): run with --pin")
    log(f"{rel}: downloading {part.url}")
    fetched = fetch(part.url, path, size=part.size, sha256=part.sha256, md5=part.md5,
                    want_md5=bool(part.published and part.published[1] == "md5"),
                    retries=options.retries, backoff=options.backoff, timeout=options.timeout,
                    log=log)
    outcome.requests += fetched.requests
    (outcome.resumed if fetched.resumed_at else outcome.downloaded).append(rel)
    if not part.pinned:
        _check_published(part, path, fetched.md5, log, options.timeout)
        pins[part.url] = (fetched.size, fetched.sha256)
        log(f"{rel}: pinned: {fetched.size} bytes, SHA-256 {fetched.sha256}")
    state.record_download(rel, part.url, fetched.sha256, fetched.md5)
    return fetched.sha256


def _verify_prepared(res: Resource, outdir: Path, fasta: dict[str, int]) -> list[str]:
    problems = []
    for rel in prepared_files(res, outdir):
        if not (outdir / rel).is_file():
            problems.append(f"{rel}: missing")
    if problems:
        return problems
    if res.kind == "gff3":
        problems += gff3_contig_problems(outdir / res.output, fasta)
    elif res.kind == "vcf" and "index" in res.prepare:
        problems += vcf_contig_problems(outdir / res.output, fasta, res.output)
    return problems


def run_bundle(manifest: Manifest, outdir: Path, options: Options, log: Log) -> Outcome:
    """Download and prepare every resource of `manifest` into `outdir`."""
    if not options.pin:
        refuse_unpinned(manifest, outdir)
    created = not outdir.exists()
    outdir.mkdir(parents=True, exist_ok=True)
    state = State(outdir)
    outcome = Outcome()
    pins: dict[str, tuple[int, str]] = {}
    order = sorted(manifest.resources, key=lambda r: r.kind != "fasta")
    fasta: dict[str, int] = {}
    fasta_key = ""
    try:
        for res in order:
            keys = [_ensure_download(part, outdir, state, options, outcome, pins, log)
                    for part in res.parts]
            if pins:
                write_pinned(manifest, pins, pinned_path(outdir, manifest.build))
            key = prepare_resource(res, keys, outdir, state, fasta, fasta_key, log)
            if res.kind == "fasta":
                fasta, fasta_key = fasta_lengths(outdir, res), key
            if options.verify:
                if problems := _verify_prepared(res, outdir, fasta):
                    raise BundleError("; ".join(problems))
                log(f"{res.name}: prepared files verified")
    except BaseException:
        _remove_empty(outdir, created)
        raise
    finally:
        if pins:
            write_pinned(manifest, pins, pinned_path(outdir, manifest.build))
            outcome.pinned = list(pins)
    return outcome


def _remove_empty(outdir: Path, created: bool) -> None:
    """After a failure: the folders this run made that hold nothing (nothing left behind)."""
    for sub in (outdir / "downloads", outdir / "parts"):
        if sub.is_dir() and not any(sub.iterdir()):
            sub.rmdir()
    if created and outdir.is_dir() and not any(outdir.iterdir()):
        outdir.rmdir()


def output_stats(manifest: Manifest, outdir: Path) -> dict[str, int]:
    """Size of each prepared file (for the summary)."""
    return {rel: stat_of(outdir / rel)["size"] for res in manifest.resources
            for rel in prepared_files(res, outdir) if (outdir / rel).is_file()}

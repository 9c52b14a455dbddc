"""`helgenom resources`: a reference bundle fetched over HTTP from a local server (started
here: Python's http.server with Range support, and a mode that cuts the connection), prepared
(faidx, bwa index, GFF3 renamed to the FASTA's names, VCF INFO fields kept, parts
concatenated, tabix), recorded, and pointed at by a site overlay the workflow's checks accept.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from helgenom.bundle.fetch import BundleError, bsd_sum, fetch, published_checksum
from helgenom.bundle.manifest import builtin_manifest, load_manifest
from helgenom.bundle.prepare import contig_aliases
from helgenom.cli import main
from helgenom.cli.validate import check_run
from helgenom.errors import InputError
from helpers import need_tools

TOOLS = ("samtools", "bwa", "bcftools", "tabix", "bgzip")
LENGTHS = {"chr1": 6000, "chr2": 3000, "chrX": 5000, "chrM": 300,
           "chrUn_KI270302v1": 400}


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Served:
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    cut_after: dict[str, int] = field(default_factory=dict)  # path -> bytes, first GET only
    ignore_range: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def gets(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path and r["method"] == "GET"]


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _serve(self, body: bool) -> None:
            data = served.files.get(self.path)
            record = {"method": self.command, "path": self.path,
                      "range": self.headers.get("Range"), "if_range": self.headers.get("If-Range"),
                      "sent": 0}
            with served.lock:
                served.requests.append(record)
            if data is None:
                self.send_error(404)
                return
            etag = '"' + hashlib.md5(data).hexdigest() + '"'
            start = 0
            wanted = self.headers.get("Range")
            if wanted and not served.ignore_range and self.headers.get("If-Range", etag) == etag:
                start = int(wanted.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if not body:
                return
            payload = data[start:]
            cut = served.cut_after.pop(self.path, None)
            if cut is not None:
                self.wfile.write(payload[:cut])
                self.wfile.flush()
                record["sent"] = cut
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(payload)
            record["sent"] = len(payload)

        def do_GET(self) -> None:
            self._serve(True)

        def do_HEAD(self) -> None:
            self._serve(False)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    served = Served()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- the test data ------------------------------------------------------------------------------


def _fasta_gz() -> bytes:
    rng = random.Random(5)
    text = "".join(f">{name} test contig\n" + "\n".join(
        "".join(rng.choice("ACGT") for _ in range(min(60, length - i)))
        for i in range(0, length, 60)) + "\n" for name, length in LENGTHS.items())
    return gzip.compress(text.encode(), mtime=0)


def _gff3_gz() -> bytes:
    """Ensembl-style, contigs named 1, X, MT, KI270302.1 and one the FASTA lacks."""
    lines = ["##gff-version 3", "##sequence-region   1 1 6000", "##sequence-region   X 1 5000",
             "##sequence-region   MT 1 300", "##sequence-region   KI270302.1 1 400",
             "##sequence-region   KI999999.1 1 900"]
    for seqid, gene in (("1", "GENE1"), ("X", "GENEX"), ("MT", "MT-ND1"),
                        ("KI270302.1", "GENEUN"), ("KI999999.1", "GENEZZ")):
        lines += [f"{seqid}\tensembl\tgene\t100\t250\t.\t+\t.\tID=gene:{gene};Name={gene};"
                  "biotype=protein_coding",
                  f"{seqid}\tensembl\tmRNA\t100\t250\t.\t+\t.\tID=transcript:{gene}T;"
                  f"Parent=gene:{gene};biotype=protein_coding",
                  f"{seqid}\tensembl\texon\t100\t250\t.\t+\t.\tParent=transcript:{gene}T",
                  f"{seqid}\tensembl\tCDS\t100\t249\t.\t+\t0\tParent=transcript:{gene}T",
                  "###"]
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def _vcf(contigs: dict[str, int], records: list[str], info: list[str], tmp: Path) -> bytes:
    header = ["##fileformat=VCFv4.2", *(f"##contig=<ID={c},length={n}>"
                                        for c, n in contigs.items()),
              *(f'##INFO=<ID={tag},Number=A,Type=Float,Description="{tag}">' for tag in info),
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    plain = tmp / f"v{len(list(tmp.iterdir()))}.vcf"
    plain.write_text("\n".join(header + records) + "\n")
    subprocess.run(["bgzip", "-f", str(plain)], check=True)
    return Path(f"{plain}.gz").read_bytes()


@dataclass
class Bundle:
    base: str
    served: Served
    files: dict[str, bytes]
    manifest: Path


def _entry(base: str, name: str, data: bytes, **override: object) -> dict:
    part = {"url": f"{base}/{name}", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}
    part.update(override)
    return {k: v for k, v in part.items() if v is not None}


def write_manifest(path: Path, base: str, files: dict[str, bytes],
                   overrides: dict[str, dict] | None = None) -> Path:
    o = overrides or {}

    def part(name: str) -> dict:
        return _entry(base, name, files[name], **o.get(name, {}))

    manifest = {
        "build": "TEST",
        "resources": [
            {"name": "fasta", "kind": "fasta", "parts": [part("genome.fna.gz")],
             "prepare": ["decompress", "faidx", "bwa_index"], "output": "genome.fa",
             "config": "reference.fasta", "prepared_estimate": {"bytes": 25000,
                                                                "basis": "estimate: test"}},
            {"name": "gff3", "kind": "gff3", "parts": [part("genes.gff3.gz")],
             "prepare": ["rename_contigs"], "output": "genes.chr.gff3.gz",
             "config": "reference.gff3", "prepared_estimate": {"ratio": 1.0, "basis": "test"}},
            {"name": "clinvar", "kind": "vcf", "parts": [part("clinvar.vcf.gz")],
             "prepare": ["split_multiallelic", "index"], "output": "clinvar.biallelic.vcf.gz",
             "config": "annotation.clinvar.path"},
            {"name": "gnomad", "kind": "vcf",
             "parts": [part("gnomad.chr1.vcf.bgz"), part("gnomad.chrX.vcf.bgz")],
             "prepare": ["keep_info", "index"], "keep_info": ["AF", "AF_grpmax", "nhomalt"],
             "output": "gnomad.af.vcf.gz", "config": "annotation.gnomad.path"},
        ],
        "values": {"reference.par": ["chrX:10-200", "chrX:4800-4990"],
                   "reference.chrx": "chrX", "reference.chry": "chrY"},
    }
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path


@pytest.fixture
def bundle(server: tuple[str, Served], tmp_path: Path) -> Bundle:
    need_tools(*TOOLS)
    base, served = server
    work = tmp_path / "made"
    work.mkdir()
    clinvar_info = ["CLNSIG", "CLNREVSTAT"]
    header_lines = [f'##INFO=<ID={t},Number=.,Type=String,Description="{t}">'
                    for t in clinvar_info]
    clinvar = _vcf({"1": 6000, "X": 5000}, [
        "1\t120\t1001\tA\tG,T\t.\t.\tCLNSIG=Pathogenic;CLNREVSTAT=criteria_provided",
        "X\t150\t1002\tC\tT\t.\t.\tCLNSIG=Benign;CLNREVSTAT=no_assertion"], [], work)
    # the ClinVar-like VCF declares its String INFO tags
    text = gzip.decompress(clinvar).decode().replace(
        "#CHROM", "\n".join(header_lines) + "\n#CHROM", 1)
    plain = work / "clinvar.vcf"
    plain.write_text(text)
    subprocess.run(["bgzip", "-f", str(plain)], check=True)
    clinvar = Path(f"{plain}.gz").read_bytes()
    info = ["AF", "AF_grpmax", "nhomalt", "AC", "vep_like"]
    gnomad_contigs = {"chr1": 6000, "chr2": 3000, "chrX": 5000}
    files = {
        "genome.fna.gz": _fasta_gz(),
        "genes.gff3.gz": _gff3_gz(),
        "clinvar.vcf.gz": clinvar,
        "gnomad.chr1.vcf.bgz": _vcf(gnomad_contigs, [
            "chr1\t120\t.\tA\tG\t.\tPASS\tAF=0.1;AF_grpmax=0.2;nhomalt=3;AC=7;vep_like=0.5",
            "chr1\t300\t.\tC\tT\t.\tPASS\tAF=0.01;AF_grpmax=0.02;nhomalt=0;AC=1;vep_like=1"],
            info, work),
        "gnomad.chrX.vcf.bgz": _vcf(gnomad_contigs, [
            "chrX\t150\t.\tC\tT\t.\tPASS\tAF=0.3;AF_grpmax=0.4;nhomalt=9;AC=30;vep_like=2"],
            info, work),
    }
    served.files.update({f"/{name}": data for name, data in files.items()})
    return Bundle(base, served, files, write_manifest(tmp_path / "TEST.yaml", base, files))


def run_cli(bundle: Bundle, outdir: Path, *extra: str, manifest: Path | None = None) -> int:
    return main(["resources", "--build", "TEST", "--outdir", str(outdir), "--manifest",
                 str(manifest or bundle.manifest), "--backoff", "0", *extra])


def files_in(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def _vcf_text(path: Path) -> str:
    return subprocess.run(["bcftools", "view", "--no-version", str(path)], capture_output=True,
                          text=True, check=True).stdout


# --- fetch, prepare, overlay, re-run ---------------------------------------------------


def _tiny_run_config(tmp_path: Path, outdir: Path) -> dict:
    """A run of one sample whose site overlay is the bundle's (gmc_dir: DIR, gmc: site)."""
    fastq = tmp_path / "reads"
    fastq.mkdir()
    for mate in (1, 2):
        (fastq / f"S1_R{mate}.fastq").write_text("@r1\nACGT\n+\nIIII\n")
    (tmp_path / "samples.tsv").write_text(
        "family\tsample\tsex\tphenotype\tfather\tmother\tgmc\thpo\n"
        "FAM\tS1\tfemale\taffected\t\t\tsite\t\n")
    (tmp_path / "units.tsv").write_text(
        f"sample\tunit\tfq1\tfq2\nS1\tL1\t{fastq}/S1_R1.fastq\t{fastq}/S1_R2.fastq\n")
    return {"samples": str(tmp_path / "samples.tsv"), "units": str(tmp_path / "units.tsv"),
            "gmc_dir": str(outdir),
            "reference": {"fasta": "/not/used.fa", "gff3": "/not/used.gff3"}}


def test_fetches_prepares_and_writes_an_overlay_the_workflow_accepts(
        bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir) == 0
    out = capsys.readouterr().out
    assert "5 downloaded, 0 resumed, 0 already there" in out
    # the FASTA: plain, indexed by samtools and bwa
    fasta = outdir / "genome.fa"
    assert fasta.read_bytes() == gzip.decompress(bundle.files["genome.fna.gz"])
    fai = {line.split("\t")[0]: int(line.split("\t")[1])
           for line in (outdir / "genome.fa.fai").read_text().splitlines()}
    assert fai == LENGTHS
    for suffix in (".amb", ".ann", ".bwt", ".pac", ".sa"):
        assert Path(f"{fasta}{suffix}").stat().st_size > 0
    # the GFF3: bgzipped, seqids renamed to the FASTA's, the unknown contig's lines dropped
    gff3 = outdir / "genes.chr.gff3.gz"
    assert gff3.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # BGZF
    lines = gzip.decompress(gff3.read_bytes()).decode().splitlines()
    seqids = {line.split("\t")[0] for line in lines if line and not line.startswith("#")}
    assert seqids == {"chr1", "chrX", "chrM", "chrUn_KI270302v1"}
    assert "##sequence-region   chr1 1 6000" in lines
    assert not any("KI999999" in line for line in lines)
    # ClinVar: split to biallelic records, its 1-naming kept, indexed
    clinvar = outdir / "clinvar.biallelic.vcf.gz"
    records = [line.split("\t") for line in _vcf_text(clinvar).splitlines()
               if not line.startswith("#")]
    assert [(r[0], r[1], r[4]) for r in records] == [("1", "120", "G"), ("1", "120", "T"),
                                                     ("X", "150", "T")]
    assert Path(f"{clinvar}.tbi").is_file()
    # gnomAD: the parts concatenated, only the kept INFO fields
    gnomad_text = _vcf_text(outdir / "gnomad.af.vcf.gz")
    assert "ID=AC," not in gnomad_text and "vep_like" not in gnomad_text
    body = [line.split("\t") for line in gnomad_text.splitlines() if not line.startswith("#")]
    assert [(r[0], r[1], r[7]) for r in body] == [
        ("chr1", "120", "AF=0.1;AF_grpmax=0.2;nhomalt=3"),
        ("chr1", "300", "AF=0.01;AF_grpmax=0.02;nhomalt=0"),
        ("chrX", "150", "AF=0.3;AF_grpmax=0.4;nhomalt=9")]
    assert not (outdir / "parts").exists()  # the per-part intermediates are gone
    # the overlay: absolute paths into DIR and the written facts
    overlay = yaml.safe_load((outdir / "site.yaml").read_text())
    assert overlay["reference"] == {"par": ["chrX:10-200", "chrX:4800-4990"], "chrx": "chrX",
                                    "chry": "chrY", "fasta": str(fasta.resolve()),
                                    "gff3": str(gff3.resolve())}
    assert overlay["annotation"]["clinvar"]["path"] == str(clinvar.resolve())
    # ... which the workflow's start check (helgenom validate) accepts as the run's site
    run = check_run(_tiny_run_config(tmp_path, outdir), tmp_path)
    assert run.config["gmc"] == "site"
    assert run.config["reference"]["fasta"] == str(fasta.resolve())
    assert run.config["annotation"]["gnomad"]["path"] == str((outdir / "gnomad.af.vcf.gz")
                                                             .resolve())
    # a re-run fetches nothing (no request at all) and changes nothing
    before = {p: p.stat().st_mtime_ns for p in files_in(outdir)}
    bundle.served.requests.clear()
    assert run_cli(bundle, outdir) == 0
    assert "0 downloaded, 0 resumed, 5 already there" in capsys.readouterr().out
    assert bundle.served.requests == []
    assert {p: p.stat().st_mtime_ns for p in files_in(outdir)} == before


def test_an_interrupted_preparation_redoes_only_what_is_missing(
        bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir) == 0
    bwt = (outdir / "genome.fa.bwt").stat().st_mtime_ns
    (outdir / "gnomad.af.vcf.gz").unlink()  # as if the run stopped before it was renamed
    bundle.served.requests.clear()
    capsys.readouterr()
    assert run_cli(bundle, outdir) == 0
    err = capsys.readouterr().err
    assert "gnomad: concatenating 2 parts" in err and "bwa index" not in err
    assert bundle.served.requests == []  # the downloads are there: nothing fetched
    assert (outdir / "genome.fa.bwt").stat().st_mtime_ns == bwt
    assert (outdir / "gnomad.af.vcf.gz").is_file()


def test_verify_hashes_the_downloads_again(bundle: Bundle, tmp_path: Path) -> None:
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir) == 0
    assert run_cli(bundle, outdir, "--verify") == 0
    download = outdir / "downloads" / "clinvar.vcf.gz"
    stat = download.stat()
    data = bytearray(download.read_bytes())
    data[-30] ^= 0xFF  # corrupted on disk, same size and mtime: only --verify sees it
    download.write_bytes(bytes(data))
    import os
    os.utime(download, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert run_cli(bundle, outdir) == 0
    assert run_cli(bundle, outdir, "--verify") == 2
    assert not download.exists()


# --- downloads: resume, restart, mismatches --------------------------------------------


def test_a_cut_connection_resumes_with_a_range_request(bundle: Bundle, tmp_path: Path) -> None:
    data = bundle.files["genome.fna.gz"]
    bundle.served.cut_after["/genome.fna.gz"] = 1000
    logged: list[str] = []
    got = fetch(f"{bundle.base}/genome.fna.gz", tmp_path / "g.fna.gz", size=len(data),
                sha256=hashlib.sha256(data).hexdigest(), backoff=0, log=logged.append)
    assert got.path.read_bytes() == data and got.requests == 2
    first, second = bundle.served.gets("/genome.fna.gz")
    assert first["range"] is None and first["sent"] == 1000
    assert second["range"] == "bytes=1000-" and second["if_range"]
    assert second["sent"] == len(data) - 1000  # the first 1000 bytes were not sent again
    assert any("retry 1 of 5" in line for line in logged)
    assert not list(tmp_path.glob("*.part*"))


def test_an_interrupted_download_resumes_on_the_next_run(bundle: Bundle, tmp_path: Path) -> None:
    data = bundle.files["genes.gff3.gz"]
    url, dest = f"{bundle.base}/genes.gff3.gz", tmp_path / "genes.gff3.gz"
    bundle.served.cut_after["/genes.gff3.gz"] = 200
    with pytest.raises(BundleError, match="200 bytes are kept"):
        fetch(url, dest, size=len(data), retries=0, log=lambda _: None)
    assert not dest.exists() and (tmp_path / "genes.gff3.gz.part").stat().st_size == 200
    got = fetch(url, dest, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                log=lambda _: None)
    assert got.resumed_at == 200 and dest.read_bytes() == data
    assert bundle.served.gets("/genes.gff3.gz")[-1]["range"] == "bytes=200-"


def test_a_run_stopped_mid_download_is_resumed_by_the_next_run(
        bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outdir = tmp_path / "bundle"
    bundle.served.cut_after["/genome.fna.gz"] = 1500
    assert run_cli(bundle, outdir, "--retries", "0") == 2
    assert "1500 bytes are kept" in capsys.readouterr().err
    assert not (outdir / "downloads" / "genome.fna.gz").exists()
    assert not (outdir / "site.yaml").exists()
    assert run_cli(bundle, outdir, "--dry-run") == 0
    assert "partial: 1.5 kB (resumes)" in capsys.readouterr().out
    assert run_cli(bundle, outdir) == 0
    assert "4 downloaded, 1 resumed" in capsys.readouterr().out
    assert bundle.served.gets("/genome.fna.gz")[-1]["range"] == "bytes=1500-"
    assert (outdir / "genome.fa").read_bytes() == gzip.decompress(bundle.files["genome.fna.gz"])


def test_site_writes_the_workflows_overlay_and_keeps_another_without_force(
        bundle: Bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "config" / "gmc").mkdir(parents=True)
    monkeypatch.setenv("HELGENOM_SRC", str(checkout))  # the workflow checkout
    site = checkout / "config" / "gmc" / "mysite.yaml"
    site.write_text("reference: {fasta: /elsewhere.fa}\n")
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir, "--site", "mysite") == 2
    assert "mysite.yaml exists with other content: pass --force" in capsys.readouterr().err
    assert run_cli(bundle, outdir, "--site", "mysite", "--force") == 0
    overlay = yaml.safe_load(site.read_text())
    assert overlay["reference"]["fasta"] == str((outdir / "genome.fa").resolve())
    assert not (outdir / "site.yaml").exists()
    assert run_cli(bundle, outdir, "--site", "../up") == 2
    assert "not a site name" in capsys.readouterr().err


def test_a_server_ignoring_range_restarts_from_zero(bundle: Bundle, tmp_path: Path) -> None:
    data = bundle.files["genome.fna.gz"]
    bundle.served.ignore_range = True
    bundle.served.cut_after["/genome.fna.gz"] = 1000
    logged: list[str] = []
    got = fetch(f"{bundle.base}/genome.fna.gz", tmp_path / "g.fna.gz", size=len(data),
                sha256=hashlib.sha256(data).hexdigest(), backoff=0, log=logged.append)
    assert got.path.read_bytes() == data
    assert any("ignored the Range request" in line and "restarting from zero" in line
               for line in logged)
    assert bundle.served.gets("/genome.fna.gz")[1]["sent"] == len(data)


def test_a_checksum_mismatch_keeps_nothing(bundle: Bundle, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "0" * 64
    manifest = write_manifest(tmp_path / "bad.yaml", bundle.base, bundle.files,
                              {"genome.fna.gz": {"sha256": wrong}})
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir, manifest=manifest) == 2
    err = capsys.readouterr().err
    got = hashlib.sha256(bundle.files["genome.fna.gz"]).hexdigest()
    assert f"{bundle.base}/genome.fna.gz" in err and "checksum mismatch" in err
    assert f"expected {wrong}, got {got}" in err and "nothing kept" in err
    assert files_in(outdir) == [] and not outdir.exists()


def test_a_size_mismatch_is_refused_before_downloading(bundle: Bundle, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    size = len(bundle.files["genome.fna.gz"])
    manifest = write_manifest(tmp_path / "bad.yaml", bundle.base, bundle.files,
                              {"genome.fna.gz": {"size": size + 5}})
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir, manifest=manifest) == 2
    err = capsys.readouterr().err
    assert f"size mismatch: the manifest says {size + 5} bytes, the server {size}" in err
    assert files_in(outdir) == [] and not outdir.exists()


def test_a_missing_file_names_the_url(bundle: Bundle, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    del bundle.served.files["/genome.fna.gz"]
    assert run_cli(bundle, tmp_path / "bundle") == 2
    assert f"{bundle.base}/genome.fna.gz: HTTP 404" in capsys.readouterr().err


# --- pinning ------------------------------------------------------------------------------------


def test_unpinned_parts_need_pin_which_checks_the_published_md5(
        bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = bundle.files["clinvar.vcf.gz"]
    bundle.served.files["/md5checksums.txt"] = (
        f"{'1' * 32}  ./other.vcf.gz\n{hashlib.md5(data).hexdigest()}  ./clinvar.vcf.gz\n"
    ).encode()
    unpinned = {"sha256": None, "size": None,
                "published_checksum": {"url": f"{bundle.base}/md5checksums.txt",
                                       "format": "md5"}}
    manifest = write_manifest(tmp_path / "unpinned.yaml", bundle.base, bundle.files,
                              {"clinvar.vcf.gz": unpinned})
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir, manifest=manifest) == 2
    err = capsys.readouterr().err
    assert "1 part(s) have no checksum (unpinned)" in err and "--pin" in err
    assert not outdir.exists() and bundle.served.requests == []
    assert run_cli(bundle, outdir, "--pin", manifest=manifest) == 0
    captured = capsys.readouterr()
    assert "matches the published md5 checksum" in captured.err
    pinned = yaml.safe_load((outdir / "TEST.pinned.yaml").read_text())
    part = pinned["resources"][2]["parts"][0]
    assert part["sha256"] == hashlib.sha256(data).hexdigest() and part["size"] == len(data)
    assert "TEST.pinned.yaml" in captured.out
    # later runs take the pin from the pinned copy: no --pin needed, nothing fetched
    bundle.served.requests.clear()
    assert run_cli(bundle, outdir, manifest=manifest) == 0
    assert bundle.served.requests == []


def test_a_download_differing_from_the_published_md5_is_deleted(
        bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle.served.files["/clinvar.vcf.gz.md5"] = f"{'a' * 32}  clinvar.vcf.gz\n".encode()
    unpinned = {"sha256": None, "published_checksum": {
        "url": f"{bundle.base}/clinvar.vcf.gz.md5", "format": "md5"}}
    manifest = write_manifest(tmp_path / "unpinned.yaml", bundle.base, bundle.files,
                              {"clinvar.vcf.gz": unpinned})
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir, "--pin", manifest=manifest) == 2
    assert f"is {'a' * 32}, the download's" in capsys.readouterr().err
    assert not (outdir / "downloads" / "clinvar.vcf.gz").exists()
    assert not (outdir / "TEST.pinned.yaml").exists()


def test_published_checksum_lists() -> None:
    ncbi = "0123456789abcdef0123456789abcdef  ./GCA_x_no_alt_analysis_set.fna.gz\n" \
           "ffffffffffffffffffffffffffffffff  ./GCA_x_full_analysis_set.fna.gz\n"
    assert published_checksum(ncbi, "GCA_x_no_alt_analysis_set.fna.gz", "md5") == \
        "0123456789abcdef0123456789abcdef"
    assert published_checksum("ABCDEF0123456789ABCDEF0123456789\n", "any.vcf.gz", "md5") == \
        "abcdef0123456789abcdef0123456789"
    assert published_checksum("MD5 (a.gz) = 0123456789abcdef0123456789abcdef", "a.gz",
                              "md5") == "0123456789abcdef0123456789abcdef"
    ensembl = "12345 67890 Homo_sapiens.GRCh38.113.gff3.gz\n111 2 README\n"
    assert published_checksum(ensembl, "Homo_sapiens.GRCh38.113.gff3.gz", "sum") == "12345 67890"
    assert published_checksum(ensembl, "missing.gz", "sum") is None


def test_bsd_sum_is_coreutils_sum(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"helgenom\n" * 300)
    checksum, blocks = bsd_sum(path).split()
    assert int(blocks) == 3  # 2,700 bytes in 1 KiB blocks
    assert 0 <= int(checksum) < 65536


# --- dry run ------------------------------------------------------------------------------------


def test_dry_run_lists_sizes_and_the_disk_needed_and_writes_nothing(
        bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir, "--dry-run") == 0
    out = capsys.readouterr().out
    assert not outdir.exists() and bundle.served.requests == []
    assert "downloads/genome.fna.gz" in out and "to fetch" in out
    assert "genome.fa.{amb,ann,bwt,pac,sa}" in out and "estimate" in out
    needed = sum(len(d) for d in bundle.files.values()) + 25000 + int(25000 * 1.75) \
        + len(bundle.files["genes.gff3.gz"])
    assert f"disk needed: {needed / 1e3:.1f} kB plus 2 file(s) of unknown size" in out
    assert "reference.par" in out
    assert run_cli(bundle, outdir) == 0
    capsys.readouterr()
    assert run_cli(bundle, outdir, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "disk needed: 0 B" in out and "to fetch" not in out and "to prepare" not in out


def test_dry_run_probe_asks_the_server_for_unknown_sizes(
        bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(tmp_path / "m.yaml", bundle.base, bundle.files,
                              {"genome.fna.gz": {"size": None}})
    assert run_cli(bundle, tmp_path / "b", "--dry-run", "--probe", manifest=manifest) == 0
    out = capsys.readouterr().out
    assert "server (HEAD)" in out
    assert [r["method"] for r in bundle.served.requests] == ["HEAD"]


# --- manifests and contigs ----------------------------------------------------------------------


def test_the_grch38_manifest_loads_and_is_honest_about_pins() -> None:
    manifest = load_manifest(builtin_manifest("GRCh38"))
    assert manifest.reference is not None
    assert {r.config for r in manifest.resources} == {
        "reference.fasta", "reference.gff3", "annotation.clinvar.path",
        "annotation.gnomad.path"}
    assert manifest.values["reference.par"] == ["chrX:10001-2781479", "chrX:155701383-156030895"]
    # no checksum or size could be taken here: every part is unpinned, none is invented
    assert len(manifest.unpinned()) == sum(len(r.parts) for r in manifest.resources) == 27
    assert all(p.size is None for r in manifest.resources for p in r.parts)


def test_manifest_problems_name_line_and_key(tmp_path: Path, bundle: Bundle) -> None:
    data = yaml.safe_load(bundle.manifest.read_text())
    data["resources"][1]["prepare"] = ["faidx"]
    data["resources"][2]["config"] = "annotation.clinvr.path"
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as error:
        load_manifest(path)
    text = str(error.value)
    assert "key 'resources[1].prepare': value 'faidx': not a step of a gff3" in text
    assert "key 'resources[2].config': value 'annotation.clinvr.path': not a key of the" in text


def test_a_source_of_another_build_is_refused(bundle: Bundle, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "other"
    work.mkdir()
    bundle.files["clinvar.vcf.gz"] = _vcf({"1": 9999}, ["1\t120\t.\tA\tG\t.\t.\t."], [], work)
    bundle.served.files["/clinvar.vcf.gz"] = bundle.files["clinvar.vcf.gz"]
    manifest = write_manifest(tmp_path / "m.yaml", bundle.base, bundle.files)
    outdir = tmp_path / "bundle"
    assert run_cli(bundle, outdir, manifest=manifest) == 2
    assert ("clinvar.biallelic.vcf.gz: contig 1 has length 9999 in its header, the FASTA's "
            "chr1 6000") in capsys.readouterr().err
    assert not (outdir / "clinvar.biallelic.vcf.gz").exists()
    assert not (outdir / "site.yaml").exists()


def test_contig_aliases_cover_both_namings_and_scaffold_accessions() -> None:
    aliases = contig_aliases({"chr1": 1, "chrM": 1, "chrUn_KI270302v1": 1,
                              "chr1_KI270706v1_random": 1, "chrEBV": 1})
    assert aliases["1"] == "chr1" and aliases["MT"] == "chrM"
    assert aliases["KI270302.1"] == "chrUn_KI270302v1"
    assert aliases["KI270706.1"] == "chr1_KI270706v1_random"
    assert "chr1" not in aliases

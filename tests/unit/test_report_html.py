"""`helgenom report` and `helgenom report-index`: the page's structure (read back with the
stdlib html.parser), escaping of every input value, self-sufficiency, determinism, and bad
inputs (one line naming the file, exit 2, nothing written).

The inputs are small files written here, shaped like what the workflow delivers for a trio:
a candidate list with QC line, SNVs and SVs, a compound pair, phenotype columns and each
member's GT/DP/AB/GQ (and, in lists of this version, the clinical annotation: ClinVar,
gnomAD, SweGen, the local frequency database, CADD, REVEL, SpliceAI); the QC JSON; the PED;
the UPD and ROH tables; depth-CNV and SV VCFs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helgenom.cli import report as report_cli
from helgenom.cli import report_index as report_index_cli
from helgenom.report import html as report_html

SCRIPT_GENE = "<script>window.__pwned=1</script>"
IMG_LABEL = 'HP:0001250 <img src=x onerror="window.__pwned=2">Seizure'
FAMILY = "FAM"
PED = ("#family_id\tindividual_id\tpaternal_id\tmaternal_id\tsex\tphenotype\n"
       "FAM\tdad\t0\t0\t1\t1\nFAM\tmum\t0\t0\t2\t1\nFAM\tkid\tdad\tmum\t1\t2\n")
MEMBERS = ("dad", "mum", "kid")
CATEGORIES = ("consequence", "allele_frequency", "inheritance_models", "variant_quality")
COLUMNS = ["rank", "family", "chrom", "pos", "end", "ref", "alt", "type", "gene",
           "consequence", "impact", "protein_change", "population_af", "models",
           "compound_partners", "score", *(f"score_{c}" for c in CATEGORIES),
           "score_normalized", "gates", "filter", "phenotype_score", "matched_hpo", "diseases",
           "combined_score", "sv_callers", "sv_origin",
           *(f"{m}_{f}" for m in MEMBERS for f in ("GT", "DP", "AB", "GQ"))]
GT = {"dn": ("0/0", "0/0", "0/1"), "pat": ("0/1", "0/0", "0/1"), "mat": ("0/0", "0/1", "0/1"),
      "hom": ("0/1", "0/1", "1/1"), "xr": ("0", "0/1", "1")}


def candidate(chrom: str, pos: int, ref: str, alt: str, gene: str, consequence: str,
              models: str, score: float, gts: str, **extra: str) -> dict[str, str]:
    """One candidate-list row (text cells) as helgenom rank writes it."""
    sv = alt.startswith("<")
    row = {"family": FAMILY, "chrom": chrom, "pos": str(pos),
           "end": extra.pop("end", str(pos)), "ref": ref, "alt": alt,
           "type": "SV" if sv else "SNV", "gene": gene, "consequence": consequence,
           "impact": "HIGH" if consequence in ("stop_gained", "transcript_ablation")
           else "MODERATE", "protein_change": "" if sv else "12A>12T",
           "population_af": "0.0" if sv else ".", "models": models, "compound_partners": "",
           "score": f"{score:.1f}", "score_consequence": "10", "score_allele_frequency": "6",
           "score_inheritance_models": "6", "score_variant_quality": "-6" if score < 15 else "2",
           "score_normalized": "0.9", "gates": "PASS", "filter": "PASS" if sv else ".",
           "phenotype_score": "0.5", "matched_hpo": "HP:0001263 Global developmental delay",
           "diseases": "Some syndrome (OMIM:100100);Other disease (ORPHA:99)",
           "combined_score": f"{score / 30:.4f}", "sv_callers": "delly,tiddit,cnv" if sv else "",
           "sv_origin": "kid:maternal" if sv else ""}
    for member, genotype in zip(MEMBERS, GT[gts], strict=True):
        row |= {f"{member}_GT": genotype, f"{member}_DP": "." if sv else "25",
                f"{member}_AB": "." if sv else ("0.48" if "1" in genotype else "0.0"),
                f"{member}_GQ": "." if sv else "99"}
    return row | extra


def candidate_rows() -> list[dict[str, str]]:
    rows = [
        candidate("chr2", 85290, "T", "A", "SCN2A", "missense", "AD_dn", 20, "dn"),
        candidate("chr1", 89315, "G", "C", "MUTYH", "missense", "AR_comp", 20, "pat",
                  compound_partners="chr1_85720_A_DEL>18"),
        candidate("chr2", 171290, "G", "T", "ALMS1", "stop_gained", "AR_hom", 24, "hom"),
        candidate("chr1", 85720, "A", "<DEL>", "MUTYH", "transcript_ablation", "AR_comp", 18,
                  "mat", end="95190", compound_partners="chr1_89315_G_C>20"),
        candidate("chrX", 163238, "A", "C", "OTC", "missense", "XR|XD", 12, "xr"),
        candidate("chr1", 1000, "C", "G", SCRIPT_GENE, "missense", "AD_dn", 14, "dn",
                  matched_hpo=IMG_LABEL, diseases="<b>bold</b> disease (OMIM:1)"),
        candidate("chr1", 407203, "A", "T", "USH2A", "stop_gained", "AR_comp", 24, "pat",
                  compound_partners="chr1_408538_C_A>20,chr1_500000_G_A>3"),
    ]
    for rank, row in enumerate(rows, start=1):
        row["rank"] = str(rank)
    return rows


def write_candidates(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None,
                     qc_line: str = "## QC: WARN - kid: mean depth 15.2 (< 20); see x") -> Path:
    columns = columns or COLUMNS
    lines = [qc_line, "\t".join(columns), *("\t".join(r.get(c, "") for c in columns)
                                            for r in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def qc_document(verdict: str = "WARN", family: str = FAMILY) -> dict:
    def row(level: str, unit: str, metric: str, value: object, grade: str, reason: str = ""
            ) -> dict:
        return {"family": family, "level": level, "unit": unit, "metric": metric,
                "value": value, "threshold": "PASS >= 20, WARN >= 12", "verdict": grade,
                "detail": "", "reason": reason, "data": {}}

    kid = "kid: mean depth 15.2 (< 20) <i>low</i>" if verdict != "PASS" else ""
    rows = [row("sample", m, "mean_depth", 15.2 if m == "kid" else 31.0,
                verdict if m == "kid" else "PASS", kid if m == "kid" else "") for m in MEMBERS]
    rows += [row("sample", m, "verdict", None, verdict if m == "kid" else "PASS")
             for m in MEMBERS]
    rows.append(row("family", family, "verdict", None, verdict))
    return {"family": family, "verdict": verdict, "reasons": [kid] if kid else [],
            "rows": rows, "header_lines": [f"## QC: {verdict}"]}


CNV_VCF = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=450000>
##contig=<ID=chr2,length=300000>
##contig=<ID=chrX,length=250000>
##contig=<ID=chrUn_decoy,length=1000>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tdad\tmum\tkid
chr1\t86000\tc1\tC\t<DEL>\t255.1\tPASS\tEND=95000;SVTYPE=DEL;CN=1;CALLERS=mum,kid\tGT:CN\t0/0:2\t0/1:1\t0/1:1
chr2\t208000\tc2\tC\t<DUP>\t336\tPASS\tEND=220000;SVTYPE=DUP;CN=3;CALLERS=<u>kid</u>\tGT:CN\t0/1:3\t0/0:2\t0/1:3
"""
SV_VCF = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=450000>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tdad\tmum\tkid
chr1\t85720\tsv1\tA\t<DEL>\t2520\tPASS\tSVTYPE=DEL;END=95190;CALLERS=delly,tiddit;ORIGIN=kid:maternal;SVAF=0;GeneticModels=FAM:AR_comp;RankScore=FAM:18\tGT\t0/0\t0/1\t0/1
chr1\t285796\tsv2\tT\t<DEL>\t2280\tPASS\tSVTYPE=DEL;END=288797;CALLERS=delly;ORIGIN=kid:paternal;SVAF=0.0021;RankScore=FAM:-5\tGT\t0/1\t0/0\t0/1
"""
UPD = ("family\tchild\tfather\tmother\tchrom\tinformative\tmaternal\tpaternal\tcall\n"
       "FAM\tkid\tdad\tmum\tchr1\t87\t80\t0\tUPD-mat iso\n"
       "FAM\tkid\tdad\tmum\tchr2\t48\t0\t0\tnone\n")
ROH = ("sample\tchrom\tstart\tend\tlength\tmarkers\tquality\n"
       "kid\tchr1\t1000\t400000\t399001\t812\t88.0\nmum\tchr2\t5000\t25000\t20001\t40\t31.5\n")


def write_inputs(folder: Path, rows: list[dict[str, str]] | None = None,
                 columns: list[str] | None = None) -> dict[str, Path]:
    """Every input of a family's report, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"candidates": write_candidates(folder / "FAM.candidates.tsv",
                                            candidate_rows() if rows is None else rows, columns),
             "qc": folder / "FAM.qc.json", "ped": folder / "FAM.ped",
             "upd": folder / "FAM.upd.tsv", "roh": folder / "FAM.roh.tsv",
             "cnv": folder / "FAM.cnv.vcf.gz", "sv": folder / "FAM.sv.vcf.gz"}
    paths["qc"].write_text(json.dumps(qc_document(), indent=1))
    paths["ped"].write_text(PED)
    paths["upd"].write_text(UPD)
    paths["roh"].write_text(ROH)
    paths["cnv"].write_bytes(gzip.compress(CNV_VCF.encode(), mtime=0))
    paths["sv"].write_bytes(gzip.compress(SV_VCF.encode(), mtime=0))
    return paths


def helgenom(*argv: object) -> int:
    """The two commands' handlers, through their own argument parsers."""
    parser = argparse.ArgumentParser(prog="helgenom")
    sub = parser.add_subparsers(dest="command", required=True)
    report_cli.register(sub)
    report_index_cli.register(sub)
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def report_args(paths: dict[str, Path], out: Path, *extra: object) -> list[object]:
    return ["report", "--family", FAMILY, *(x for key, path in paths.items()
                                           for x in (f"--{key}", path)), "--out", out, *extra]


# ------------------------------------------------------------------------- reading HTML
class Node:
    def __init__(self, name: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.name, self.attrs, self.parent = name, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find(self, name: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        return [n for n in self.walk()
                if (name is None or n.name == name)
                and (cls is None or cls in (n.attrs.get("class") or "").split())
                and all(n.attrs.get(k.rstrip("_").replace("_", "-")) == v
                        for k, v in attrs.items())]

    def one(self, name: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.find(name, cls, **attrs)
        assert len(found) == 1, (name, cls, attrs, len(found))
        return found[0]


class TreeBuilder(HTMLParser):
    VOID = frozenset({"meta", "input", "br", "img", "link"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, name: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(name, dict(attrs), self.current)
        self.current.children.append(node)
        if name not in self.VOID:
            self.current = node

    def handle_endtag(self, name: str) -> None:
        node = self.current
        while node.parent is not None and node.name != name:
            node = node.parent
        assert node.name == name, f"</{name}> closes nothing"
        self.current = node.parent or self.root

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(path: Path) -> Node:
    builder = TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    builder.close()
    assert builder.current is builder.root, "unclosed elements"
    return builder.root


@pytest.fixture
def written(tmp_path: Path) -> tuple[dict[str, Path], Path, Node]:
    paths = write_inputs(tmp_path / "in")
    out = tmp_path / "results" / "FAM" / "FAM.report.html"
    assert helgenom(*report_args(paths, out)) == 0
    return paths, out, parse(out)


def main_rows(doc: Node) -> list[Node]:
    return doc.one("table", id="candidates").find("tr", cls="cand")


def candidate_header(doc: Node) -> list[str]:
    return [th.text() for th in doc.one("table", id="candidates").find("thead")[0].find("th")]


# -------------------------------------------------------------------------------- tests
def test_the_qc_verdict_and_its_reasons_come_first(written) -> None:
    _, _, doc = written
    sections = [n.attrs.get("id") for n in doc.find("section")]
    assert sections[0] == "qc" and sections.index("qc") < sections.index("candidates-section")
    verdict = doc.one(id="verdict")
    assert "verdict-WARN" in verdict.attrs["class"].split()
    assert verdict.one("span", cls="badge").text() == "WARN"
    assert "kid: mean depth 15.2 (< 20) <i>low</i>" in verdict.text()  # escaped, as text
    assert not doc.find("i")
    members = doc.one("table", id="members").find("tr")[1:]
    roles = {tr.find("td")[0].text(): tr.find("td")[1].text() for tr in members}
    assert roles == {"kid": "proband", "dad": "father", "mum": "mother"}
    assert [tr.find("td")[0].text() for tr in members] == ["kid", "dad", "mum"]


def test_every_candidate_is_a_row_with_its_evidence(written) -> None:
    doc = written[2]
    rows = main_rows(doc)
    assert [r.find("td")[1].text() for r in rows] == [c["gene"] for c in candidate_rows()]
    for number, row in enumerate(rows, start=1):
        assert row.attrs["id"] == f"c{number}"
        evidence = doc.one("tr", id=row.attrs["data-evidence"])
        assert "hidden" in evidence.attrs and "evidence" in evidence.attrs["class"]
    evidence = doc.one("tr", id="ev-c1")
    genotypes = evidence.one("table", cls="genotypes").find("tr")[1:]
    cells = [[td.text() for td in tr.find("td")] for tr in genotypes]
    assert cells == [["kid", "proband", "0/1", "25", "0.48", "99"],
                     ["dad", "father", "0/0", "25", "0.0", "99"],
                     ["mum", "mother", "0/0", "25", "0.0", "99"]]
    scores = evidence.one("table", cls="score-categories").find("tr")[1:]
    assert [[td.text() for td in tr.find("td")] for tr in scores] == [
        ["consequence", "10"], ["allele frequency", "6"], ["inheritance models", "6"],
        ["variant quality", "2"], ["total", "20.0"]]
    text = evidence.text()
    for shown in ("HP:0001263 Global developmental delay", "Some syndrome (OMIM:100100)",
                  "absent (not in the source)", "AD_dn", "Read-level evidence"):
        assert shown in text, shown
    sv = doc.one("tr", id="ev-c4").text()
    assert "delly" in sv and "kid (proband): maternal" in sv


def test_compound_partners_link_to_their_rows(written) -> None:
    _, _, doc = written
    (link,) = doc.one("tr", id="ev-c2").find("a", cls="partner")
    assert link.attrs["href"] == "#c4" and link.attrs["data-target"] == "c4"
    assert "MUTYH" in link.text() and "(score 18)" in link.text()
    usher = doc.one("tr", id="ev-c7")
    assert not usher.find("a", cls="partner")  # neither partner is on the list
    assert "chr1_408538_C_A (score 20) (not on this page)" in usher.text()


def test_filters_list_the_models_and_types_of_the_list(written) -> None:
    _, _, doc = written
    models = [o.attrs["value"] for o in doc.one("select", id="filter-model").find("option")]
    types = [o.attrs["value"] for o in doc.one("select", id="filter-type").find("option")]
    assert models == ["", "AD_dn", "AR_comp", "AR_hom", "XD", "XR"]
    assert types == ["", "SNV", "SV"]
    assert doc.one(id="filter-text").attrs["type"] == "search"
    assert doc.one(id="shown-count").text() == "7 of 7"


def test_values_from_inputs_are_escaped(written) -> None:
    _, out, doc = written
    scripts = doc.find("script")
    assert len(scripts) == 1 and scripts[0].text() == report_html._asset("report.js")
    assert not doc.find("img") and not doc.find("b") and not doc.find("u")
    assert not [a for n in doc.walk() for a in n.attrs if a.startswith("on")]
    row = main_rows(doc)[5]
    assert row.find("td")[1].text() == SCRIPT_GENE
    assert IMG_LABEL in doc.one("tr", id="ev-c6").text()
    assert "<b>bold</b> disease (OMIM:1)" in doc.one("tr", id="ev-c6").text()
    raw = out.read_text()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in raw
    assert raw.count("<script") == 1
    assert "kid: mean depth 15.2 (&lt; 20) &lt;i&gt;low&lt;/i&gt;" in raw  # QC reason
    assert "&lt;u&gt;kid&lt;/u&gt;" in raw  # CNV VCF INFO


def test_the_page_needs_nothing_else(written) -> None:
    _, out, doc = written
    for node in doc.walk():
        assert "src" not in node.attrs, node.name
        href = node.attrs.get("href")
        assert href is None or href.startswith("#"), href
    assert not doc.find("link") and not doc.find("iframe") and not doc.find("object")
    raw = out.read_text()
    assert re.findall(r"https?://[^\"' ]*", raw) == ["http://www.w3.org/2000/svg"]  # xmlns
    assert "url(" not in raw and "@import" not in raw
    policy = doc.one("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in policy
    for block, name in (("script", "report.js"), ("style", "report.css")):
        text = doc.one(block).text()
        assert text == report_html._asset(name)
        assert f"{block}-src {report_html._csp_hash(text)}" in policy


def test_chromosomes_roh_upd_cnv_and_sv(written) -> None:
    _, _, doc = written
    svg = doc.one("svg", cls="genome")
    chroms = [t.text() for t in svg.find("text") if t.attrs.get("font-weight") == "700"]
    assert chroms == ["chr1", "chr2", "chrX"]  # primary contigs of the headers, no decoy
    kinds = sorted(n.attrs["class"] for n in svg.find("rect") if n.attrs["class"] != "lane")
    assert kinds == ["del", "del", "dup", "dup", "roh", "roh", "upd"]
    assert [t.text() for t in svg.find("text", cls="upd-label")] == ["UPD-mat iso"]
    upd = doc.one("table", id="upd").find("tr")[1:]
    assert [tr.attrs.get("class") for tr in upd] == ["flag", None]
    assert "1 UPD call in 2 chromosome(s)" in doc.one(id="chromosomes").text()
    summary = [[td.text() for td in tr.find("td")] for tr in
               doc.one("table", id="roh-summary").find("tr")[1:]]
    assert summary[0] == ["kid (proband)", "1", "399.0 kb", "399.0 kb"]
    cnv = [[td.text() for td in tr.find("td")] for tr in
           doc.one("table", id="cnv-table").find("tr")[1:]]
    assert cnv[0][:6] == ["chr1:86,000-95,000", "DEL", "9.0 kb", "1 (0/1)", "2 (0/0)",
                          "1 (0/1)"]
    sv = doc.one("table", id="sv-table").find("tr")[1:]
    assert sv[0].one("a", cls="jump").attrs["href"] == "#c4"
    assert not sv[1].find("a")
    assert "IGV" in doc.one(id="reads").one("p", cls="reads-placeholder").text()


def test_hgvs_and_unknown_columns_are_shown_when_present(tmp_path: Path) -> None:
    rows = candidate_rows()
    for row in rows:
        row |= {"transcript": "ENST0001.1", "hgvs_c": "ENST0001.1:c.35G>A",
                "hgvs_p": "ENSP0001.1:p.(Arg12%3D)", "lab_note": "seen <twice>"}
    rows[3] |= {"transcript": "", "hgvs_c": "", "hgvs_p": ""}  # the deletion
    columns = [*COLUMNS[:9], "transcript", "hgvs_c", "hgvs_p", *COLUMNS[9:], "lab_note"]
    paths = write_inputs(tmp_path / "in", rows, columns)
    out = tmp_path / "r.html"
    assert helgenom(*report_args(paths, out)) == 0
    doc = parse(out)
    header = candidate_header(doc)
    assert "HGVS" in header and "protein" not in header
    cells = [row.find("td")[header.index("HGVS")] for row in main_rows(doc)]
    assert cells[0].text() == "c.35G>A p.(Arg12=)"
    assert cells[0].attrs["title"] == "ENST0001.1 ENST0001.1:c.35G>A ENSP0001.1:p.(Arg12%3D)"
    assert cells[3].text() == ""
    evidence = doc.one("tr", id="ev-c1").text()
    assert "HGVS c" in evidence and "ENSP0001.1:p.(Arg12=)" in evidence
    assert "lab_note" in evidence and "seen <twice>" in evidence


def test_empty_hgvs_columns_leave_the_protein_change(tmp_path: Path) -> None:
    """Ranked without gene models, the list has the HGVS columns but no values."""
    columns = [*COLUMNS[:9], "transcript", "hgvs_c", "hgvs_p", *COLUMNS[9:]]
    paths = write_inputs(tmp_path / "in", columns=columns)
    out = tmp_path / "r.html"
    assert helgenom(*report_args(paths, out)) == 0
    header = candidate_header(parse(out))
    assert "protein" in header and "HGVS" not in header


# ------------------------------------------------------------------ clinical annotation
CLINICAL = ["clinvar", "clinvar_stars", "clinvar_id", "gnomad_grpmax_af", "gnomad_hom",
            "swegen_af", "local_obs", "local_hom", "local_frq", "cadd", "revel", "spliceai"]
NEW_CATEGORIES = ("consequence", "clinical_significance", "deleteriousness",
                  "protein_prediction", "splicing", "allele_frequency", "inheritance_models",
                  "variant_quality")
CV_PAYLOAD = '<img src=x onerror="alert(3)">Pathogenic'
ANNOTATION = {  # rank -> the clinical columns of candidate_rows() (the others empty)
    1: ("Pathogenic", "2", "12345", "1.234e-05", "0", "0.00021", "3", "1", repr(3 / 1234),
        "28.349", "0.8123", "0.02"),
    2: ("Likely_pathogenic", "1", "67890", "0.0123", "12", "0.011", "2", "", "", "23.1",
        "0.5", "0.0"),
    3: ("Conflicting_interpretations_of_pathogenicity", "1", "555", "", "", "", "1", "0",
        "0.00125", "35", "", "0.91"),
    5: ("Benign/Likely_benign", "2", "4242", "0.25", "1500", "0.3", "", "", "", "", "", ""),
    6: (CV_PAYLOAD, "0", "1\"><b>x</b>", "", "", "", "", "", "", "", "", ""),
}


def clinical_list(tmp_path: Path, annotation: dict | None = None) -> Path:
    """The report of candidate_rows() with the clinical columns (after population_af) and the
    new default model's score categories."""
    rows = candidate_rows()
    for row in rows:
        values = (ANNOTATION if annotation is None else annotation).get(int(row["rank"]), ())
        row |= dict(zip(CLINICAL, values, strict=False))
        row |= {f"score_{c}": str(i - 3) for i, c in enumerate(NEW_CATEGORIES)}
    at = COLUMNS.index("population_af") + 1
    columns = [*COLUMNS[:at], *CLINICAL, *COLUMNS[at:]]
    columns = [c for c in columns if not c.startswith("score_") or c == "score_normalized"]
    place = columns.index("score") + 1
    columns[place:place] = [f"score_{c}" for c in NEW_CATEGORIES]
    paths = write_inputs(tmp_path / "in", rows, columns)
    out = tmp_path / "clinical.html"
    assert helgenom(*report_args(paths, out)) == 0
    return out


def dl(node: Node) -> dict[str, Node]:
    """label -> value of the `<dl class="fields">` of a node."""
    (found,) = node.find("dl", cls="fields")
    terms = [n for n in found.children if isinstance(n, Node)]
    return {dt.text(): dd for dt, dd in zip(terms[::2], terms[1::2], strict=True)}


def evidence_section(doc: Node, anchor: str, title: str) -> Node:
    (found,) = [s for s in doc.one("tr", id=f"ev-{anchor}").find("section")
                if s.find("h4") and s.find("h4")[0].text() == title]
    return found


def test_the_clinvar_column_abbreviates_and_flags(tmp_path: Path) -> None:
    doc = parse(clinical_list(tmp_path))
    header = candidate_header(doc)
    assert header[header.index("protein") + 1] == "ClinVar"
    assert header[header.index("ClinVar") + 1] == "models"
    rows = main_rows(doc)
    cells = [row.find("td")[header.index("ClinVar")] for row in rows]
    assert [c.text() for c in cells] == [
        "P\u2605\u2605\u2606\u2606", "LP\u2605\u2606\u2606\u2606",
        "Conflicting\u2605\u2606\u2606\u2606", "", "B/LB\u2605\u2605\u2606\u2606",
        CV_PAYLOAD.replace("_", " ").lower() + "\u2606\u2606\u2606\u2606", ""]
    assert cells[0].attrs["title"] == ("ClinVar: Pathogenic; 2 of 4 review stars (criteria "
                                       "provided, multiple submitters, no conflicts)")
    assert cells[2].attrs["title"].startswith(
        "ClinVar: Conflicting interpretations of pathogenicity; 1 of 4")
    # sorted most severe, then best reviewed, first (the page puts cells without a key last)
    assert [c.attrs.get("data-sort") for c in cells] == ["0602", "0501", "0351", None,
                                                         "0152", "0050", None]
    badges = {r.attrs["id"]: r.one("span", cls="cv").attrs["class"] for r in rows
              if r.find("span", cls="cv")}
    assert badges == {"c1": "cv cv-plp", "c2": "cv cv-plp", "c3": "cv cv-conflicting",
                      "c5": "cv", "c6": "cv"}
    flagged = [r.attrs["id"] for r in rows if "clinvar-plp" in r.attrs["class"].split()]
    assert flagged == ["c1", "c2"]
    assert all("cand" in r.attrs["class"].split() for r in rows)
    assert "ClinVar Pathogenic" in rows[0].attrs["data-search"]


def test_the_evidence_shows_the_clinical_annotation(tmp_path: Path) -> None:
    doc = parse(clinical_list(tmp_path))
    clinvar = dl(evidence_section(doc, "c1", "ClinVar"))
    assert clinvar["significance"].text() == "P Pathogenic"
    assert clinvar["significance"].one("span", cls="cv-plp").text() == "P"
    assert clinvar["review status"].text() == (
        "\u2605\u2605\u2606\u2606 2 of 4 review stars (criteria provided, multiple submitters, "
        "no conflicts)")
    link = clinvar["ClinVar record"].one("a")
    assert link.attrs["href"] == "https://www.ncbi.nlm.nih.gov/clinvar/variation/12345/"
    assert link.text() == "variation 12345"
    assert link.attrs["rel"] == "noopener noreferrer" and link.attrs["target"] == "_blank"
    frequency = {k: v.text() for k, v in dl(evidence_section(doc, "c1",
                                                             "Population frequency")).items()}
    assert frequency == {
        "population AF": "absent (not in the source)",
        "gnomAD grpmax AF": "1.23\u00d710\u207b\u2075", "gnomAD homozygotes": "0",
        "SweGen AF": "2.1\u00d710\u207b\u2074",
        "local observations": "seen in 3 of 1,234 earlier cases at this GMC (1 homozygous)"}
    predictions = {k: v.text() for k, v in dl(evidence_section(
        doc, "c1", "Pathogenicity predictions")).items()}
    assert predictions == {"CADD": "28.3", "REVEL": "0.812", "SpliceAI": "0.02"}
    # no frequency to count the cases by: N earlier cases, no homozygote count
    local = dl(evidence_section(doc, "c2", "Population frequency"))
    assert local["local observations"].text() == "seen in 2 earlier cases at this GMC"
    assert local["gnomAD grpmax AF"].text() == "0.0123"
    assert local["gnomAD homozygotes"].text() == "12"
    assert dl(evidence_section(doc, "c5", "Population frequency"))[
        "gnomAD homozygotes"].text() == "1,500"
    three = dl(evidence_section(doc, "c3", "Population frequency"))
    assert three["local observations"].text() == (
        "seen in 1 earlier case at this GMC (0 homozygous)")  # 1/797 .. 1/803: 0.00125
    assert three["local frequency"].text() == "0.00125"
    assert three["gnomAD grpmax AF"].text() == "absent (not in gnomAD)"
    assert list(dl(evidence_section(doc, "c3", "Pathogenicity predictions"))) == [
        "CADD", "SpliceAI"]
    assert dl(evidence_section(doc, "c2", "ClinVar"))["significance"].text() == (
        "LP Likely pathogenic")
    # not in the sources that annotated other candidates
    usher = doc.one("tr", id="ev-c7")
    assert evidence_section(doc, "c7", "ClinVar").one("p").text() == "not in ClinVar"
    assert {k: v.text() for k, v in dl(evidence_section(doc, "c7", "Population frequency"))
            .items()} == {"population AF": "absent (not in the source)",
                          "gnomAD grpmax AF": "absent (not in gnomAD)",
                          "SweGen AF": "absent (not in SweGen)",
                          "local observations": "not seen in earlier cases at this GMC"}
    assert "no score for this variant" in evidence_section(
        doc, "c7", "Pathogenicity predictions").text()
    assert not usher.find("a", cls="external")
    # the deletion: nothing said absent of the small-variant sources
    sv = dl(evidence_section(doc, "c4", "Population frequency"))
    assert list(sv) == ["population AF"]
    # the clinical columns are placed, not repeated among the other columns
    for anchor in ("c1", "c7"):
        assert "Other columns" not in doc.one("tr", id=f"ev-{anchor}").text()


def test_the_new_score_categories_are_named(tmp_path: Path) -> None:
    doc = parse(clinical_list(tmp_path))
    scores = doc.one("tr", id="ev-c1").one("table", cls="score-categories").find("tr")[1:]
    assert [[td.text() for td in tr.find("td")] for tr in scores] == [
        *([c.replace("_", " "), str(i - 3)] for i, c in enumerate(NEW_CATEGORIES)),
        ["total", "20.0"]]
    assert [tr.find("td")[1].attrs.get("class") for tr in scores][:4] == [
        "neg num", "neg num", "neg num", "num"]


def test_clinical_values_are_escaped_and_link_only_to_clinvar(tmp_path: Path) -> None:
    out = clinical_list(tmp_path)
    doc, raw = parse(out), out.read_text()
    assert not doc.find("img") and not doc.find("b")
    assert CV_PAYLOAD in doc.one("tr", id="ev-c6").text()
    assert "&lt;img src=x onerror=&quot;alert(3)&quot;&gt;Pathogenic" in raw
    six = dl(evidence_section(doc, "c6", "ClinVar"))
    assert six["ClinVar record"].text() == '1"><b>x</b>' and not six["ClinVar record"].find("a")
    assert "cv-plp" not in raw.split('id="c6"', 1)[1].split("</tr>", 1)[0]
    external = []
    for node in doc.walk():
        assert "src" not in node.attrs, node.name
        href = node.attrs.get("href")
        if href is not None and not href.startswith("#"):
            assert node.name == "a" and "external" in node.attrs["class"].split()
            assert node.attrs["rel"] == "noopener noreferrer"
            external.append(href)
    assert external == [f"https://www.ncbi.nlm.nih.gov/clinvar/variation/{n}/"
                        for n in (12345, 67890, 555, 4242)]
    assert sorted(set(re.findall(r"https?://[^\"' ]*", raw))) == sorted(
        {"http://www.w3.org/2000/svg", *external})
    policy = doc.one("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert policy == (f"default-src 'none'; script-src "
                      f"{report_html._csp_hash(report_html._asset('report.js'))}; style-src "
                      f"{report_html._csp_hash(report_html._asset('report.css'))}; "
                      "img-src 'none'; base-uri 'none'; form-action 'none'")
    again = clinical_list(tmp_path / "again")
    assert again.read_bytes() == out.read_bytes()


def test_clinical_columns_without_values(tmp_path: Path) -> None:
    """The columns written, no source configured: no ClinVar column, nothing called absent."""
    doc = parse(clinical_list(tmp_path, annotation={}))
    assert "ClinVar" not in candidate_header(doc)
    assert evidence_section(doc, "c1", "ClinVar").one("p").text() == (
        "no ClinVar annotation in the candidate list")
    assert list(dl(evidence_section(doc, "c1", "Population frequency"))) == ["population AF"]
    assert evidence_section(doc, "c1", "Pathogenicity predictions").one("p").text() == (
        "no score for this variant")
    assert not [r for r in main_rows(doc) if "clinvar-plp" in r.attrs["class"]]


def test_an_old_list_has_no_clinical_sections(written) -> None:
    doc = written[2]
    titles = [h.text() for h in doc.one("tr", id="ev-c1").find("h4")]
    assert "ClinVar" not in titles and "Pathogenicity predictions" not in titles
    assert list(dl(evidence_section(doc, "c1", "Population frequency"))) == ["population AF"]
    assert not doc.find("span", cls="cv") and "ClinVar" not in candidate_header(doc)


@pytest.mark.parametrize(("significance", "short", "pathogenic"), [
    ("Pathogenic", "P", True), ("Likely_pathogenic", "LP", True),
    ("Pathogenic/Likely_pathogenic", "P/LP", True), ("Uncertain_significance", "VUS", False),
    ("Likely_benign", "LB", False), ("Benign", "B", False), ("Benign/Likely_benign", "B/LB", False),
    ("Conflicting_interpretations_of_pathogenicity", "Conflicting", False),
    ("Conflicting_classifications_of_pathogenicity|other", "Conflicting", False),
    ("Pathogenic,_low_penetrance", "P", True),
    ("Pathogenic/Likely_pathogenic/Pathogenic,_low_penetrance", "P/LP", True),
    ("Uncertain_significance|drug_response", "VUS", False),
    ("drug_response", "drug response", False), ("risk_factor", "risk factor", False),
    ("Likely_pathogenic&other", "LP", True),
])
def test_clinvar_significance_abbreviations(significance: str, short: str,
                                            pathogenic: bool) -> None:
    record = report_html.ClinVar(significance, 3, "1")
    assert (record.short, record.pathogenic) == (short, pathogenic)


@pytest.mark.parametrize(("text", "shown"), [
    ("0", "0"), ("0.0", "0"), ("1", "1"), ("0.25", "0.25"), ("0.0123456", "0.0123"),
    ("0.001", "0.001"), ("0.000999", "9.99\u00d710\u207b\u2074"),
    ("1e-05", "1\u00d710\u207b\u2075"), ("3.2851e-06", "3.29\u00d710\u207b\u2076"),
    ("n/a", "n/a")])
def test_allele_frequencies_for_people(text: str, shown: str) -> None:
    assert report_html.af_text(text) == shown


@pytest.mark.parametrize(("obs", "frq", "cases"), [
    (3, "0.0025000", 1200), (1, "0.00083333", 1200), (3, "0.0024311183144246355", 1234),
    (3, "0.0025", None), (1, "0.000833", None),  # 1,177-1,224 and 1,200-1,201 cases
    (3, "2.431e-03", 1234), (2, "", None), (2, "0.5", 4), (2, "0.0", None), (5, "1", None),
    (3, "0.003", None),  # 3/1000 .. 3/1001 all give 0.003
    (4, "0.9", None),  # 4/4.44: no whole number of cases
])
def test_earlier_cases_from_the_local_frequency(obs: int, frq: str, cases: int | None) -> None:
    assert report_html.earlier_cases(obs, frq) == cases


def test_missing_optional_columns_and_inputs(tmp_path: Path) -> None:
    """A list without phenotype, SV or per-category columns, without the optional inputs."""
    keep = ["rank", "chrom", "pos", "ref", "alt", "gene", "models", "score", "kid_GT"]
    paths = write_inputs(tmp_path / "in", columns=keep)
    for key in ("upd", "roh", "cnv", "sv"):
        del paths[key]
    out = tmp_path / "r.html"
    assert helgenom(*report_args(paths, out)) == 0
    doc = parse(out)
    header = candidate_header(doc)
    assert header == ["#", "gene", "variant", "type", "consequence", "models", "pop. AF",
                      "score", "genotypes"]
    assert len(main_rows(doc)) == 7
    assert "No CNV VCF given." in doc.one(id="cnv").text()
    assert "Nothing to draw" in doc.one(id="chromosomes").text()


def test_an_empty_list_and_a_capped_list(tmp_path: Path) -> None:
    paths = write_inputs(tmp_path / "in", rows=[])
    out = tmp_path / "empty.html"
    assert helgenom(*report_args(paths, out)) == 0
    assert "No candidates." in parse(out).one(id="candidates-section").text()
    paths = write_inputs(tmp_path / "in2")
    out = tmp_path / "top2.html"
    assert helgenom(*report_args(paths, out, "--max-rows", 2)) == 0
    doc = parse(out)
    assert len(main_rows(doc)) == 2
    assert "Top 2 of 7 candidates; the full list is in FAM.candidates.tsv." in doc.text()
    # its partner, #4, is beyond the cap
    assert "chr1_85720_A_DEL (score 18) (not on this page)" in doc.one("tr", id="ev-c2").text()


def test_the_same_inputs_give_the_same_bytes(tmp_path: Path, written) -> None:
    paths, out, _ = written
    again = tmp_path / "again.html"
    assert helgenom(*report_args(paths, again)) == 0
    assert again.read_bytes() == out.read_bytes()
    moved = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(paths["qc"].parent, moved)
    third = tmp_path / "third.html"
    assert helgenom(*report_args({k: moved / p.name for k, p in paths.items()}, third)) == 0
    assert third.read_bytes() == out.read_bytes()
    assert not re.search(r"20\d\d-\d\d-\d\d", out.read_text())


def _break(paths: dict[str, Path], key: str, text: str | bytes) -> None:
    if isinstance(text, bytes):
        paths[key].write_bytes(text)
    else:
        paths[key].write_text(text)


BAD = {
    "no candidate list": ("candidates", None, "No such file"),
    "candidate list is binary": ("candidates", b"\x00\x01\xff\xfe", "not a text file"),
    "candidate list without gene": ("candidates", "rank\tchrom\n1\tchr1\n", "'gene'"),
    "candidates of another family": ("candidates", None, "another family"),
    "QC is not JSON": ("qc", "{verdict: PASS", "not JSON"),
    "QC of another family": ("qc", json.dumps(qc_document(family="OTHER")), "family OTHER"),
    "PED without the family": ("ped", "X\ta\t0\t0\t1\t2\n", "no family FAM"),
    "truncated CNV VCF": ("cnv", gzip.compress(CNV_VCF.encode(), mtime=0)[:60], "truncated"),
    "SV VCF without #CHROM": ("sv", "##fileformat=VCFv4.2\n", "no #CHROM"),
    "small variants as SVs": ("sv", SV_VCF.replace("<DEL>\t2520\tPASS\tSVTYPE=DEL;",
                                                   "G\t50\tPASS\t"),
                              ":4: column 'ALT': value 'G': a record without INFO/SVTYPE"),
    "ROH start not a number": ("roh", ROH.replace("\t1000\t", "\tten\t"), "not a whole number"),
    "UPD without call": ("upd", "child\tchrom\nkid\tchr1\n", "'call'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_naming_the_file(case: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    key, text, said = BAD[case]
    paths = write_inputs(tmp_path / "in")
    if case == "no candidate list":
        paths[key].unlink()
    elif case == "candidates of another family":
        rows = candidate_rows()
        rows[3]["family"] = "OTHER"
        write_candidates(paths[key], rows)
    else:
        _break(paths, key, text)
    out = tmp_path / "out" / "FAM.report.html"
    assert helgenom(*report_args(paths, out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"helgenom report: {paths[key]}") and said in err, err
    assert not out.exists() and not list(out.parent.glob("*"))


def test_an_affected_parent_is_marked(tmp_path: Path) -> None:
    paths = write_inputs(tmp_path / "in")
    paths["ped"].write_text(PED.replace("FAM\tmum\t0\t0\t2\t1", "FAM\tmum\t0\t0\t2\t2"))
    out = tmp_path / "r.html"
    assert helgenom(*report_args(paths, out)) == 0
    genotypes = parse(out).one("tr", id="ev-c1").one("table", cls="genotypes").find("tr")[1:]
    assert [tr.find("td")[1].text() for tr in genotypes] == ["proband", "father",
                                                             "mother, affected"]


def test_genotypes_of_strangers_are_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_inputs(tmp_path / "in", columns=[*COLUMNS, "uncle_GT"])
    assert helgenom(*report_args(paths, tmp_path / "r.html")) == 2
    assert "genotypes of uncle, who are not members" in capsys.readouterr().err


def test_the_run_index_lists_every_family(tmp_path: Path) -> None:
    reports = []
    for family, verdict in (("FAM", "WARN"), ("ANOTHER", "FAIL")):
        paths = write_inputs(tmp_path / family)
        paths["qc"].write_text(json.dumps(qc_document(verdict, family)))
        paths["ped"].write_text(PED.replace("FAM", family))
        write_candidates(paths["candidates"], [r | {"family": family}
                                               for r in candidate_rows()])
        out = tmp_path / "results" / family / f"{family}.report.html"
        assert helgenom("report", "--family", family, "--candidates", paths["candidates"],
                        "--qc", paths["qc"], "--ped", paths["ped"], "--out", out) == 0
        reports.append(out)
    index = tmp_path / "results" / "index.html"
    assert helgenom("report-index", "--reports", *reports, "--out", index) == 0
    doc = parse(index)
    rows = doc.one("table", id="families").find("tr")[1:]
    cells = [[td.text() for td in tr.find("td")] for tr in rows]
    assert [c[0] for c in cells] == ["ANOTHER", "FAM"] and [c[1] for c in cells] == [
        "FAIL", "WARN"]
    assert [c[3] for c in cells] == ["7", "7"]
    assert cells[1][4].startswith("SCN2A missense AD_dn chr2:85,290 T>A")
    links = [a.attrs["href"] for a in rows[1].find("a")]
    assert links == ["FAM/FAM.report.html", "FAM/FAM.report.html#c1"]
    assert "kid: mean depth 15.2 (< 20) <i>low</i>" in cells[1][2]
    assert "2 families: 0 PASS, 1 WARN, 1 FAIL" in doc.text()
    again = index.with_name("again.html")
    assert helgenom("report-index", "--reports", *reversed(reports), "--out", again) == 0
    assert again.read_bytes() == index.read_bytes()


def test_the_index_refuses_what_is_not_a_report(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "multiqc_report.html"
    other.write_text("<html><head><title>MultiQC</title></head></html>")
    index = tmp_path / "index.html"
    assert helgenom("report-index", "--reports", other, "--out", index) == 2
    err = capsys.readouterr().err
    assert err == f"helgenom report-index: {other}: no helgenom-family meta tag: not a report " \
                  "of helgenom report\n"
    assert not index.exists()


def test_the_commands_print_their_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("report", "report-index"):
        with pytest.raises(SystemExit) as exited:
            helgenom(command, "--help")
        assert exited.value.code == 0
        assert f"usage: helgenom {command}" in capsys.readouterr().out


def test_the_report_needs_no_spreadsheet_library() -> None:
    """The report reads its inputs with helgenom.report.inputs, not through the workbook."""
    probe = subprocess.run([sys.executable, "-c", "import sys, helgenom.cli.report, "
                            "helgenom.cli.report_index; print('openpyxl' in sys.modules)"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "False"


def test_the_assets_are_package_data() -> None:
    """The inline CSS and script ship in the wheel (pyproject's package-data)."""
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"].get("helgenom.report", [])
    assert {"assets/*.css", "assets/*.js"} <= set(globs), (
        'add "helgenom.report" = ["assets/*.css", "assets/*.js"] to '
        "[tool.setuptools.package-data]")


# ---------------------------------------------------------------- repeats and SMN (issue #16)
REPEATS_TSV = (
    "family\trepid\tgene\tchrom\tpos\tend\trepeat_unit\treference_units\tdisease\tinheritance"
    "\tnormal_max\tpathologic_min\tcall\tstranger_status\tfilter\tnote"
    + "".join(f"\t{m}_{f}" for m in ("kid", "dad", "mum") for f in ("REPCN", "status", "REPCI",
                                                                     "LC")) + "\n"
    "FAM\tDMPK\tDMPK\tchr19\t45770205\t45770264\tCTG\t20\tDM1 <b>x</b>\tAD\t34\t50\tpathogenic"
    "\tfull_mutation\tPASS\tAD: at or over the pathogenic size (50) in proband kid 5/120"
    "\t5/120\tfull_mutation\t.\t31\t5/13\tnormal\t.\t30\t12/45\tpre_mutation\t.\t29\n"
    "FAM\tHTT\tHTT\tchr4\t3074877\t3074933\tCAG\t19\tHuntington\tAD\t34\t36\tnormal\tnormal"
    "\tPASS\t.\t17/22\tnormal\t.\t31\t17/19\tnormal\t.\t30\t19/22\tnormal\t.\t29\n")
SMN_TSV = ("Sample\tisSMA\tisCarrier\tSMN1_CN\tSMN2_CN\tSMN2delta7-8_CN\tTotal_CN_raw\t"
           "Full_length_CN_raw\tg.27134T>G_CN\tSMN1_CN_raw\tfamily\trole\tcall\n"
           "kid\tFalse\tFalse\t2\t2\t0\t4.0\t4.0\t0\t2.0\tFAM\tproband\tSMN1 2 copies\n"
           "dad\tFalse\tTrue\t1\t2\t0\t3.0\t3.0\t0\t1.0\tFAM\tfather\tcarrier: one SMN1 copy\n"
           "mum\tFalse\tFalse\t2\t3\t0\t5.0\t5.0\t0\t2.0\tFAM\tmother\tSMN1 2 copies\n")


def with_repeats(tmp_path: Path) -> dict[str, Path]:
    paths = write_inputs(tmp_path / "in")
    paths["repeats"] = tmp_path / "in" / "FAM.repeats.tsv"
    paths["repeats"].write_text(REPEATS_TSV)
    paths["smn"] = tmp_path / "in" / "FAM.smn.tsv"
    paths["smn"].write_text(SMN_TSV)
    return paths


def test_repeat_expansions_and_smn_follow_the_qc(tmp_path: Path) -> None:
    paths = with_repeats(tmp_path)
    out = tmp_path / "r.html"
    assert helgenom(*report_args(paths, out)) == 0
    doc = parse(out)
    sections = [n.attrs.get("id") for n in doc.find("section")]
    assert sections[:3] == ["qc", "repeats", "candidates-section"]
    section = doc.one("section", id="repeats")
    assert "DMPK (DM1 <b>x</b>, AD)" in section.one("p", cls="alert").text()  # escaped text
    assert not section.find("b")
    rows = section.one("table", id="repeats-table").find("tr")[1:]
    first = [td.text() for td in rows[0].find("td")]
    assert first[:6] == ["DMPK", "DM1 <b>x</b>", "AD", "chr19:45,770,205", "CTG",
                         "\u2264 34 / \u2265 50"]
    assert first[6:9] == ["5/120 (full_mutation)", "5/13 (normal)", "12/45 (pre_mutation)"]
    assert first[9] == "pathogenic" and "flag" in rows[0].attrs["class"]
    smn = section.one("table", id="smn-table").find("tr")[1:]
    assert [[td.text() for td in tr.find("td")] for tr in smn][1] == [
        "dad (father)", "1", "2", "0", "carrier: one SMN1 copy"]
    assert doc.one("a", href="#repeats").text() == "Repeats / SMN"
    footer = [tr.find("td")[0].text() for tr in doc.one("table", id="inputs").find("tr")[1:]]
    assert {"repeat expansions", "SMN copy numbers"} <= set(footer)


def test_without_repeats_the_page_has_no_repeats_section(written) -> None:
    _, _, doc = written
    assert not doc.find("section", id="repeats") and not doc.find("a", href="#repeats")


@pytest.mark.parametrize(("key", "text", "said"), [
    ("repeats", REPEATS_TSV.replace("\nFAM\tHTT", "\nOTHER\tHTT"),
     "FAM.repeats.tsv:3: column 'family': value 'OTHER': a row of another family"),
    ("repeats", REPEATS_TSV.replace("mum_REPCN", "eve_REPCN"), "no repeat sizes of mum"),
    ("repeats", REPEATS_TSV.replace("\tcall\t", "\tcalled\t", 1), "no column 'call'"),
    ("smn", SMN_TSV.replace("\nmum\t", "\neve\t"), "no copy numbers of mum"),
])
def test_bad_repeat_tables_are_one_line_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, text: str, said: str
        ) -> None:
    paths = with_repeats(tmp_path)
    paths[key].write_text(text)
    out = tmp_path / "out" / "r.html"
    assert helgenom(*report_args(paths, out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err and str(paths[key]) in err, err
    assert not out.exists()

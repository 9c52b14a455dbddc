"""The family report in a real browser: Debian's Chromium driven by Playwright.

The page is opened from its file with a new, empty profile; any console message, page error
or request other than the file itself fails the test. Checked: the QC verdict, one row per
candidate, sorting by score and by gene, the text/model/type filters, a row's evidence,
the compound-partner link, that values carrying HTML or script show as text and run
nothing, and the clinical annotation (the ClinVar badge and column, the evidence's ClinVar,
frequency and prediction fields). HELGENOM_SCREENSHOT=PATH saves a PNG of the report with its
top row opened (and PATH-clinical of the report with the clinical annotation).

The inputs are written here: the demo trio's ranked candidates (as `make demo` ranks them),
its QC, PED, UPD/ROH tables and depth-CNV and SV VCFs, with a QC warning to show.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helgenom.cli import report as report_cli
from helgenom.cli import report_index as report_index_cli

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="needs playwright (pip install playwright==1.65.3)")
if not CHROMIUM.is_file():
    pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
                allow_module_level=True)

FAMILY = "DEMO"
MEMBERS = ("demo-father", "demo-mother", "demo-proband")
PAYLOAD = "<script>window.__pwned=1</script>"
HPO_PAYLOAD = 'HP:0001250 <img src=x onerror="window.__pwned=2">Seizure'
SEIZURE, DELAY = "HP:0001250 Seizure", "HP:0001263 Global developmental delay"
PHENOTYPES = {  # gene -> matched HPO terms, diseases (as helgenom rank writes them)
    "SCN2A": (f"{SEIZURE};{DELAY}", "Epileptic encephalopathy, early infantile, 11 "
              "(OMIM:613721);Early infantile developmental and epileptic encephalopathy "
              "(ORPHA:1934)"),
    "MUTYH": (SEIZURE, "Familial colorectal cancer Type X (ORPHA:440437);MUTYH-related "
              "polyposis (ORPHA:247798)"),
    "ALMS1": (DELAY, "Alstrom syndrome (OMIM:203800)"),
    "OTC": (f"{SEIZURE};{DELAY}", "Ornithine transcarbamylase deficiency (ORPHA:664)"),
    "NRXN1": ("", "Pitt-Hopkins-Like syndrome 2 (OMIM:614325)"),
    "USH2A": ("", "Usher syndrome type 2 (ORPHA:231178);Retinitis pigmentosa (ORPHA:791)"),
    "TTN": (DELAY, "Autosomal recessive centronuclear myopathy (ORPHA:169186)"),
}
# gene, chrom, pos, end, ref, alt, consequence, impact, protein change, models, partners,
# score, per-category scores, gates, phenotype score, combined score, SV callers, SV origin,
# "GT DP AB GQ" of father, mother, proband
CANDIDATES = [
    ("SCN2A", "chr2", 85290, 85290, "T", "A", "missense", "MODERATE", "39L>39H", "AD_dn", "",
     "20.0", (6, 6, 6, 2), "PASS", "0.8933", "0.966", "", "",
     ("0/0 30 0.0 94", "0/0 24 0.0 76", "0/1 23 0.478 127")),
    ("MUTYH", "chr1", 89315, 89315, "G", "C", "missense", "MODERATE", "110W>110C", "AR_comp",
     "chr1_85720_A_DEL>18", "20.0", (6, 6, 6, 2), "PASS", "0.6978", "0.856", "", "",
     ("0/1 25 0.44 127", "0/0 12 0.0 33", "1/1 13 1.0 35")),
    ("ALMS1", "chr2", 171290, 171290, "G", "T", "stop_gained", "HIGH", "193S>193*", "AR_hom",
     "", "24.0", (10, 6, 6, 2), "PASS", "0.5975", "0.8557", "", "",
     ("0/1 24 0.542 127", "0/1 33 0.545 127", "1/1 20 1.0 60")),
    ("MUTYH", "chr1", 85720, 95190, "A", "<DEL>", "transcript_ablation", "HIGH", "", "AR_comp",
     "chr1_89315_G_C>20", "18.0", (10, 0, 6, 2), "PASS", "0.6978", "0.8267",
     "delly,tiddit,cnv", "demo-proband:maternal", ("0/0 . . .", "0/1 . . .", "0/1 . . .")),
    ("OTC", "chrX", 163238, 163238, "A", "C", "missense", "MODERATE", "220K>220Q", "XR|XD", "",
     "12.0", (6, 6, 6, -6), "demo-father:DP", "0.7909", "0.7165", "", "",
     ("0 4 0.0 127", "0/1 26 0.5 127", "1 12 1.0 127")),
    ("NRXN1", "chr2", 29084, 34023, "T", "<DEL>", "exon_loss", "HIGH", "", "AD_dn", "", "18.0",
     (10, 0, 6, 2), "PASS", "0.4718", "0.4389", "delly,tiddit,cnv", "demo-proband:de_novo",
     ("0/0 . . .", "0/0 . . .", "0/1 . . .")),
    ("USH2A", "chr1", 407203, 407203, "A", "T", "stop_gained", "HIGH", "149L>149*", "AR_comp",
     "chr1_408538_C_A>20", "24.0", (10, 6, 6, 2), "PASS", "0.2436", "0.259", "", "",
     ("0/1 18 0.333 124", "0/0 18 0.0 54", "0/1 16 0.562 127")),
    ("TTN", "chr2", 251891, 252970, "G", "<DUP>", "feature_elongation", "MODIFIER", "",
     "AD_dn", "", "8.0", (0, 0, 6, 2), "PASS", "0.5669", "0.1786", "delly,tiddit",
     "demo-proband:de_novo", ("0/0 . . .", "0/0 . . .", "0/1 . . .")),
    ("USH2A", "chr1", 408538, 408538, "C", "A", "missense", "MODERATE", "123D>123Y", "AR_comp",
     "chr1_407203_A_T>24", "20.0", (6, 6, 6, 2), "PASS", "0.2436", "0.1357", "", "",
     ("0/0 21 0.0 62", "0/1 23 0.609 127", "0/1 25 0.44 127")),
]
HEADER = ["rank", "family", "chrom", "pos", "end", "ref", "alt", "type", "gene", "consequence",
          "impact", "protein_change", "population_af", "models", "compound_partners", "score",
          "score_consequence", "score_allele_frequency", "score_inheritance_models",
          "score_variant_quality", "score_normalized", "gates", "filter", "phenotype_score",
          "matched_hpo", "diseases", "combined_score", "sv_callers", "sv_origin",
          *(f"{m}_{f}" for m in MEMBERS for f in ("GT", "DP", "AB", "GQ"))]
CLINICAL = ["clinvar", "clinvar_stars", "clinvar_id", "gnomad_grpmax_af", "gnomad_hom",
            "swegen_af", "local_obs", "local_hom", "local_frq", "cadd", "revel", "spliceai"]
ANNOTATION = {  # rank -> the clinical columns (after population_af); the other ranks empty
    1: ("Pathogenic", "2", "12345", "1.234e-05", "0", "0.00021", "3", "1", repr(3 / 1234),
        "28.349", "0.8123", "0.02"),
    3: ("Uncertain_significance", "0", "777", "0.0123", "12", "0.011", "", "", "", "35", "",
        "0.91"),
    7: ("Likely_pathogenic", "1", "67890", "", "", "", "", "", "", "41", "", "0.1"),
}
REASON = "demo-mother: fraction of the genome at >= 20x 0.46 (< 0.5)"
CONTIGS = "".join(f"##contig=<ID={c},length={n}>\n" for c, n in (
    ("chr1", 450000), ("chr2", 300000), ("chrX", 250000)))
VCF_HEADER = f"##fileformat=VCFv4.2\n{CONTIGS}#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\t" \
             f"FORMAT\t{chr(9).join(MEMBERS)}\n"
CNV_RECORDS = [  # pos, end, type, copy numbers of father, mother, proband
    ("chr1", 86000, 95000, "DEL", (2, 1, 1)), ("chr1", 286000, 289000, "DEL", (1, 2, 1)),
    ("chr2", 29000, 34000, "DEL", (2, 2, 1)), ("chr2", 208000, 220000, "DUP", (3, 2, 3))]
SV_RECORDS = [  # pos, ref, end, type, callers, origin, population AF, models, score, GTs
    ("chr1", 85720, "A", 95190, "DEL", "delly,tiddit,cnv", "maternal", "0", "AR_comp", 18,
     ("0/0", "0/1", "0/1")),
    ("chr1", 285796, "T", 288797, "DEL", "delly,tiddit,cnv", "paternal", "0.0021", "", -5,
     ("0/1", "0/0", "0/1")),
    ("chr2", 29084, "T", 34023, "DEL", "delly,tiddit,cnv", "de_novo", "0", "AD_dn", 18,
     ("0/0", "0/0", "0/1")),
    ("chr2", 251891, "G", 252970, "DUP", "delly,tiddit", "de_novo", "0", "AD_dn", 8,
     ("0/0", "0/0", "0/1"))]


def candidate_list(payload: bool, clinical: bool = False) -> str:
    """The candidate list (with a `<script>` gene and HPO label when `payload`; with the
    clinical annotation of `ANNOTATION` when `clinical`)."""
    at = HEADER.index("population_af") + 1
    header = [*HEADER[:at], *CLINICAL, *HEADER[at:]] if clinical else HEADER
    lines = [f"## QC: WARN - {REASON}; see results/DEMO/DEMO.qc.tsv", "\t".join(header)]
    for rank, row in enumerate(CANDIDATES, start=1):
        (gene, chrom, pos, end, ref, alt, consequence, impact, protein, models, partners,
         score, categories, gates, phenotype, combined, callers, origin, genotypes) = row
        hpo, diseases = PHENOTYPES[gene]
        if payload and gene == "TTN":
            gene, hpo = PAYLOAD, HPO_PAYLOAD
        sv = alt.startswith("<")
        normalized = f"{(float(score) + 10) / 34:.4g}"
        cells = [rank, FAMILY, chrom, pos, end, ref, alt, "SV" if sv else "SNV", gene,
                 consequence, impact, protein, "0.0" if sv else ".", models, partners, score,
                 *categories, normalized, gates, "PASS" if sv else ".", phenotype, hpo,
                 diseases, combined, callers, origin,
                 *(value for member in genotypes for value in member.split())]
        if clinical:
            cells[at:at] = ANNOTATION.get(rank, [""] * len(CLINICAL))
        lines.append("\t".join(map(str, cells)))
    return "\n".join(lines) + "\n"


def qc_json() -> str:
    def row(level: str, unit: str, metric: str, verdict: str, value: float | None = None,
            reason: str = "") -> dict:
        return {"family": FAMILY, "level": level, "unit": unit, "metric": metric,
                "value": value, "threshold": "PASS >= 0.5, WARN >= 0.3" if value else "",
                "verdict": verdict, "detail": "", "reason": reason, "data": {}}

    rows = [row("sample", m, "fraction_20x", "WARN" if m == "demo-mother" else "PASS",
                0.46 if m == "demo-mother" else 0.83, REASON if m == "demo-mother" else "")
            for m in MEMBERS]
    rows += [row("sample", m, "verdict", "WARN" if m == "demo-mother" else "PASS")
             for m in MEMBERS]
    rows += [row("pair", "demo-father-demo-proband", "kinship", "PASS", 0.24),
             row("family", FAMILY, "verdict", "WARN")]
    return json.dumps({"family": FAMILY, "verdict": "WARN", "reasons": [REASON], "rows": rows,
                       "header_lines": [f"## QC: WARN - {REASON}"]}, indent=1)


def write_inputs(folder: Path, payload: bool, clinical: bool = False) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    origin = "demo-proband:" if not payload else "demo-proband:<b>"
    cnv = [f"{c}\t{p}\t.\tN\t<{t}>\t99\tPASS\tEND={e};SVTYPE={t};CALLERS=demo-proband\tGT:CN\t"
           + "\t".join(f"{'0/0' if n == 2 else '0/1'}:{n}" for n in cns)
           for c, p, e, t, cns in CNV_RECORDS]
    sv = [f"{c}\t{p}\t.\t{ref}\t<{t}>\t999\tPASS\tSVTYPE={t};END={e};CALLERS={callers};"
          f"ORIGIN={origin}{o};SVAF={af};GeneticModels=DEMO:{models};RankScore=DEMO:{score}\t"
          f"GT\t{chr(9).join(gts)}"
          for c, p, ref, e, t, callers, o, af, models, score, gts in SV_RECORDS]
    texts = {
        "candidates": ("DEMO.candidates.tsv", candidate_list(payload, clinical)),
        "qc": ("DEMO.qc.json", qc_json()),
        "ped": ("DEMO.ped", "DEMO\tdemo-father\t0\t0\t1\t1\nDEMO\tdemo-mother\t0\t0\t2\t1\n"
                "DEMO\tdemo-proband\tdemo-father\tdemo-mother\t1\t2\n"),
        "upd": ("DEMO.upd.tsv", "family\tchild\tchrom\tinformative\tmaternal\tpaternal\tcall\n"
                "DEMO\tdemo-proband\tchr1\t87\t0\t1\tnone\n"
                "DEMO\tdemo-proband\tchr2\t48\t0\t0\tnone\n"),
        "roh": ("DEMO.roh.tsv", "sample\tchrom\tstart\tend\tlength\tmarkers\tquality\n"
                "demo-proband\tchr2\t120000\t185000\t65001\t140\t72.5\n"
                "demo-mother\tchrX\t20000\t90000\t70001\t95\t60.1\n"),
        "cnv": ("DEMO.cnv.vcf", VCF_HEADER + "\n".join(cnv) + "\n"),
        "sv": ("DEMO.sv.vcf", VCF_HEADER + "\n".join(sv) + "\n"),
    }
    paths = {}
    for key, (name, text) in texts.items():
        paths[key] = folder / name
        paths[key].write_text(text)
    return paths


def write_bam(folder: Path, sample: str, alt_reads: int, ref_reads: int) -> Path:
    """A BAM of 20 bp reads over the top candidate (SCN2A chr2:85290 T>A): the first
    `alt_reads` carry the A, the next `ref_reads` the T (samtools view -b, samtools index)."""
    records = []
    for i in range(alt_reads + ref_reads):
        start = 85275 + i
        allele = "A" if i < alt_reads else "T"
        seq = "C" * (85290 - start) + allele + "C" * (19 - 85290 + start)
        records.append(f"{sample}-r{i}\t{16 * (i % 2)}\tchr2\t{start}\t60\t20M\t*\t0\t0\t"
                       f"{seq}\t{'I' * 20}\n")
    sam = folder / f"{sample}.sam"
    sam.write_text("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:450000\n"
                   "@SQ\tSN:chr2\tLN:300000\n" + "".join(records))
    bam = sam.with_suffix(".bam")
    subprocess.run(["samtools", "view", "-b", "-o", str(bam), str(sam)], check=True)
    subprocess.run(["samtools", "index", str(bam)], check=True)
    return bam


def make_report(folder: Path, payload: bool = False, clinical: bool = False) -> Path:
    paths = write_inputs(folder / "inputs", payload, clinical)
    out = folder / "results" / FAMILY / f"{FAMILY}.report.html"
    alignments = []
    if shutil.which("samtools"):  # the proband: 6 alt, 5 ref reads; the father: 9 ref reads
        for sample, alt, ref in (("demo-proband", 6, 5), ("demo-father", 0, 9)):
            alignments += ["--alignment",
                           f"{sample}={write_bam(folder / 'inputs', sample, alt, ref)}"]
    parser = argparse.ArgumentParser(prog="helgenom")
    report_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", "--family", FAMILY, "--out", str(out), *alignments, *(
        x for key, path in paths.items() for x in (f"--{key}", str(path)))])
    assert args.func(args) == 0
    return out


class Browser:
    """A page of a Chromium with a new profile that records what it must not do."""

    def __init__(self, context: object, url: str, *others: str) -> None:
        """Open `url`; requests of other files than it and `others` are problems."""
        self.problems: list[str] = []
        allowed = {url, *others}
        context.on("request", lambda r: None if r.url in allowed else self.problems.append(
            f"request: {r.url}"))
        self.page = context.new_page()
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.goto(url)

    def ids(self, selector: str = "#candidates tr.cand") -> list[str]:
        return self.page.eval_on_selector_all(selector, "rows => rows.map(r => r.id)")

    def shown(self) -> list[str]:
        return self.ids("#candidates tr.cand:not([hidden])")

    def header(self, label: str) -> object:
        """The candidate table's header cell of `label` (its text, without the sort mark)."""
        labels = self.page.eval_on_selector_all("#candidates > thead th",
                                                "cells => cells.map(c => c.textContent)")
        return self.page.locator("#candidates > thead th").nth(labels.index(label))


@contextmanager
def chromium(tmp_path: Path) -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=LAUNCH_ARGS, viewport={"width": 1400, "height": 900})
        try:
            yield context
        finally:
            context.close()


def order(key, reverse: bool = False) -> list[str]:
    """Candidate row IDs sorted by `key`, ties in list order (the page's sort is stable)."""
    ranked = sorted(range(len(CANDIDATES)), key=lambda i: key(CANDIDATES[i]), reverse=reverse)
    return [f"c{i + 1}" for i in ranked]


def test_the_report_works_in_chromium(tmp_path: Path) -> None:
    report = make_report(tmp_path)
    with chromium(tmp_path) as context:
        view = Browser(context, report.as_uri())
        page = view.page
        badge = page.locator("#verdict .badge")
        assert badge.inner_text() == "WARN"
        assert REASON in page.locator("#verdict").inner_text()
        assert page.locator("#verdict").evaluate(
            "e => getComputedStyle(e).backgroundColor") == "rgb(255, 241, 204)"
        assert view.ids() == [f"c{i}" for i in range(1, len(CANDIDATES) + 1)]
        assert len(view.shown()) == len(CANDIDATES)
        assert page.locator("tr.evidence:visible").count() == 0

        view.header("score").locator("button").click()
        assert view.ids() == order(lambda c: float(c[11]), reverse=True)
        assert view.header("score").get_attribute("aria-sort") == "descending"
        view.header("score").locator("button").click()
        assert view.ids() == order(lambda c: float(c[11]))
        view.header("gene").locator("button").click()
        assert view.ids() == order(lambda c: c[0].lower())
        genes = page.eval_on_selector_all("#candidates tr.cand > td:nth-child(2)",
                                          "cells => cells.map(c => c.textContent)")
        assert genes == sorted(c[0] for c in CANDIDATES)
        for direction in (1, -1, 1):  # the rank sorts up first
            view.header("#").locator("button").click()
            assert view.ids() == [f"c{i}" for i in range(1, len(CANDIDATES) + 1)][::direction]

        page.fill("#filter-text", "ush2a")
        assert view.shown() == ["c7", "c9"]
        assert page.locator("#shown-count").inner_text() == "2 of 9"
        page.fill("#filter-text", "")
        page.select_option("#filter-model", "AR_comp")
        assert view.shown() == ["c2", "c4", "c7", "c9"]
        page.select_option("#filter-type", "SV")
        assert view.shown() == ["c4"]
        page.click("#filter-clear")
        assert len(view.shown()) == len(CANDIDATES)

        page.click("#c1 td:nth-child(2)")
        evidence = page.locator("#ev-c1")
        assert evidence.is_visible()
        assert page.locator("#c1 button.toggle").get_attribute("aria-expanded") == "true"
        genotypes = evidence.locator("table.genotypes tbody tr")
        assert genotypes.count() == 3
        assert genotypes.nth(0).locator("td").all_inner_texts() == [
            "demo-proband", "proband", "0/1", "23", "0.478", "127"]
        assert genotypes.nth(1).locator("td").all_inner_texts() == [
            "demo-father", "father", "0/0", "30", "0.0", "94"]
        scores = evidence.locator("table.score-categories tbody tr")
        assert [scores.nth(i).locator("td").all_inner_texts() for i in range(scores.count())] \
            == [["consequence", "6"], ["allele frequency", "6"], ["inheritance models", "6"],
                ["variant quality", "2"], ["total", "20.0"]]
        assert "HP:0001250 Seizure" in evidence.inner_text()
        assert "read-level evidence" in evidence.inner_text().lower()
        if shutil.which("samtools"):  # the pileups: closed until asked for
            pileups = evidence.locator("details.reads")
            proband = pileups.locator('svg.pileup[data-sample="demo-proband"]')
            assert not proband.is_visible()
            pileups.locator("summary").click()
            assert proband.is_visible()
            assert proband.locator("rect.read").count() == 11
            assert proband.locator("rect.alt-base").count() == 6
            assert "5 ref, 6 alt, 0 other" in pileups.inner_text()
            father = pileups.locator('svg.pileup[data-sample="demo-father"]')
            assert father.is_visible() and father.locator("rect.alt-base").count() == 0
            assert evidence.is_visible()  # a click in the evidence leaves it open
        screenshot = os.environ.get("HELGENOM_SCREENSHOT")
        if screenshot:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=screenshot, full_page=True)
            assert Path(screenshot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        page.click("#c1 td:nth-child(2)")
        assert not evidence.is_visible()

        # The partner of MUTYH's missense is its deletion, an SV the type filter hides.
        page.select_option("#filter-type", "SNV")
        assert "c4" not in view.shown()
        page.click("#c2 td:nth-child(2)")
        page.evaluate("window.scrollTo(0, 0)")
        link = page.locator("#ev-c2 a.partner")
        assert link.inner_text().startswith("#4 MUTYH chr1_85720_A_DEL")
        link.click()
        partner = page.locator("#c4")
        assert partner.is_visible() and "flash" in partner.get_attribute("class").split()
        box, height = partner.bounding_box(), page.viewport_size["height"]
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height
        assert page.evaluate("document.activeElement.closest('tr').id") == "c4"
        assert page.input_value("#filter-type") == ""
        page.locator("#sv-table a.jump").first.click()
        assert "flash" in page.locator("#c4").get_attribute("class").split()
        assert view.problems == []


def test_the_run_index_opens_a_report_at_its_top_candidate(tmp_path: Path) -> None:
    report = make_report(tmp_path)
    index = report.parents[1] / "index.html"
    parser = argparse.ArgumentParser(prog="helgenom")
    report_index_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report-index", "--reports", str(report), "--out", str(index)])
    assert args.func(args) == 0
    with chromium(tmp_path) as context:
        view = Browser(context, index.as_uri(), report.as_uri())
        page = view.page
        row = page.locator("#families tbody tr")
        assert row.count() == 1
        assert row.locator("td").all_inner_texts()[:2] == [FAMILY, "WARN"]
        row.locator("td").nth(4).locator("a").click()
        page.wait_for_url(f"{report.as_uri()}#c1")
        assert page.locator("#ev-c1").is_visible()
        assert "flash" in page.locator("#c1").get_attribute("class").split()
        assert view.problems == []


def test_values_in_the_inputs_show_as_text_and_run_nothing(tmp_path: Path) -> None:
    report = make_report(tmp_path, payload=True)
    with chromium(tmp_path) as context:
        view = Browser(context, report.as_uri())
        page = view.page
        assert page.evaluate("typeof window.__pwned") == "undefined"
        row = page.locator("#c8")
        assert row.locator("td").nth(1).inner_text() == PAYLOAD
        row.locator("td").nth(1).click()
        assert HPO_PAYLOAD in page.locator("#ev-c8").inner_text()
        assert page.locator("#ev-c8 img").count() == 0 and page.locator("#sv b").count() == 0
        assert page.locator("script").count() == 1  # the page's own
        assert "demo-proband (proband): <b>de novo" in page.locator("#sv-table").inner_text()
        page.fill("#filter-text", "<script>")
        assert view.shown() == ["c8"]
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert view.problems == []
        assert re.search(r"&lt;script&gt;window\.__pwned=1&lt;/script&gt;", report.read_text())


def test_the_clinical_annotation_shows_in_chromium(tmp_path: Path) -> None:
    """ClinVar's column (a red badge for the pathogenic and likely pathogenic), its sorting
    and the evidence's ClinVar, frequency and prediction fields; the ClinVar link is there
    and nothing is requested."""
    report = make_report(tmp_path, clinical=True)
    with chromium(tmp_path) as context:
        view = Browser(context, report.as_uri())
        page = view.page
        column = page.eval_on_selector_all("#candidates > thead th",
                                           "cells => cells.map(c => c.textContent)")
        assert column[column.index("protein") + 1] == "ClinVar"
        nth = column.index("ClinVar") + 1
        cell = page.locator(f"#c1 > td:nth-child({nth})")
        assert cell.inner_text() == "P\u2605\u2605\u2606\u2606"
        assert cell.get_attribute("title").startswith("ClinVar: Pathogenic; 2 of 4 review stars")
        badge = cell.locator("span.cv")
        assert badge.is_visible() and "cv-plp" in badge.get_attribute("class").split()
        assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(161, 26, 26)"
        assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
        assert page.locator("#candidates tr.cand.clinvar-plp").evaluate_all(
            "rows => rows.map(r => r.id)") == ["c1", "c7"]
        assert "inset" in page.locator("#c7 > td").first.evaluate(
            "e => getComputedStyle(e).boxShadow")
        assert page.locator("#c3 span.cv").inner_text() == "VUS"
        assert "cv-plp" not in page.locator("#c3 span.cv").get_attribute("class")

        view.header("ClinVar").locator("button").click()  # most severe first
        assert view.ids()[:3] == ["c1", "c7", "c3"]
        assert view.header("ClinVar").get_attribute("aria-sort") == "descending"
        view.header("#").locator("button").click()
        page.fill("#filter-text", "likely pathogenic")
        assert view.shown() == ["c7"]
        page.click("#filter-clear")

        page.click("#c1 td:nth-child(2)")
        evidence = page.locator("#ev-c1")
        assert evidence.is_visible()
        text = evidence.inner_text()
        for shown in ("2 of 4 review stars (criteria provided, multiple submitters, no "
                      "conflicts)", "1.23\u00d710\u207b\u2075",
                      "seen in 3 of 1,234 earlier cases at this GMC (1 homozygous)",
                      "28.3", "0.812", "0.02"):
            assert shown in text, shown
        link = evidence.locator("a.external")
        assert link.is_visible() and link.inner_text() == "variation 12345"
        assert link.get_attribute("href") == (
            "https://www.ncbi.nlm.nih.gov/clinvar/variation/12345/")
        assert evidence.locator("span.cv-plp").is_visible()
        page.click("#c2 td:nth-child(2)")
        assert "not in ClinVar" in page.locator("#ev-c2").inner_text()
        screenshot = os.environ.get("HELGENOM_SCREENSHOT")
        if screenshot:
            path = Path(screenshot)
            page.screenshot(path=path.with_name(f"{path.stem}-clinical{path.suffix}"),
                            full_page=True)
        assert view.problems == []

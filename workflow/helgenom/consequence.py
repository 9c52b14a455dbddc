"""Gene and consequence from caller annotations (bcftools csq `INFO/BCSQ` for now).

Severity follows the Sequence Ontology / VEP impact classes. Only distinct annotation strings
are parsed (categorical), so the cost grows with the number of distinct strings, not rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

IMPACT = {
    "HIGH": ("transcript_ablation", "exon_loss", "splice_acceptor", "splice_donor",
             "stop_gained", "frameshift", "stop_lost", "start_lost"),
    "MODERATE": ("inframe_insertion", "inframe_deletion", "inframe_altering", "missense",
                 "protein_altering", "coding_sequence_duplication"),
    "LOW": ("splice_region", "synonymous", "stop_retained", "start_retained", "coding_sequence"),
    "MODIFIER": ("5_prime_utr", "3_prime_utr", "non_coding", "intron", "feature_elongation",
                 "upstream", "downstream", "intergenic"),
}
# Most severe first; a lower index is more severe.
SEVERITY_ORDER: list[str] = [term for terms in IMPACT.values() for term in terms]
_RANK = {term: index for index, term in enumerate(SEVERITY_ORDER)}
IMPACT_OF = {term: impact for impact, terms in IMPACT.items() for term in terms}
UNKNOWN_RANK = len(SEVERITY_ORDER)


def severity(term: str) -> int:
    """Rank of a (possibly `&`-combined) consequence: the most severe of its parts."""
    return min((_RANK.get(part, UNKNOWN_RANK) for part in term.split("&")), default=UNKNOWN_RANK)


def impact(term: str) -> str:
    best = min(term.split("&"), key=lambda part: _RANK.get(part, UNKNOWN_RANK))
    return IMPACT_OF.get(best, "MODIFIER")


def parse_bcsq(text: str) -> tuple[str, str, tuple[str, ...], str]:
    """(worst consequence, its gene, all genes, protein change) of one BCSQ value.

    `*` marks a consequence shared with a downstream variant and `@POS` points at the record
    that carries a combined consequence: both are stripped / skipped.
    """
    best: tuple[int, str, str, str] | None = None
    genes: list[str] = []
    for entry in text.split(","):
        if not entry or entry.startswith("@"):
            continue
        fields = entry.lstrip("*").split("|")
        term, gene = fields[0], fields[1] if len(fields) > 1 else ""
        change = fields[5] if len(fields) > 5 else ""
        if gene and gene not in genes:
            genes.append(gene)
        key = (severity(term), term, gene, change)
        if best is None or key[0] < best[0]:
            best = key
    if best is None:
        return "", "", (), ""
    return best[1], best[2], tuple(genes), best[3]


def annotate_bcsq(column: pd.Series) -> pd.DataFrame:
    """Columns consequence, gene, genes (tuple), protein_change, severity, impact per row."""
    cat = column.fillna("").astype(str).astype("category")
    parsed = [parse_bcsq(value) for value in cat.cat.categories]
    codes = cat.cat.codes.to_numpy()

    def take(values: list) -> np.ndarray:
        array = np.empty(len(values) or 1, dtype=object)
        array[: len(values)] = values
        return array[codes]

    out = pd.DataFrame(index=column.index)
    out["consequence"] = take([p[0] for p in parsed])
    out["gene"] = take([p[1] for p in parsed])
    out["genes"] = take([p[2] for p in parsed])
    out["protein_change"] = take([p[3] for p in parsed])
    out["severity"] = take([severity(p[0]) if p[0] else UNKNOWN_RANK for p in parsed]).astype(int)
    out["impact"] = take([impact(p[0]) if p[0] else "MODIFIER" for p in parsed])
    return out

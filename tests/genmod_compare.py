"""Compare helgenom rank's GeneticModels/Compounds with GENMOD's, record by record."""

from __future__ import annotations

import gzip
from pathlib import Path

from helgenom.rank.candidates import RankOptions, read_gene_list
from helgenom.rank.inheritance import Gates
from helgenom.rank.run import rank

Key = tuple[str, str, str, str]


def per_family(value: str) -> dict[str, str]:
    out = {}
    for part in value.split(","):
        if ":" in part:
            family, text = part.split(":", 1)
            out[family] = text
    return out


def read_models(path: Path) -> dict[tuple[str, Key], tuple[frozenset, frozenset]]:
    """(family, CHROM/POS/REF/ALT) -> (models, compound partner ids)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    out: dict[tuple[str, Key], tuple[frozenset, frozenset]] = {}
    with opener(path, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            key = (f[0], f[1], f[3], f[4])
            info: dict[str, str] = {}
            for item in f[7].split(";"):  # a repeated key: the last one wins (GENMOD repeats)
                if "=" in item:
                    k, v = item.split("=", 1)
                    info[k] = v
            models = per_family(info.get("GeneticModels", ""))
            compounds = per_family(info.get("Compounds", ""))
            for family in set(models) | set(compounds):
                partners = frozenset(p.split(">")[0] for p in compounds.get(family, "").split("|")
                                     if p)
                out[(family, key)] = (frozenset(models.get(family, "").split("|")) - {""},
                                      partners)
    return out


def run_helgenom(vcf: Path, ped: Path, out: Path, reduced_penetrance: Path | None = None
                 ) -> dict[tuple[str, Key], tuple[frozenset, frozenset]]:
    opts = RankOptions(max_af=1.0, gates=Gates(enabled=False),
                       reduced_penetrance=read_gene_list(str(reduced_penetrance))
                       if reduced_penetrance else frozenset())
    rank(vcf, ped, str(out), opts)
    return read_models(Path(f"{out}.vcf.gz"))


def differences(ours: dict, theirs: dict) -> dict:
    keys = set(ours) | set(theirs)
    empty = (frozenset(), frozenset())
    return {k: (ours.get(k, empty), theirs.get(k, empty)) for k in sorted(keys)
            if ours.get(k, empty) != theirs.get(k, empty)}

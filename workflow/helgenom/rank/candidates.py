"""`helgenom rank`: inheritance models, scores and the ranked candidate list of each family.

Input: a joint VCF/BCF (any number of families) and a PED file. Output: `PREFIX.vcf.gz`
(bi-allelic records with GENMOD-compatible INFO: GeneticModels, Compounds, RankScore,
RankScoreNormalized, RankResult; with --gff3 and the reference FASTA the VCF header names, a
VEP-style CSQ) and `PREFIX.candidates.tsv` (one row per candidate variant per family, best
first, with the HGVS c./p. on each gene's canonical transcript, the per-category score
breakdown and every member's genotype).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helgenom.data import data_path
from helgenom.errors import InputError, Problem
from helgenom.io.reference import Region
from helgenom.io.tsv import write_tsv
from helgenom.io.vcf import (
    ALT_NAME_DROPS,
    Genotypes,
    RecordText,
    VcfHeader,
    arrow_strings,
    concat_variants,
    read_header,
    read_variants,
)
from helgenom.io.vcfwrite import write_vcf
from helgenom.rank.clinical import COLUMNS as CLINICAL_COLUMNS
from helgenom.rank.clinical import INTEGER_COLUMNS as CLINICAL_INTEGERS
from helgenom.rank.clinical import clinical_columns, derived_header
from helgenom.rank.clinical import info_keys as clinical_keys
from helgenom.rank.consequence import (
    annotation_fields,
    annotation_source,
    gene_annotation,
    impact,
    severity,
    str_array,
    text_column,
)
from helgenom.rank.csq import (
    CSQ_FORMAT,
    HGVS_COLUMNS,
    Annotator,
    csq_header,
    empty_columns,
    is_own_csq,
)
from helgenom.rank.genes import gene_models, sv_gene_effects
from helgenom.rank.gff3 import gene_set
from helgenom.rank.hemizygous import hemizygous_over_deletions
from helgenom.rank.hgvs import Transcripts
from helgenom.rank.inheritance import (
    MITO_CONTIGS,
    MODELS,
    CompoundPairs,
    FamilyGenotypes,
    Gates,
    chromosome_classes,
    compound_candidates,
    compound_pairs,
    gate_failures,
    single_variant_models,
)
from helgenom.rank.inputs import count_problems, order_problems, ped_lines, vcf_problems
from helgenom.rank.model import RankModel, load_rank_model
from helgenom.rank.model import csq_format as csq_columns
from helgenom.rank.outputs import Staging, staged_outputs
from helgenom.rank.phenotype import combined_score, gene_phenotype_scores, validate_terms
from helgenom.rank.sequence import fasta_problem, header_reference
from helgenom.sheets.pedigree import Family


@dataclass
class RankOptions:
    af_tag: str = "GNOMADAF"
    max_af: float = 0.01
    gates: Gates = field(default_factory=Gates)
    chrx: str = "chrX"
    chry: str = "chrY"
    par: list[str] = field(default_factory=list)
    sv: str | None = None  # SV VCF ranked with the small variants
    gff3: str | None = None  # gene models: SV gene overlap, HGVS and CSQ
    fasta: str | None = None  # reference for HGVS (default: the VCF header's ##reference)
    reduced_penetrance: frozenset[str] = frozenset()  # genes where AD allows healthy carriers
    panel: frozenset[str] = frozenset()
    panel_mode: str = "boost"  # or "restrict"
    rank_model: str = str(data_path("rank_model", "helgenom_snv_v2.ini"))
    sv_rank_model: str = str(data_path("rank_model", "helgenom_sv_v1.ini"))
    hpo: dict[str, list[str]] = field(default_factory=dict)  # family -> HPO terms
    qc: list[str] = field(default_factory=list)  # helgenom qc results (.qc.json/.qc.tsv)
    csq_format: list[str] | None = None  # the input's own CSQ Format (set from its header)
    csq_padding: tuple[str, ...] = ()  # helgenom's CSQ's empty columns (Annotator.padding)
    candidates_out: str | None = None  # the candidate list's path (default PREFIX.candidates.tsv)


def match_contig(name: str, contigs: list[str]) -> str:
    """`name` as the VCF spells it: chrX vs X (and chrM vs MT) mismatches are resolved."""
    if not contigs or name in contigs:
        return name
    bare = name.removeprefix("chr")
    for candidate in (bare, f"chr{bare}", *(("MT", "chrM") if bare in ("M", "MT") else ())):
        if candidate in contigs:
            return candidate
    return name


def variant_id(table: pd.DataFrame) -> pd.Series:
    """GENMOD's variant id: CHROM_POS_REF_ALT, symbolic ALTs without their brackets
    (`io.vcf.variant_name`: chr1_85720_A_DEL, not chr1_85720_A_<DEL>)."""
    alt = table["ALT"].astype(str)
    symbolic = alt.str.contains(f"[{re.escape(ALT_NAME_DROPS)}]", regex=True)
    if symbolic.any():
        alt = alt.where(~symbolic, alt.str.replace(f"[{re.escape(ALT_NAME_DROPS)}]", "",
                                                   regex=True))
    return (table["CHROM"].astype(str) + "_" + table["POS"].astype(str) + "_"
            + table["REF"].astype(str) + "_" + alt)


def genotype_strings(gts: Genotypes, sample: str, rows: np.ndarray | None = None
                     ) -> pd.api.extensions.ExtensionArray:
    """'0/1', '1' (haploid), './.' ... of `sample` at `rows` (default: every row)."""
    gt, ploidy = gts.gt[sample], gts.ploidy[sample]
    if rows is not None:
        gt, ploidy = gt[rows], ploidy[rows]
    return text_column(["./.", "0/0", "0/1", "1/1", ".", "0", "1", "1"],
                       gt.astype(np.int64) + 1 + 4 * (ploidy == 1))


def _join_models(matrix: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Row-wise '|'.join of the model names set in a (rows x models) boolean matrix."""
    bits = matrix.astype(np.int64) @ (1 << np.arange(matrix.shape[1], dtype=np.int64))
    found, which = np.unique(bits, return_inverse=True)
    return text_column(["|".join(m for i, m in enumerate(MODELS) if code >> i & 1)
                        for code in found.tolist()], which.reshape(-1))


MAX_LISTED_PARTNERS = 20


def _score_texts(scores: np.ndarray) -> pa.Array:
    """f"{score:g}" of every value (each distinct bit pattern formatted once)."""
    codes, uniques = pd.factorize(np.asarray(scores, dtype=np.float64).view(np.int64))
    texts = pa.array([f"{v:g}" for v in np.asarray(uniques).view(np.float64).tolist()],
                     pa.large_string())
    return texts.take(pa.array(codes))


def partner_texts(pairs: CompoundPairs, table: pd.DataFrame, scores: np.ndarray
                  ) -> tuple[pd.api.extensions.ExtensionArray, pd.api.extensions.ExtensionArray]:
    """Per row: its distinct partners, best score first (then in row order), at most
    MAX_LISTED_PARTNERS (a gene with hundreds of rare variants would otherwise print them all
    on every record), as 'ID>score' joined by ',' (candidate list) and by '|' (VCF
    Compounds); '' for rows without partners."""
    n = len(scores)
    if not len(pairs.row):
        return text_column([""], np.zeros(n)), text_column([""], np.zeros(n))
    key = np.unique(pairs.row.astype(np.int64) * n + pairs.mate)
    row, mate = key // n, key % n
    order = np.lexsort((mate, -scores[mate], row))
    row, mate = row[order], mate[order]
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    place = np.arange(len(row)) - np.repeat(first, np.diff(np.r_[first, len(row)]))
    listed = place < MAX_LISTED_PARTNERS
    row, mate = row[listed], mate[listed]
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    listed_mates, which = np.unique(mate, return_inverse=True)
    ids = arrow_strings(variant_id(table.iloc[listed_mates]))
    assert ids is not None
    text = pc.binary_join_element_wise(ids.take(pa.array(which.reshape(-1))),
                                       _score_texts(scores[mate]),
                                       pa.scalar(">", pa.large_string()))
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    lists = pa.LargeListArray.from_arrays(pa.array(np.r_[first, len(row)], pa.int64()), text)
    # Rows without partners take the empty string after the joined lists.
    index = np.full(n, len(first), dtype=np.int64)
    index[row[first]] = np.arange(len(first))
    partners, compounds = (
        str_array(pa.concat_arrays([pc.binary_join(lists, pa.scalar(sep, pa.large_string())),
                                     pa.array([""], pa.large_string())]).take(pa.array(index)))
        for sep in (",", "|"))
    return partners, compounds


def _gene_mask(genes: pd.Series, wanted: frozenset[str]) -> np.ndarray:
    if not wanted:
        return np.zeros(len(genes), dtype=bool)
    return np.array([bool(wanted.intersection(g)) for g in genes], dtype=bool)


def _missing(n: int) -> pd.Categorical:
    """`n` missing values."""
    return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8),
                                     categories=pd.Index([], dtype=object))


def score_rows(table: pd.DataFrame, family_result: pd.DataFrame,
               scorers: dict[str, RankModel], csq_format: list[str] | None = None,
               padding: tuple[str, ...] = ()) -> pd.DataFrame:
    """Category scores, `score` (RankScore) and `score_normalized` per row: small variants
    with the SNV rank model, SVs with the SV model. helgenom's own per-family values are the
    INFO keys HGImpact, GeneticModels and HGQuality (written to the ranked VCF too). A model
    reading CSQ reads the input's own, whose Format is `csq_format`, else helgenom's (the
    `csq` column, as written to the ranked VCF, its Format CSQ_FORMAT + `padding`)."""
    parts = []
    for kind, model in scorers.items():
        rows = (table["kind"] == "SV") if kind == "SV" else (table["kind"] != "SV")
        if not rows.any():
            continue
        records = table.loc[rows, ["CHROM", "POS", "REF", "ALT", "FILTER"]].copy()
        for key in model.info_keys():
            # An absent key: all missing, as a categorical (factorised without a pass).
            records[key] = table.loc[rows, key] if key in table else _missing(len(records))
        fmt = None
        if "CSQ" in records and csq_format is None and "csq" in table:
            # helgenom's CSQ, as the ranked VCF has it
            records["CSQ"] = table.loc[rows, "csq"].replace("", pd.NA)
            fmt = [*CSQ_FORMAT, *padding]
        elif "CSQ" in records:  # the input's own (VEP's)
            fmt = csq_format
        records["HGImpact"] = table.loc[rows, "impact"]
        records["GeneticModels"] = family_result.loc[rows, "models"].replace("", pd.NA)
        records["HGQuality"] = family_result.loc[rows, "quality"]
        scored = model.score(records, None, fmt)
        parts.append(scored.rename(columns={"RankScore": "score",
                                            "RankScoreNormalized": "score_normalized"}))
    if not parts:  # no records: the columns, typed
        columns = [*dict.fromkeys(c for m in scorers.values() for c in m.categories),
                   "score", "score_normalized"]
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns}, index=table.index)
    out = pd.concat(parts).reindex(table.index)
    # A category one model has and the other lacks: integers, NA for the other's rows.
    for name in dict.fromkeys(c for m in scorers.values() for c in m.categories):
        if out[name].dtype.kind == "f":
            out[name] = out[name].astype("Int64")
    return out


def rank_family(family: Family, table: pd.DataFrame, gts: Genotypes, classes: np.ndarray,
                opts: RankOptions, scorers: dict[str, RankModel],
                model_gts: Genotypes | None = None) -> pd.DataFrame:
    """Models, scores and compound partners for every row, for one family. `model_gts`, when
    given, are the genotypes the models read (see helgenom.rank.hemizygous); gates read `gts`."""
    return rank_family_pairing(family, table, gts, classes, opts, scorers, model_gts)[0]


def rank_family_pairing(family: Family, table: pd.DataFrame, gts: Genotypes,
                        classes: np.ndarray, opts: RankOptions, scorers: dict[str, RankModel],
                        model_gts: Genotypes | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """`rank_family`, and the rows that were compound-het candidates (paired by gene)."""
    members = [i.sample for i in family.members]
    fg = FamilyGenotypes(family, gts if model_gts is None else model_gts)
    models = single_variant_models(fg, classes, _gene_mask(table["genes"],
                                                           opts.reduced_penetrance))
    gates = gate_failures(members, gts, opts.gates, classes)
    af = table["af"]
    rare = (af.isna() | (af <= opts.max_af)).to_numpy()
    in_gene = np.fromiter(map(len, table["genes"].to_numpy()), dtype=np.int64,
                          count=len(table)) > 0
    passing = gates == ""
    candidates = np.flatnonzero(compound_candidates(fg, classes) & rare & passing & in_gene)
    pairs = compound_pairs(fg, candidates, table["genes"].iloc[candidates])
    models["AR_comp"][pairs.inherited] = True
    models["AR_comp_dn"][pairs.de_novo] = True
    matrix = np.column_stack([models[m] for m in MODELS])
    out = pd.DataFrame(index=table.index)
    out["models"] = _join_models(matrix)
    out["gates"] = str_array(pa.array(gates, pa.large_string()))
    filtered = ~table["FILTER"].isin(["PASS", "."]).to_numpy()
    out["quality"] = text_column(["GATE_FAIL", "FILTERED", "PASS"],
                                 np.where(~passing, 0, np.where(filtered, 1, 2)))
    out = out.join(score_rows(table, out, scorers, opts.csq_format, opts.csq_padding))
    out["partners"], out["compounds_info"] = partner_texts(
        pairs, table, out["score"].to_numpy(dtype=np.float64))
    candidate = matrix.any(axis=1) & rare
    in_panel = _gene_mask(table["genes"], opts.panel)
    if opts.panel and opts.panel_mode == "restrict":
        candidate &= in_panel
    out["in_panel"] = in_panel
    out["is_candidate"] = candidate
    return out, candidates


def categories_of(scorers: dict[str, RankModel]) -> list[str]:
    return list(dict.fromkeys(c for model in scorers.values() for c in model.categories))


# Candidate-list columns for SVs -> the INFO keys of helgenom svmerge they show ('' for SNVs).
SV_EVIDENCE = {"sv_callers": "CALLERS", "sv_origin": "ORIGIN"}

_TABLE_COLUMNS = ["CHROM", "POS", "END", "REF", "ALT", "kind", "gene", "consequence", "impact",
                  *HGVS_COLUMNS, "af", "FILTER"]


def sort_codes(values: object, ascending: bool) -> np.ndarray:
    """What pandas' multi-key sort_values sorts by: the value's rank among the distinct values
    (Categorical codes), NA last in either direction."""
    codes = pd.Categorical(values, ordered=True).codes.astype(np.int64)
    n = int(codes.max(initial=-1)) + 1
    missing = codes == -1
    codes = np.where(missing, n, codes)
    return codes if ascending else np.where(missing, codes, n - codes - 1)


@dataclass
class CandidateList:
    """One family's candidate list: `order` holds its table rows, best first (the order
    `sort_values` gave the whole list); `frame` builds any slice of it."""

    family: Family
    table: pd.DataFrame
    gts: Genotypes
    result: pd.DataFrame
    opts: RankOptions
    categories: list[str]
    order: np.ndarray
    pheno: pd.DataFrame | None

    def __len__(self) -> int:
        return len(self.order)

    def clinical(self, rows: np.ndarray) -> dict[str, object]:
        """The clinical annotation columns of `rows` (NA where not annotated; counts and IDs
        as integers, though SV rows, which have none, made them floats in the table)."""
        out: dict[str, object] = {}
        for c in CLINICAL_COLUMNS:
            if c not in self.table:  # not annotated: '.' (as the TSV writes NA), made in Arrow
                out[c] = text_column(["."], np.zeros(len(rows), dtype=np.int64))
            elif c in CLINICAL_INTEGERS:
                values = pd.to_numeric(self.table[c].iloc[rows], errors="coerce")
                out[c] = values.round().astype("Int64").array
            else:
                out[c] = self.table[c].iloc[rows].to_numpy()
        return out

    def frame(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """Rows start..stop-1 of the candidate list (with their `rank`)."""
        rows = self.order[start:stop]
        sub = self.table[_TABLE_COLUMNS].iloc[rows]
        res = self.result[["models", "partners", "score", *self.categories, "score_normalized",
                           "gates", "in_panel"]].iloc[rows]
        out = pd.DataFrame({
            "rank": np.arange(start + 1, start + len(rows) + 1),
            "family": self.family.id, "chrom": sub["CHROM"], "pos": sub["POS"],
            "end": sub["END"], "ref": sub["REF"], "alt": sub["ALT"], "type": sub["kind"],
            "gene": sub["gene"], "consequence": sub["consequence"], "impact": sub["impact"],
            **{c: sub[c] for c in HGVS_COLUMNS}, "population_af": sub["af"],
            **self.clinical(rows),
            "models": res["models"], "compound_partners": res["partners"],
            "score": res["score"], **{f"score_{c}": res[c] for c in self.categories},
            "score_normalized": res["score_normalized"].round(4), "gates": res["gates"],
            "filter": sub["FILTER"], "in_panel": res["in_panel"],
        })
        if self.pheno is not None:
            pheno, genes = self.pheno, out["gene"]
            out["phenotype_score"] = genes.map(pheno["phenotype_score"]).fillna(0.0).round(4)
            out["matched_hpo"] = genes.map(pheno["matched_terms"]).fillna("")
            out["diseases"] = genes.map(pheno["diseases"]).fillna("")
            out["combined_score"] = np.round(combined_score(
                out["score_normalized"].to_numpy(dtype=float),
                out["phenotype_score"].to_numpy(dtype=float)), 4)
        else:
            out["combined_score"] = out["score_normalized"]
        if not self.opts.panel:
            out = out.drop(columns="in_panel")
        for column, key in SV_EVIDENCE.items():
            if key in self.table:
                values = self.table[key].iloc[rows].astype(object)
                out[column] = values.where(values.notna() & (values != "."), "").to_numpy()
            else:
                out[column] = ""
        gts = self.gts
        out["heteroplasmy"] = heteroplasmy_texts(self.family, self.table, gts, rows)
        for member in self.family.members:
            s = member.sample
            out[f"{s}_GT"] = genotype_strings(gts, s, rows)
            depth = gts.ref_depth[s][rows] + gts.alt_depth[s][rows]
            out[f"{s}_DP"] = pd.array(np.round(depth), dtype="Int64")
            with np.errstate(invalid="ignore", divide="ignore"):
                balance = np.where(depth > 0, gts.alt_depth[s][rows] / depth, np.nan)
            out[f"{s}_AB"] = np.round(balance, 3)
            out[f"{s}_GQ"] = pd.array(np.round(gts.gq[s][rows]), dtype="Int64")
        out["gates"] = out["gates"].replace("", "PASS")
        return out


def heteroplasmy_texts(family: Family, table: pd.DataFrame, gts: Genotypes, rows: np.ndarray
                       ) -> np.ndarray:
    """Per row: its heteroplasmy levels on chrM/MT, 'sample:level,...' for every member (ALT
    reads / ALT and REF reads, 3 decimals; '.' without reads), '' elsewhere."""
    out = np.full(len(rows), "", dtype=object)
    mito = np.flatnonzero(np.isin(table["CHROM"].to_numpy(dtype=object)[rows], MITO_CONTIGS))
    if not len(mito):
        return out
    parts = []
    for member in family.members:
        s = member.sample
        alt = gts.alt_depth[s][rows[mito]]
        depth = gts.ref_depth[s][rows[mito]] + alt
        with np.errstate(invalid="ignore", divide="ignore"):
            level = np.where(depth > 0, alt / depth, np.nan)
        parts.append([f"{s}:{'.' if np.isnan(v) else f'{round(v, 3):g}'}" for v in level])
    out[mito] = [",".join(cells) for cells in zip(*parts, strict=True)]
    return out


def candidate_list(family: Family, table: pd.DataFrame, gts: Genotypes, result: pd.DataFrame,
                   opts: RankOptions, categories: list[str]) -> CandidateList:
    """The candidates of one family in rank order: by combined score, score (both best first),
    severity, contig and position (panel genes first with --panel-mode boost)."""
    rows, keys, pheno = candidate_keys(family, table, result, opts)
    order = np.lexsort([sort_codes(values, ascending) for values, ascending in keys][::-1])
    return CandidateList(family, table, gts, result, opts, categories, rows[order], pheno)


def candidate_keys(family: Family, table: pd.DataFrame, result: pd.DataFrame,
                   opts: RankOptions) -> tuple[np.ndarray, list[tuple[object, bool]],
                                               pd.DataFrame | None]:
    """The candidate rows (ascending), the sort keys of the candidate list (values per
    candidate, ascending?; most significant first) and the phenotype scores (--hpo)."""
    rows = np.flatnonzero(result["is_candidate"].to_numpy())
    normalized = result["score_normalized"].iloc[rows].round(4).to_numpy(dtype=float)
    genes = table["gene"].iloc[rows]
    terms = opts.hpo.get(family.id, [])
    pheno = None
    combined = normalized
    if terms:
        pheno = gene_phenotype_scores(terms, sorted(set(genes) - {""}))
        phenotype = genes.map(pheno["phenotype_score"]).fillna(0.0).round(4)
        combined = np.round(combined_score(normalized, phenotype.to_numpy(dtype=float)), 4)
    keys: list[tuple[object, bool]] = [(combined, False), (result["score"].to_numpy()[rows], False),
            (table["severity"].to_numpy()[rows], True), (table["CHROM"].iloc[rows], True),
            (table["POS"].to_numpy()[rows], True)]
    if opts.panel and opts.panel_mode == "boost":
        keys.insert(0, (result["in_panel"].to_numpy()[rows], False))
    return rows, keys, pheno


def candidate_rows(family: Family, table: pd.DataFrame, gts: Genotypes, result: pd.DataFrame,
                   opts: RankOptions, categories: list[str]) -> pd.DataFrame:
    """The candidate list of one family as one table (best first)."""
    return candidate_list(family, table, gts, result, opts, categories).frame()


# Candidate rows formatted and written at a time when one family's list is streamed.
CANDIDATE_ROWS_PER_STEP = 1 << 18


def check_samples(families: dict[str, Family], header: VcfHeader, vcf: Path | str,
                   ped: Path | str) -> list[str]:
    """PED members absent from the VCF are errors; VCF samples outside the PED, warnings."""
    lines = ped_lines(ped)
    has = f"it has {', '.join(header.samples[:20])}{' ...' if len(header.samples) > 20 else ''}"
    problems = [
        Problem(str(ped), lines.get(member.sample, 0), "individual_id", member.sample,
                f"family {fam.id}: sample not in {vcf} "
                f"({has if header.samples else 'it has no samples'})")
        for fam in families.values() for member in fam.members
        if member.sample not in header.samples
    ]
    if problems:
        raise InputError(problems)
    if not any(fam.affected for fam in families.values()):
        raise InputError([Problem(str(ped), 0, "phenotype", "",
                                  "no family has an affected individual: nothing to rank")])
    known = {m.sample for fam in families.values() for m in fam.members}
    extra = [s for s in header.samples if s not in known]
    return [f"{vcf}: {len(extra)} sample(s) not in {ped} are ignored: {', '.join(extra[:10])}"
            ] if extra else []


def input_notes(vcf: Path | str, ped: Path | str, families: dict[str, Family],
                header: VcfHeader, scorers: dict[str, RankModel]) -> list[str]:
    """The input checks both ranking paths make (errors raised, warnings returned): samples
    against the PED, a gene annotation, the INFO keys the SNV rank model scores."""
    notes = check_samples(families, header, vcf, ped)
    if annotation_source(header) is None:
        notes.append(f"{vcf} has no gene annotation (BCSQ, CSQ, ANN or Annotation): "
                     "consequences are unknown and no compound heterozygotes can be formed")
    own = {"HGImpact", "GeneticModels", "HGQuality"}
    own |= {key for key, source in DERIVED_FROM.items() if source in header.info}
    own.add("most_severe_consequence")  # with gene models and the FASTA, helgenom's
    model = scorers["SNV"]
    if Path(model.path).resolve() == data_path("rank_model", "helgenom_snv_v2.ini").resolve():
        own |= OPTIONAL_IN_DEFAULT  # sources a site may not have configured: no warning
    absent = [key for key in model.info_keys() if key not in own | set(header.info) | {"CSQ"}]
    if "CSQ" in model.info_keys():
        fmt = input_csq_format(header) or list(CSQ_FORMAT)
        missing = list(dict.fromkeys(p.csq_key for p in model.plugins.values()
                                     if p.csq_key and p.csq_key not in fmt))
        if missing:
            notes.append(f"no CSQ column {', '.join(missing)} that the rank model "
                         f"{Path(model.path).name} scores (a VEP plugin's; declared empty in "
                         "helgenom's CSQ): every variant gets the not_reported score of each")
    if absent:
        notes.append(f"{vcf} has no INFO/{', INFO/'.join(absent)} that the rank model "
                     f"{Path(scorers['SNV'].path).name} scores: every variant gets the "
                     "not_reported score of each")
    return notes


def check_inputs(vcf: Path | str, ped: Path | str, families: dict[str, Family],
                 opts: RankOptions) -> None:
    """Every problem of the inputs that can be seen before they are read (the files, the
    options, the PED's samples against the VCF's), raised together as one InputError."""
    problems = vcf_problems(vcf)
    if not problems:
        try:
            check_samples(families, read_header(vcf), vcf, ped)
        except InputError as error:
            problems += error.problems
    if opts.sv:
        problems += vcf_problems(opts.sv, "--sv")
        if not opts.gff3:
            problems.append(Problem("--gff3", 0, None, None, "ranking SVs (--sv) needs gene "
                                    "models: --gff3 GENES.gff3"))
    if opts.gff3 and not Path(opts.gff3).is_file():
        problems.append(Problem(str(opts.gff3), 0, None, None, "file not found (--gff3)"))
    if opts.fasta and (problem := fasta_problem(opts.fasta)):
        problems.append(Problem(str(opts.fasta), 0, None, None, f"{problem} (--fasta)"))
    for path in opts.qc:
        try:
            qc_lines(path)
        except InputError as error:
            problems += error.problems
    if not 0 <= opts.max_af <= 1:  # NaN too
        problems.append(Problem("--max-af", 0, None, str(opts.max_af),
                                "must be a population allele frequency, 0 to 1"))
    gates = opts.gates
    for name in ("het_ab_min", "het_ab_max", "homref_max_alt_fraction",
                 "homalt_min_alt_fraction", "hemi_min_alt_fraction"):
        if not 0 <= getattr(gates, name) <= 1:
            problems.append(Problem(f"--{name.replace('_', '-')}", 0, None,
                                    str(getattr(gates, name)), "must be a fraction, 0 to 1"))
    for name in ("min_gq", "min_dp"):
        if not getattr(gates, name) >= 0:
            problems.append(Problem(f"--{name.replace('_', '-')}", 0, None,
                                    str(getattr(gates, name)), "must be 0 or more"))
    for family, terms in opts.hpo.items():
        value = f"{family}:{','.join(terms)}"
        if family not in families:
            problems.append(Problem("--hpo", 0, None, value,
                                    f"family {family} is not in {ped}"))
            continue
        try:
            validate_terms(terms)
        except (ValueError, ImportError) as error:
            problems.append(Problem("--hpo", 0, None, value, str(error)))
    if problems:
        raise InputError(problems)


def qc_lines(qc_json: Path | str) -> list[str]:
    """The `## QC: ...` lines that `helgenom qc` wrote into its JSON (`header_lines`), which
    head the candidate list."""
    try:
        document = json.loads(Path(qc_json).read_text())
        lines = document["header_lines"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError([Problem(str(qc_json), 0, "--qc", str(qc_json),
                                  f"not a helgenom qc JSON with header_lines ({error})")]
                         ) from error
    return [str(line) for line in lines]


def annotator(vcf: Path | str, header: VcfHeader, opts: RankOptions
              ) -> tuple[Annotator | None, list[str]]:
    """What HGVS and CSQ are computed from (None without --gff3): the GFF3's chosen
    transcripts and the reference FASTA (`opts.fasta`, else the one the VCF header's
    ##reference names); and warnings. The small variants' VCF gets a CSQ unless the input
    has its own (a VEP CSQ is kept; helgenom's is replaced)."""
    if not opts.gff3:
        return None, []
    notes = []
    fasta = opts.fasta or header_reference(header, vcf)
    problem = fasta_problem(fasta) if fasta else "none given, and the VCF header names none"
    if problem:
        notes.append(f"reference FASTA for HGVS ({fasta or 'no --fasta'}): {problem}: the "
                     "candidate list has no HGVS and the small variants' VCF no CSQ")
        fasta = None
    foreign = foreign_csq(header)
    if foreign and fasta:
        notes.append(f"{vcf} has its own INFO/CSQ: kept, helgenom's is not added")
    return Annotator(Transcripts.chosen(gene_set(opts.gff3)), fasta,
                     csq=bool(fasta) and not foreign, padding=csq_padding(opts)), notes


def csq_padding(opts: RankOptions) -> tuple[str, ...]:
    """The CSQ columns the rank models read that helgenom's CSQ does not fill."""
    paths = [opts.rank_model, *([opts.sv_rank_model] if opts.sv else [])]
    keys = [p.csq_key for path in paths for p in load_rank_model(path).plugins.values()
            if p.csq_key]
    return tuple(dict.fromkeys(k for k in keys if k not in CSQ_FORMAT))


def input_csq_format(header: VcfHeader) -> list[str] | None:
    """The Format columns of the input's own CSQ (VEP's), None if it has none or helgenom's."""
    for line in header.lines:
        if line.startswith("##INFO=<ID=CSQ,") and not is_own_csq(line):
            return csq_columns(line)
    return None


def foreign_csq(header: VcfHeader) -> bool:
    """The VCF has an INFO/CSQ that is not helgenom's (VEP's, say)."""
    return any(line.startswith("##INFO=<ID=CSQ,") and not is_own_csq(line)
               for line in header.lines)


# The default model's keys from optional annotation sources (absent: not reported, quietly).
OPTIONAL_IN_DEFAULT = {"GNOMADAF_grpmax", "SWEGENAF", "Frq", "HGClinVar", "CADD", "REVEL_score",
                       "HGSpliceAI"}
# helgenom rank's per-record INFO keys -> the input INFO key they are derived from.
DERIVED_FROM = {"HGClinVar": "CLNSIG", "HGSpliceAI": "SpliceAI"}
MOST_SEVERE_HEADER = ('##INFO=<ID=most_severe_consequence,Number=1,Type=String,Description='
                      '"Most severe consequence (SO term) on the listed gene (helgenom rank)">\n')


def row_info_of(header: VcfHeader, genes: Annotator | None) -> dict[str, str]:
    """The per-record INFO keys the small variants' ranked VCF gets, with their ##INFO lines:
    most_severe_consequence with helgenom's CSQ, HGClinVar and HGSpliceAI with ClinVar and
    SpliceAI annotation in the input."""
    out = {"most_severe_consequence": MOST_SEVERE_HEADER} if csq_header_of(genes) else {}
    lines = {line.split("ID=", 1)[1].split(",", 1)[0]: f"{line}\n"
             for line in derived_header().splitlines()}
    for key, source in DERIVED_FROM.items():
        if source in header.info:
            out[key] = lines[key]
    return out


def csq_header_of(annotator: Annotator | None) -> str | None:
    """The small variants' CSQ header line, if they get a CSQ."""
    return csq_header(annotator.padding) if annotator is not None and annotator.csq else None


def load_small_variants(vcf: Path | str, header: VcfHeader, samples: list[str],
                        opts: RankOptions, model_keys: list[str],
                        regions: list[str] | None = None,
                        text: Path | RecordText | None = None,
                        genes: Annotator | None = None,
                        ) -> tuple[pd.DataFrame, Genotypes]:
    """The small variants (of the contigs `regions`, default all; their text kept in `text`,
    see `read_variants`) with their gene annotation, and with `genes` (and its FASTA) their
    HGVS and CSQ."""
    source = annotation_source(header)
    clinical = clinical_keys(header)
    fields = list(dict.fromkeys([*annotation_fields(source), opts.af_tag, *model_keys,
                                 *clinical]))
    table, gts = read_variants(vcf, samples, fields, header, regions=regions, text=text)
    annotation = gene_annotation(table, source, header)
    if clinical:
        annotation = annotation.join(clinical_columns(table))
        # Derived here, not read (an input ranked before may have them).
        table = table.drop(columns=[c for c in annotation.columns if c in table])
    # The raw annotation (the largest column), QUAL and the clinical INFO are not read again
    # unless the rank model scores them.
    unused = [c for c in (source, "QUAL", *clinical)
              if c and c in table and c not in model_keys and c != opts.af_tag]
    table = table.drop(columns=unused).join(annotation)
    del annotation
    if genes is not None and genes.fasta:
        computed = genes.small_variants(table)
        # Computed here, not read (an input ranked before may have them).
        table = table.drop(columns=[c for c in computed.columns if c in table]).join(computed)
    else:
        table = table.join(empty_columns(table, source in ("CSQ", "ANN")))
    table["END"] = table["POS"] + table["REF"].str.len() - 1
    same_length = table["REF"].str.len() == table["ALT"].str.len()
    table["kind"] = text_column(["INDEL", "SNV"], same_length.to_numpy(dtype=np.int64))
    return table, gts


def load_structural_variants(vcf: Path | str, samples: list[str], opts: RankOptions,
                             model_keys: list[str], genes: Annotator | None = None
                             ) -> tuple[pd.DataFrame, Genotypes]:
    """The SVs with their gene effects, and (`genes`) their CSQ."""
    header = read_header(vcf)
    missing = [s for s in samples if s not in header.samples]
    if missing:
        raise InputError([Problem(str(vcf), 0, "sample", s, "PED sample not in the SV VCF")
                          for s in missing])
    # SV population frequency: INFO/SVAF (helgenom svmerge), else the small variants' tag.
    af_key = "SVAF" if "SVAF" in header.info else opts.af_tag
    # Which callers support each SV and where each child's SV came from (helgenom svmerge).
    evidence = [key for key in SV_EVIDENCE.values() if key in header.info]
    fields = list(dict.fromkeys(["SVTYPE", "END", af_key, *evidence, *model_keys]))
    table, gts = read_variants(vcf, samples, fields, header)
    table[opts.af_tag] = table[af_key]
    table["END"] = pd.to_numeric(table["END"], errors="coerce").fillna(table["POS"]).astype(int)
    if not opts.gff3:
        raise InputError([Problem(str(vcf), 0, "--gff3", "", "ranking SVs needs gene models")])
    effects = sv_gene_effects(table["CHROM"], table["POS"], table["END"], table["SVTYPE"],
                              gene_models(gene_set(opts.gff3)))
    table = table.join(effects)
    table = table.join(empty_columns(table, False))
    if genes is not None:
        table["csq"] = genes.structural_variants(table)
    table["severity"] = table["consequence"].map(severity)
    table["impact"] = table["consequence"].map(impact)
    table["kind"] = "SV"
    return table, gts


def rank_single_pass(vcf: Path | str, ped: Path | str, prefix: str, opts: RankOptions,
                     families: dict[str, Family], keep: bool
                     ) -> tuple[int, pd.DataFrame | None]:
    """Rank every family of `families` (read from `ped`) in one pass over `vcf`; write the
    outputs; the number of candidates and, with `keep`, the candidate list."""
    check_inputs(vcf, ped, families, opts)
    header = read_header(vcf)
    scorers = {"SNV": load_rank_model(opts.rank_model)}
    if opts.sv:
        scorers["SV"] = load_rank_model(opts.sv_rank_model)
    notes = input_notes(vcf, ped, families, header, scorers)
    genes, gene_notes = annotator(vcf, header, opts)
    notes += gene_notes
    opts.csq_format = input_csq_format(header)
    opts.csq_padding = genes.padding if genes is not None else ()
    samples = [m.sample for fam in families.values() for m in fam.members]
    parts = [load_small_variants(vcf, header, samples, opts, scorers["SNV"].info_keys(),
                                 genes=genes)]
    problems = order_problems(parts[0][0], vcf) + count_problems(len(parts[0][0]), vcf)
    if opts.sv:
        parts.append(load_structural_variants(opts.sv, samples, opts,
                                              scorers["SV"].info_keys(), genes))
        problems += order_problems(parts[1][0], opts.sv)
    if problems:
        raise InputError(problems)
    table, gts = concat_variants(parts)
    for tag, values in (("GQ", gts.gq), ("AD", gts.alt_depth)):
        if len(table) and all(np.isnan(v).all() for v in values.values()):
            notes.append(f"{vcf} has no FORMAT/{tag} values: the gates that need it are skipped")
    # chrX vs X: the sex chromosomes and PARs as this VCF names them.
    contigs = list(dict.fromkeys([*header.contigs, *table["CHROM"].unique()]))
    opts.chrx, opts.chry = match_contig(opts.chrx, contigs), match_contig(opts.chry, contigs)
    par = [Region.parse(p) for p in opts.par]
    par = [(match_contig(r.chrom, contigs), r.start, r.end) for r in par]
    table["af"] = pd.to_numeric(table[opts.af_tag], errors="coerce")
    classes = chromosome_classes(table["CHROM"], table["POS"], opts.chrx, opts.chry, par)
    model_gts, _ = hemizygous_over_deletions(table, gts, classes)
    results = {fam.id: rank_family(fam, table, gts, classes, opts, scorers, model_gts)
               for fam in families.values() if fam.affected}
    categories = categories_of(scorers)
    lists = [candidate_list(families[fam], table, gts, res, opts, categories)
             for fam, res in results.items()]
    candidates: pd.DataFrame | None = None
    if keep or len(lists) != 1:
        candidates = pd.concat([c.frame() for c in lists], ignore_index=True)
    count = sum(len(c) for c in lists)
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    with staged_outputs(prefix, opts.candidates_out) as stage:
        _write_outputs(stage, vcf, header, opts, table, results, categories,
                       candidates if candidates is not None else lists[0], genes)
        for note in stage.commit():
            print(f"note: {note}", file=sys.stderr)
    return count, candidates


def _write_outputs(stage: Staging, vcf: Path | str, header: VcfHeader, opts: RankOptions,
                   table: pd.DataFrame, results: dict[str, pd.DataFrame],
                   categories: list[str], candidates: pd.DataFrame | CandidateList,
                   genes: Annotator | None) -> None:
    """The single pass's outputs, staged: the ranked VCF(s) and the candidate list (a
    table, or one family's list, written a slice at a time)."""
    is_sv = (table["kind"] == "SV").to_numpy()
    csq = csq_header_of(genes)
    row_info = row_info_of(header, genes)
    if is_sv.any():
        write_vcf(vcf, table[~is_sv], {f: r[~is_sv] for f, r in results.items()},
                  stage.path(".vcf.gz"), header, categories, csq, row_info)
    else:
        write_vcf(vcf, table, results, stage.path(".vcf.gz"), header, categories, csq,
                  row_info)
    if opts.sv:
        write_sv_vcf(opts.sv, table[is_sv], {f: r[is_sv] for f, r in results.items()},
                     stage.path(".sv.vcf.gz"), categories, genes)
    with stage.path(".candidates.tsv").open("wb") as handle:
        # The QC verdict comes first: a clinician sees a failed family before any variant.
        for path in opts.qc:
            handle.writelines(f"{line}\n".encode() for line in qc_lines(path))
        if isinstance(candidates, pd.DataFrame):
            write_tsv(candidates, handle, na_rep=".")
        else:
            for start in range(0, max(len(candidates), 1), CANDIDATE_ROWS_PER_STEP):
                write_tsv(candidates.frame(start, start + CANDIDATE_ROWS_PER_STEP), handle,
                          na_rep=".", header=start == 0)


def write_sv_vcf(sv: str, table: pd.DataFrame, results: dict[str, pd.DataFrame], out: Path,
                 categories: list[str], genes: Annotator | None) -> None:
    """The ranked SV VCF, with a CSQ unless the SV VCF has one of its own."""
    header = read_header(sv)
    write_vcf(sv, table, results, out, header, categories,
              csq_header(genes.padding) if genes is not None and not foreign_csq(header)
              else None)


def parse_hpo(values: list[str]) -> dict[str, list[str]]:
    """['FAM:HP:0000001,HP:0000002', ...] -> {'FAM': ['HP:0000001', 'HP:0000002']}."""
    out: dict[str, list[str]] = {}
    for value in values:
        family, _, terms = value.partition(":")
        if not family or not terms.startswith("HP:"):
            raise InputError([Problem("--hpo", 0, "--hpo", value,
                                      "expected FAMILY:HP:0000001,HP:0000002")])
        out.setdefault(family, []).extend(t.strip() for t in terms.split(",") if t.strip())
    return out


def read_gene_list(path: str | None) -> frozenset[str]:
    """Gene symbols, one per line (first column; '#' comments and blank lines skipped)."""
    if not path:
        return frozenset()
    try:
        with open(path, encoding="utf-8") as handle:
            genes = frozenset(line.split()[0] for line in handle
                              if line.strip() and not line.startswith("#"))
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not a text file"
        raise InputError([Problem(path, 0, None, None, f"cannot read the gene list ({reason})")]
                         ) from error
    if not genes:
        raise InputError([Problem(path, 0, None, None, "no gene symbols in the gene list")])
    return genes

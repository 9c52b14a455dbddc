"""Gene-level effects of SVs from GFF3 gene models (whole gene, exons, intron, intergenic)."""

from __future__ import annotations

import pandas as pd
import pytest
from helgenom.errors import InputError
from helgenom.rank.genes import read_gene_models, sv_gene_effects

# GENE1 at 1,000-5,000 (exons 1,000-1,200 and 4,800-5,000); GENE2 at 8,000-9,000 (one exon).
GFF = (
    "##gff-version 3\n"
    "chr1\tx\tgene\t1000\t5000\t.\t+\t.\tID=gene:G1;Name=GENE1;biotype=protein_coding\n"
    "chr1\tx\tmRNA\t1000\t5000\t.\t+\t.\tID=transcript:T1;Parent=gene:G1\n"
    "chr1\tx\texon\t1000\t1200\t.\t+\t.\tParent=transcript:T1\n"
    "chr1\tx\texon\t4800\t5000\t.\t+\t.\tParent=transcript:T1\n"
    "chr1\tx\tgene\t8000\t9000\t.\t-\t.\tID=gene:G2;Name=GENE2;biotype=protein_coding\n"
    "chr1\tx\tmRNA\t8000\t9000\t.\t-\t.\tID=transcript:T2;Parent=gene:G2\n"
    "chr1\tx\texon\t8000\t9000\t.\t-\t.\tParent=transcript:T2\n"
)


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "genes.gff3"
    path.write_text(GFF)
    return read_gene_models(path)


@pytest.mark.parametrize(("start", "end", "svtype", "consequence", "gene", "genes"), [
    (900, 5100, "DEL", "transcript_ablation", "GENE1", ("GENE1",)),
    (900, 9100, "DEL", "transcript_ablation", "GENE1", ("GENE1", "GENE2")),  # both whole
    (1100, 2000, "DEL", "exon_loss", "GENE1", ("GENE1",)),
    (2000, 3000, "DEL", "intron", "GENE1", ("GENE1",)),
    (6000, 7000, "DEL", "intergenic", "", ()),
    (7500, 9500, "DUP", "transcript_amplification", "GENE2", ("GENE2",)),
    (2000, 4900, "DUP:TANDEM", "feature_elongation", "GENE1", ("GENE1",)),  # exon copied
    (4000, 8500, "INV", "feature_truncation", "GENE1", ("GENE1", "GENE2")),
])
def test_sv_effects(models, start, end, svtype, consequence, gene, genes):
    effects = sv_gene_effects(pd.Series(["chr1"]), pd.Series([start]), pd.Series([end]),
                              pd.Series([svtype]), models)
    row = effects.iloc[0]
    assert (row["consequence"], row["gene"], row["genes"]) == (consequence, gene, genes)


def test_contig_naming_is_matched(models):
    effects = sv_gene_effects(pd.Series(["1"]), pd.Series([900]), pd.Series([5100]),
                              pd.Series(["DEL"]), models)
    assert effects["consequence"].iloc[0] == "transcript_ablation"


def test_malformed_gff3_names_the_line(tmp_path):
    path = tmp_path / "bad.gff3"
    path.write_text(GFF + "chr1\tx\tgene\t1\t2\n")
    with pytest.raises(InputError) as error:
        read_gene_models(path)
    assert "bad.gff3" in str(error.value) and ":9" in str(error.value)

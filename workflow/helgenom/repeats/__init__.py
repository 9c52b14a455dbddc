"""Repeat expansions and SMN copy number: the readers and family calls behind `helgenom
repeats` and `helgenom smn`.

  catalog      an ExpansionHunter variant catalog (JSON, with Stranger's threshold keys):
               read, checked against the reference's contigs, or Stranger's bundled one
  checks       the start check of the `repeats:` config section (catalog, SMN contig)
  expansions   a Stranger-annotated ExpansionHunter VCF of a family: each repeat's alleles
               per member against its normal and pathogenic sizes, the family call (an
               expansion at or over the pathogenic size in an affected member that fits the
               disease's inheritance), the family's repeats table and its candidate rows
  smn          SMNCopyNumberCaller's TSV: every member's SMN1/SMN2 copy number, the family's
               SMN table (the caller's columns, which Scout reads, plus role and call)

Imports base, io and sheets only.
"""

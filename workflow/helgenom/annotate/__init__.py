"""Clinical annotation sources of the small variants (rule `annotate_snv`).

`sources` turns the config's `annotation` section into typed sources (ClinVar, gnomAD,
SweGen or another population VCF, CADD, REVEL, SpliceAI, any further VCF/TSV mapped in
`annotation.extra`, and the legacy `population_vcf` shorthand), each written under documented
INFO names. `checks` reads each configured file at start (bgzipped, indexed, the fields in its
header, contig naming and genome build against the reference FASTA). `engine` runs them on a
family's normalised calls with `bcftools annotate` (one `-a` per call, chained) and checks
the result before the output takes its name.
"""

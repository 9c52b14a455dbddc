"""helgenom freqdb: the GMC's own variant frequency database, loqusdb-compatible, embedded.

GMS sites keep each case's variants in loqusdb (Clinical-Genomics/loqusdb) so that local
polymorphisms and recurrent artefacts that gnomAD misses are recognised. This is the same
without a server: a directory of Parquet files behind a JSON manifest and a file lock
(helgenom.freqdb.store), loaded one family (case) at a time (load), read as loqusdb's VCF
export (export), several sites' exports summed (export.merge), and a family's VCF annotated
with the counts of every other case (annotate).

Modules: keys (variant keys and hashes), store (the directory, counting), load, profile
(the same individual under two cases), sv (SV clusters), export (export and merge),
annotate.
"""

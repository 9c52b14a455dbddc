"""The reference bundle: `helgenom resources` fetches the files a build needs from a manifest
(manifests/<build>.yaml, also resources/bundle/), checks and prepares them, and writes a site
overlay pointing at them.

manifest: the manifest (schema, pinning); fetch: HTTP downloads that resume, with size and
checksum checks, written atomically; state: the record of what is done; prepare: indexes,
contig names and the kept INFO fields; site: the overlay and its checks; plan: what a run
would do and the disk it needs (--dry-run).
"""

"""The database as a loqusdb-style VCF, and several such exports merged into one.

An export is what loqusdb's `export --freq` writes (Clinical-Genomics/loqusdb,
commands/export.py and utils/variant.py), which Scout, vcfanno and the Clinical Genomics rank
models read: no samples, no case IDs, only counts.

    ##fileformat=VCFv4.2
    ##NrCases=N
    ##INFO=<ID=Obs,Number=1,Type=Integer,Description="The number of observations for the variant">
    ##INFO=<ID=Hom,Number=1,Type=Integer,Description="The number of observed homozygotes">
    ##INFO=<ID=Hem,Number=1,Type=Integer,Description="The number of observed hemizygotes">
    ##INFO=<ID=Frq,Number=1,Type=Float,Description="Observation frequency of the variant ...">
    ##contig=<ID=chr1,length=248956422>  (every contig of the database, with its length)
    #CHROM POS ID REF ALT QUAL FILTER INFO
    chr1 10146 . AC A . . Obs=3;Hom=1;Frq=0.00300

Obs is the number of cases with the variant, Hom and Hem the cases with a homozygous or
hemizygous call (left out when 0, as loqusdb does), Frq = Obs / NrCases with 5 decimals.
Records are sorted by the database's contig order (the loaded VCFs' header order), then
POS; the file is bgzipped with a .tbi. An SV export (`--sv`) has one record per cluster:
POS and END the means of its SVs, REF N, ALT <SVTYPE> (a breakend N[chr:pos[ to another
contig), SVTYPE, END and SVLEN in INFO, as loqusdb's `--variant-type sv`. Differences from
loqusdb: the contig lines carry the contigs' lengths (loqusdb writes the largest position
seen), which is what `merge` compares; a `##reference=` line names the build when known.

`merge` sums several GMCs' exports: NrCases summed, Obs/Hom/Hem summed per variant (SV
clusters within the SV distance of each other joined), Frq recomputed. An input must be a
loqusdb-style export (##NrCases, INFO/Obs, no samples) with the first input's contigs and
lengths and, when both name one, its reference.
"""

from __future__ import annotations

import itertools
import re
import secrets
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helgenom import __version__
from helgenom.errors import InputError, Problem
from helgenom.freqdb import store
from helgenom.freqdb.keys import allele_codes, key_positions, strings, variant_keys
from helgenom.freqdb.load import read_query
from helgenom.freqdb.sv import cluster, cluster_counts
from helgenom.io.bgzf import BgzfWriter
from helgenom.io.tabix import (
    TBI_MAX_END,
    TBI_PSEUDO_BIN,
    ContigIndex,
    _pack_bins,
    contig_sections,
    index_vcf,
    virtual_offsets,
)
from helgenom.io.vcf import read_header

INFO_LINES = {
    "Obs": '##INFO=<ID=Obs,Number=1,Type=Integer,Description="The number of observations for '
           'the variant">',
    "Hom": '##INFO=<ID=Hom,Number=1,Type=Integer,Description="The number of observed '
           'homozygotes">',
    "Hem": '##INFO=<ID=Hem,Number=1,Type=Integer,Description="The number of observed '
           'hemizygotes">',
    "Frq": '##INFO=<ID=Frq,Number=1,Type=Float,Description="Observation frequency of the '
           'variant (not allele frequency)">',
}
SV_INFO_LINES = [
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the variant">',
    '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
    '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length of structural variant">',
]
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


@dataclass
class Written:
    path: Path
    records: int
    cases: int


# --------------------------------------------------------------------------- text


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.large_string())


def frq_text(obs: np.ndarray, cases: int) -> pa.Array:
    """Obs / cases with 5 decimals (as loqusdb formats it), formatted once per value."""
    unique, inverse = np.unique(obs, return_inverse=True)
    texts = pa.array([f"{int(o) / cases:.5f}" if cases else "0.00000" for o in unique],
                     pa.large_string())
    return texts.take(pa.array(inverse.reshape(-1)))


def info_text(obs: np.ndarray, hom: np.ndarray, hem: np.ndarray, cases: int) -> pa.Array:
    """'Obs=..[;Hom=..][;Hem=..];Frq=..' per row (Hom/Hem left out when 0)."""
    empty = pa.scalar("", pa.large_string())

    def optional(name: str, values: np.ndarray) -> pa.Array:
        text = pc.binary_join_element_wise(pa.scalar(f";{name}=", pa.large_string()),
                                           _text(values), empty)
        return pc.if_else(pa.array(values > 0), text, empty)

    return pc.binary_join_element_wise(
        pa.scalar("Obs=", pa.large_string()), _text(obs), optional("Hom", hom),
        optional("Hem", hem), pa.scalar(";Frq=", pa.large_string()), frq_text(obs, cases),
        empty)


def export_header(cases: int, contigs: list[tuple[str, int | None]], build: str | None,
                  sv: bool = False, source: str = "helgenom freqdb") -> str:
    lines = ["##fileformat=VCFv4.2", f"##NrCases={cases}",
             f"##source={source} {__version__}"]
    if build:
        lines.append(f"##reference={build}")
    lines += list(INFO_LINES.values())
    if sv:
        lines += SV_INFO_LINES
        lines.append('##INFO=<ID=CHR2,Number=1,Type=String,Description="Contig of the other '
                     'end of a breakend">')
    lines += [f"##contig=<ID={name}" + (f",length={length}>" if length else ">")
              for name, length in contigs]
    lines.append(COLUMNS)
    return "\n".join(lines) + "\n"


class RecordWriter:
    """Sites-only VCF records, contig by contig, to a BGZF file with its .tbi built here: each
    contig's records end a BGZF block, so its .tbi section is made (and its per-record
    positions dropped) as soon as it is written; memory holds one contig."""

    def __init__(self, out: Path, header: str) -> None:
        self.out = out
        self.tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
        self.handle = open(self.tmp, "wb")  # noqa: SIM115 (closed in finish/abort)
        self.sink = BgzfWriter(self.handle)
        head = header.encode()
        self.sink.write(head)
        self.sink.flush()
        self.written = len(head)  # uncompressed bytes so far
        self.sections = TbiSections(self.tmp.with_name(self.tmp.name + ".sections"))
        self.names: set[str] = set()
        self.records = 0
        self.beyond_tbi = False

    def add(self, chrom: str, pos: np.ndarray, ref: pa.Array, alt: pa.Array, info: pa.Array,
            end: np.ndarray | None = None) -> None:
        """The records of one contig (each contig once), sorted by POS; `end` (1-based,
        inclusive; for the index) defaults to POS + len(REF) - 1."""
        n = len(pos)
        if not n:
            return
        if chrom in self.names:
            raise ValueError(f"contig {chrom} written twice")
        self.names.add(chrom)
        empty = pa.scalar("", pa.large_string())
        dot = pa.scalar(".", pa.large_string())
        line = pc.binary_join_element_wise(
            pa.scalar(chrom, pa.large_string()), _text(pos), dot, strings(ref), strings(alt),
            dot, dot, strings(info), pa.scalar("\t", pa.large_string()))
        line = pc.binary_join_element_wise(line, pa.scalar("\n", pa.large_string()), empty)
        offsets = np.frombuffer(line.buffers()[1], dtype=np.int64)[
            line.offset:line.offset + n + 1]
        first_block = len(self.sink.addresses)
        self.sink.write(memoryview(line.buffers()[2])[offsets[0]:offsets[-1]])
        self.sink.flush()  # the contig ends a block: its offsets are known now
        starts = offsets - offsets[0] + self.written
        self.written += int(offsets[-1] - offsets[0])
        del line
        beg = pos.astype(np.int64) - 1
        if end is None:
            end = beg + np.maximum(pc.binary_length(strings(ref)).to_numpy(
                zero_copy_only=False), 1)
        end = np.maximum(end.astype(np.int64), beg + 1)
        self.beyond_tbi |= bool(int(end.max()) > TBI_MAX_END)
        if not self.beyond_tbi:
            addresses = np.array([*self.sink.addresses[first_block:], self.sink.address],
                                 dtype=np.int64)
            block_starts = np.array([*self.sink.starts[first_block:], self.sink.written],
                                    dtype=np.int64)
            voffset = virtual_offsets(starts, addresses, block_starts)
            for section in contig_sections([chrom], np.zeros(n, dtype=np.int64), beg, end,
                                           voffset[:-1], voffset[1:], int(voffset[0])):
                self.sections.add(section)
        self.records += n

    def finish(self) -> Path:
        """Close, index and move the file to its place (index first, then the file)."""
        self.sink.close()
        self.handle.close()
        if self.beyond_tbi:
            self.sections.close()
            index = index_vcf(self.tmp, csi=True)
        else:
            index = Path(f"{self.tmp}.tbi")
            self.sections.write(index)
        kind = index.suffix
        Path(f"{self.out}{'.csi' if kind == '.tbi' else '.tbi'}").unlink(missing_ok=True)
        index.replace(f"{self.out}{kind}")
        self.tmp.replace(self.out)
        return self.out

    def abort(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        self.sections.close()
        for path in (self.tmp, Path(f"{self.tmp}.tbi"), Path(f"{self.tmp}.csi")):
            path.unlink(missing_ok=True)


class TbiSections:
    """A .tbi written a contig at a time: each contig's section (helgenom.io.tabix.pack_tbi's
    layout) goes to a scratch file as it comes, the index is the names, then those bytes;
    memory holds one section (a 250-Gb genome's index is ~0.5 GB of sections)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.handle = open(scratch, "w+b")  # noqa: SIM115 (closed in write/close)
        self.names: list[str] = []

    def add(self, s: ContigIndex) -> None:
        self.names.append(s.name)
        for part in (struct.pack("<i", len(np.unique(s.bins)) + 1),
                     _pack_bins(s.bins, s.begin, s.end),
                     struct.pack("<IiQQQQ", TBI_PSEUDO_BIN, 2, s.first, s.last, s.records, 0),
                     struct.pack("<i", len(s.linear)), s.linear.astype("<u8").tobytes()):
            self.handle.write(part)

    def write(self, path: Path) -> None:
        """The .tbi (BGZF) at `path`; the scratch file is removed."""
        meta = b"".join(name.encode() + b"\0" for name in self.names)
        with open(path, "wb") as out:
            sink = BgzfWriter(out)
            sink.write(b"TBI\1" + struct.pack("<i7i", len(self.names), 2, 1, 2, 0, ord("#"), 0,
                                               len(meta)) + meta)
            self.handle.seek(0)
            while chunk := self.handle.read(1 << 22):
                sink.write(chunk)
            sink.write(struct.pack("<Q", 0))
            sink.close()
        self.close()

    def close(self) -> None:
        self.handle.close()
        self.scratch.unlink(missing_ok=True)


# --------------------------------------------------------------------------- export


def read_case_svs(db: Path, manifest: dict, exclude: str | None = None) -> pd.DataFrame:
    """Every case's SVs (contig names resolved), with a `case` column."""
    names = [c["name"] for c in manifest["contigs"]]
    frames = []
    for case, entry in sorted(manifest["cases"].items()):
        if case == exclude or not entry.get("svs"):
            continue
        table = store.read_table(db, entry["svs"]).to_pandas()
        table.insert(0, "case", case)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["case", "contig", "end_contig", "svtype", "pos", "end",
                                     "hom", "hem"])
    frame = pd.concat(frames, ignore_index=True)
    lookup = np.array(names, dtype=object)
    frame["contig"] = lookup[frame["contig"].to_numpy(np.int64)]
    frame["end_contig"] = lookup[frame["end_contig"].to_numpy(np.int64)]
    return frame


def write_sv_records(writer: RecordWriter, counts: pd.DataFrame, contig_order: list[str],
                     cases: int) -> None:
    """SV cluster records (columns contig, end_contig, svtype, pos, end, obs, hom, hem)."""
    if counts.empty:
        return
    order = {name: i for i, name in enumerate(contig_order)}
    frame = counts.assign(rank=counts["contig"].map(lambda c: order.get(c, len(order))))
    frame = frame.sort_values(["rank", "pos", "end", "svtype"], kind="stable")
    for contig, part in frame.groupby("contig", sort=False):
        pos = part["pos"].to_numpy(np.int64)
        end = part["end"].to_numpy(np.int64)
        same = (part["end_contig"] == contig).to_numpy()
        svtype = part["svtype"].astype(str).to_numpy()
        alt = np.where(same, "<" + svtype + ">",
                       "N[" + part["end_contig"].astype(str).to_numpy() + ":"
                       + end.astype(str) + "[")
        counts_text = info_text(part["obs"].to_numpy(np.int64), part["hom"].to_numpy(np.int64),
                                part["hem"].to_numpy(np.int64), cases).to_pylist()
        info = [f"{base};SVTYPE={t};END={e};SVLEN={e - p}" if s else
                f"{base};SVTYPE={t};CHR2={c2}"
                for base, t, e, p, s, c2 in zip(counts_text, svtype, end, pos, same,
                                                part["end_contig"], strict=True)]
        writer.add(str(contig), pos, pa.array(["N"] * len(pos), pa.large_string()),
                   pa.array(alt.tolist(), pa.large_string()),
                   pa.array(info, pa.large_string()), end=np.where(same, end, pos))


def export(db: Path | str, out: Path | str, sv: bool = False) -> Written:
    """Write the database's counts (small variants, or SV clusters with `sv`)."""
    db, out = Path(db), Path(out)
    with store.locked(db, exclusive=False):
        manifest = store.read_manifest(db)
        cases = len(manifest["cases"])
        contigs = [(c["name"], c["length"]) for c in manifest["contigs"]]
        writer = RecordWriter(out, export_header(cases, contigs, manifest["build"], sv))
        try:
            if sv:
                clustered = cluster(read_case_svs(db, manifest), manifest["sv_distance"] or 500)
                write_sv_records(writer, cluster_counts(clustered), [c[0] for c in contigs],
                                 cases)
            else:
                loaded: tuple[str, pa.Table] | None = None
                for index, contig in enumerate(manifest["contigs"]):
                    shard = manifest["shards"].get(contig["shard"])
                    if shard is None:
                        continue
                    if loaded is None or loaded[0] != contig["shard"]:
                        loaded = (contig["shard"], store.read_table(db, shard))
                    table = loaded[1]
                    lo, hi = np.searchsorted(table["contig"].to_numpy(), [index, index + 1])
                    if lo == hi:
                        continue
                    part = table.slice(lo, hi - lo)
                    _add_counts(writer, contig["name"], part, cases)
            path = writer.finish()
        except BaseException:
            writer.abort()
            raise
    return Written(path, writer.records, cases)


def _add_counts(writer: RecordWriter, contig: str, part: pa.Table, cases: int) -> None:
    """The records of a contig's counts (key, ref, alt, obs, hom, hem) to `writer`."""
    writer.add(contig, key_positions(part["key"].to_numpy()), part["ref"], part["alt"],
               info_text(*(part[c].to_numpy().astype(np.int64) for c in ("obs", "hom", "hem")),
                         cases))


# --------------------------------------------------------------------------- merge


_CONTIG = re.compile(r"^##contig=<(.*)>$")


def _contig_lines(lines: list[str]) -> list[tuple[str, str | None]]:
    out = []
    for line in lines:
        match = _CONTIG.match(line)
        if match:
            fields = dict(re.findall(r"(\w+)=([^,]+)", match.group(1)))
            out.append((fields.get("ID", ""), fields.get("length")))
    return out


def _meta(lines: list[str], key: str) -> str | None:
    for line in lines:
        if line.startswith(f"##{key}="):
            return line.split("=", 1)[1].strip()
    return None


@dataclass
class _Input:
    path: Path
    cases: int
    contigs: list[tuple[str, str | None]]
    reference: str | None
    tags: list[str]


def _check_input(path: Path, first: _Input | None) -> _Input:
    source = str(path)
    if not path.is_file():
        raise InputError([Problem(source, None, None, None, "file not found")])
    header = read_header(path)
    nr = _meta(header.lines, "NrCases")
    if nr is None:
        raise InputError([Problem(source, None, "##NrCases", None, "not a loqusdb-style "
                                  "export: its header has no ##NrCases line")])
    if not re.fullmatch(r"\d+", nr):
        raise InputError([Problem(source, None, "##NrCases", nr, "must be a whole number")])
    if "Obs" not in header.info:
        raise InputError([Problem(source, None, "INFO", "Obs", "not a loqusdb-style export: "
                                  "its header declares no INFO/Obs")])
    if header.samples:
        raise InputError([Problem(source, None, "#CHROM", ",".join(header.samples[:3]),
                                  "an export holds no samples: this VCF has sample columns")])
    found = _Input(path, int(nr), _contig_lines(header.lines), _meta(header.lines, "reference"),
                   [t for t in ("Hom", "Hem", "SVTYPE", "END", "CHR2") if t in header.info])
    if first is not None:
        if found.contigs != first.contigs:
            mine, theirs = dict(found.contigs), dict(first.contigs)
            differing = [f"{name} length={mine.get(name)}" for name in mine
                         if mine.get(name) != theirs.get(name, "absent")]
            differing += [f"{name} absent" for name in theirs if name not in mine]
            raise InputError([Problem(source, None, "##contig", "; ".join(differing[:3]) or
                                      "order", f"the contigs differ from those of "
                                      f"{first.path} (another reference build?)")])
        if found.reference and first.reference and found.reference != first.reference:
            raise InputError([Problem(source, None, "##reference", found.reference,
                                      f"another reference than {first.path}'s "
                                      f"({first.reference})")])
    return found


def _records(item: _Input) -> pa.Table:
    tags = ["Obs", *item.tags]
    fmt = "\t".join(["%CHROM", "%POS", "%REF", "%ALT", *(f"%INFO/{t}" for t in tags)]) + "\n"
    proc = subprocess.Popen(["bcftools", "query", "-f", fmt, str(item.path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        table = read_query(proc.stdout, ["CHROM", "POS", "REF", "ALT", *tags],
                           integers=("POS", "Obs", "Hom", "Hem", "END"))
    except pa.ArrowInvalid as error:
        proc.kill()
        raise InputError([Problem(str(item.path), None, "INFO", None,
                                  f"Obs/Hom/Hem must be whole numbers: {error}")]) from error
    errors = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise InputError([Problem(str(item.path), None, None, None, "bcftools cannot read it: "
                                  + " ".join(errors.strip().splitlines()[-1:]))])
    missing = pc.is_null(table["Obs"])
    if pc.any(missing).as_py():
        row = pc.index(missing, True).as_py()
        raise InputError([Problem(str(item.path), None, "INFO/Obs",
                                  f"{table['CHROM'][row]}:{table['POS'][row]}",
                                  "a record without Obs")])
    return table


def merge(out: Path | str, inputs: list[Path | str], sv_distance: int = 500) -> Written:
    """Sum several loqusdb-style exports into `out` (see the module doc): small-variant
    exports, or SV exports (their clusters joined within `sv_distance`)."""
    out = Path(out)
    if not inputs:
        raise InputError([Problem("merge", None, None, None, "give the exports to merge")])
    checked: list[_Input] = []
    for path in inputs:
        checked.append(_check_input(Path(path), checked[0] if checked else None))
    first = checked[0]
    sv = "SVTYPE" in first.tags
    for item in checked[1:]:
        if ("SVTYPE" in item.tags) != sv:
            raise InputError([Problem(str(item.path), None, "INFO", "SVTYPE",
                                      f"{'an SV' if 'SVTYPE' in item.tags else 'a small-variant'}"
                                      f" export, but {first.path} is "
                                      f"{'an SV' if sv else 'a small-variant'} export")])
    names = [name for name, _ in first.contigs]
    index = {name: i for i, name in enumerate(names)}
    cases = sum(item.cases for item in checked)
    small: list[tuple[pa.Table, int]] = []
    svs: list[pd.DataFrame] = []
    for item in checked:
        table = _records(item)
        chrom = strings(table["CHROM"])
        for name in pc.unique(chrom).to_pylist():
            if name not in index:
                index[name] = len(names)
                names.append(name)
        contig = np.array([index[c] for c in chrom.to_pylist()], dtype=np.uint32)
        alt = strings(pc.fill_null(table["ALT"], "."))

        def column(name: str, table: pa.Table = table) -> np.ndarray:
            if name not in table.column_names:
                return np.zeros(table.num_rows, dtype=np.int64)
            return pc.fill_null(table[name], 0).to_numpy().astype(np.int64)

        pos = table["POS"].to_numpy()
        if not sv:
            ref = strings(pc.fill_null(table["REF"], "."))
            small.append((pa.table({
                "contig": pa.array(contig, pa.uint32()),
                "key": pa.array(variant_keys(pos, allele_codes(ref, alt)), pa.uint64()),
                "ref": ref, "alt": alt,
                **{c: pa.array(column(c.capitalize()), pa.uint32())
                   for c in ("obs", "hom", "hem")}}), 1))
            continue
        alts = alt.to_pylist()
        mates = [re.search(r"[\[\]]([^\[\]:]+):(\d+)[\[\]]", a) for a in alts]
        svtype = (table["SVTYPE"].to_pylist() if "SVTYPE" in table.column_names
                  else [None] * table.num_rows)
        ends = column("END")
        svs.append(pd.DataFrame({
            "case": str(item.path),
            "contig": [names[c] for c in contig],
            "end_contig": [m.group(1) if m else names[c]
                           for m, c in zip(mates, contig, strict=True)],
            "svtype": [t or a.strip("<>") for t, a in zip(svtype, alts, strict=True)],
            "pos": pos,
            "end": [int(m.group(2)) if m else int(e) or int(p)
                    for m, e, p in zip(mates, ends, pos, strict=True)],
            "obs": column("Obs"), "hom": column("Hom"), "hem": column("Hem")}))
    contigs = [(name, int(length) if length else None) for name, length in first.contigs]
    contigs += [(name, None) for name in names[len(first.contigs):]]
    writer = RecordWriter(out, export_header(cases, contigs, first.reference, sv,
                                             source="helgenom freqdb merge"))
    try:
        if sv:
            frame = pd.concat(svs, ignore_index=True)
            clustered = cluster(frame, sv_distance)
            summed = clustered.groupby("cluster", sort=True).agg(
                contig=("contig", "first"), end_contig=("end_contig", "first"),
                svtype=("svtype", "first"), pos=("pos", "mean"), end=("end", "mean"),
                obs=("obs", "sum"), hom=("hom", "sum"), hem=("hem", "sum")).reset_index()
            summed["pos"] = summed["pos"].round().astype(np.int64)
            summed["end"] = summed["end"].round().astype(np.int64)
            write_sv_records(writer, summed, names, cases)
        else:
            counts = store.combine(small, what="merge")
            contig = counts["contig"].to_numpy()
            bounds = (np.flatnonzero(np.r_[True, contig[1:] != contig[:-1], True])
                      if len(contig) else np.zeros(1, dtype=np.int64))
            for a, b in itertools.pairwise(bounds):
                part = counts.slice(a, b - a)
                _add_counts(writer, names[int(contig[a])], part, cases)
        path = writer.finish()
    except BaseException:
        writer.abort()
        raise
    return Written(path, writer.records, cases)

"""Build units.tsv and a samples.tsv template from a folder of Illumina (bcl2fastq/BCL Convert)
FASTQs named `{sample}_S{n}_L{lane}_R{1,2}_001.fastq.gz`.

The unit of a file pair is `{flowcell}-L{lane}`, read from the first read header (Casava 1.8:
`@instrument:run:flowcell:lane:tile:x:y read:filtered:control:index`). Every problem of the
folder (missing mates, lanes that disagree, invalid sample names, duplicate units) is collected
and raised as one InputError; nothing is written unless the folder is clean.

The samples.tsv template leaves family, sex and phenotype empty (and gmc unless --gmc): empty
cells fail `helgenom validate` until the facility fills them, whereas `unknown` is a valid value
that would let a run start with unknown sexes (wrong chrX/chrY ploidy) and no proband.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from helgenom import ID_PATTERN, __version__
from helgenom.errors import InputError, Problem

FASTQ_NAME = re.compile(
    r"^(?P<sample>.+)_S(?P<number>\d+)_L(?P<lane>\d{3})_(?P<read>[RI][1-4])_001\.fastq\.gz$")
# Casava 1.8 read header; an optional 8th field of the read name holds a UMI.
CASAVA = re.compile(r"^@(?P<instrument>[^:\s]+):(?P<run>\d+):(?P<flowcell>[^:\s]+):(?P<lane>\d+)"
                    r":\d+:-?\d+:-?\d+(?::\S+)?\s+(?P<read>\d+):[YN]:\d+:\S*")
SAMPLES_HEADER = "family\tsample\tsex\tphenotype\tfather\tmother\tgmc\thpo"
SKIPPED_SAMPLES = ("Undetermined",)


@dataclass(frozen=True)
class Header:
    instrument: str
    run: str
    flowcell: str
    lane: int
    read: int


@dataclass(frozen=True)
class FastqPair:
    """The R1/R2 files of one sample on one lane of one flowcell."""

    sample: str
    number: int  # the S number of the file name
    fq1: Path
    fq2: Path
    instrument: str
    flowcell: str
    lane: int

    @property
    def unit(self) -> str:
        return f"{self.flowcell}-L{self.lane:03d}"


def read_header(path: Path) -> Header:
    """The first read header of a gzipped FASTQ; ValueError saying what is wrong."""
    try:
        with gzip.open(path, "rt", encoding="ascii", errors="replace") as handle:
            line = handle.readline().rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"cannot read the first read as gzip ({exc}); is the file complete "
                         "and gzipped?") from None
    if not line:
        raise ValueError("empty FASTQ (no reads)")
    match = CASAVA.match(line)
    if not match:
        shown = line if len(line) <= 80 else line[:77] + "..."
        raise ValueError(f"first read header '{shown}' is not in Casava 1.8 form "
                         "'@instrument:run:flowcell:lane:tile:x:y read:filtered:control:index'")
    return Header(match["instrument"], match["run"], match["flowcell"], int(match["lane"]),
                  int(match["read"]))


def suggest_id(name: str, number: int) -> str:
    """A valid ID close to `name`: other characters become '-', leading '-'/'_' are dropped."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).lstrip("-_").rstrip("-") or f"S{number}"


def _fastq_files(directory: Path) -> list[Path]:
    found = [Path(root) / name for root, dirs, names in os.walk(directory, followlinks=True)
             for name in names if name.endswith((".fastq.gz", ".fq.gz"))]
    return sorted(found)


def scan_fastq_dir(directory: Path | str) -> tuple[list[FastqPair], list[Problem], list[str]]:
    """File pairs of a folder (recursive), its problems, and notes on files skipped on purpose
    (Undetermined reads, index reads I1/I2). Pairs are sorted by S number, sample, unit."""
    directory = Path(directory)
    if not directory.is_dir():
        return [], [Problem(str(directory), None, None, None, "not a folder")], []
    problems: list[Problem] = []
    notes: list[str] = []
    mates: dict[tuple[Path, str, int, int], dict[str, Path]] = defaultdict(dict)
    for path in _fastq_files(directory):
        match = FASTQ_NAME.match(path.name)
        if re.search(r"[\t\n\r]", str(path)):
            problems.append(Problem(repr(str(path)), None, None, None, "tab or line break in "
                                    "the path; a sheet cannot hold it: rename the file"))
        elif not match:
            problems.append(Problem(str(path), None, None, None, "not named like an Illumina "
                                    "FASTQ {sample}_S{n}_L{lane}_R{1,2}_001.fastq.gz; rename "
                                    "it or move it out of the folder"))
        elif match["sample"] in SKIPPED_SAMPLES or match["read"][0] == "I":
            what = "index reads" if match["read"][0] == "I" else "reads of no sample"
            notes.append(f"skipped {path} ({what})")
        elif match["read"] not in ("R1", "R2"):
            problems.append(Problem(str(path), None, None, None, f"read {match['read']}: only "
                                    "R1 and R2 are expected (UMI reads? demultiplex them into "
                                    "R1/R2 and the read names)"))
        else:
            key = (path.parent, match["sample"], int(match["number"]), int(match["lane"]))
            mates[key][match["read"]] = path
    pairs: list[FastqPair] = []
    for (parent, sample, number, lane), files in mates.items():
        for read, other in (("R1", "R2"), ("R2", "R1")):
            if read in files and other not in files:
                expected = parent / files[read].name.replace(f"_{read}_001.", f"_{other}_001.")
                problems.append(Problem(str(files[read]), None, None, None,
                                        f"no {other} mate: expected {expected}"))
        if len(files) < 2:
            continue
        headers: dict[str, Header] = {}
        for read, path in files.items():
            try:
                headers[read] = read_header(path)
            except ValueError as exc:
                problems.append(Problem(str(path), 1, None, None, str(exc)))
        found = [(read, h) for read, h in headers.items() if h.lane != lane]
        problems += [Problem(str(files[read]), 1, None, None, f"the read header says lane "
                             f"{h.lane} but the file name says L{lane:03d}") for read, h in found]
        if len(headers) < 2 or found:
            continue
        h1, h2 = headers["R1"], headers["R2"]
        if (h1.instrument, h1.flowcell, h1.lane) != (h2.instrument, h2.flowcell, h2.lane):
            problems.append(Problem(str(files["R1"]), 1, None, None, (
                f"R1 and R2 are not mates: R1 is from instrument {h1.instrument} flowcell "
                f"{h1.flowcell} lane {h1.lane}, its R2 {files['R2']} from instrument "
                f"{h2.instrument} flowcell {h2.flowcell} lane {h2.lane}")))
        elif h1.read == h2.read:
            problems.append(Problem(str(files["R2"]), 1, None, None, (
                f"its reads are read {h2.read} like those of {files['R1']}; is it a copy of R1?")))
        else:
            pairs.append(FastqPair(sample, number, files["R1"], files["R2"], h1.instrument,
                                   h1.flowcell, lane))
    seen: dict[tuple[str, str], FastqPair] = {}
    named: set[str] = set()
    for pair in sorted(pairs, key=lambda p: str(p.fq1)):
        if not re.fullmatch(ID_PATTERN, pair.unit):
            problems.append(Problem(str(pair.fq1), 1, None, pair.unit, "flowcell ID does not "
                                    "make a valid unit ID (letters, digits, '_' and '-')"))
        first = seen.setdefault((pair.sample, pair.unit), pair)
        if first is not pair:
            problems.append(Problem(str(pair.fq1), None, None, None, (
                f"duplicate unit {pair.unit}: sample '{pair.sample}' on flowcell {pair.flowcell} "
                f"lane {pair.lane} is also in {first.fq1}; keep one copy of the files")))
    for (_, sample, number, _), files in sorted(mates.items(), key=lambda kv: str(kv[0])):
        if not re.fullmatch(ID_PATTERN, sample) and sample not in named:
            named.add(sample)
            problems.append(Problem(str(min(files.values())), None, None, sample, (
                "invalid sample name: IDs are letters, digits, '_' and '-', starting with a "
                f"letter or digit; rename the sample (e.g. '{suggest_id(sample, number)}') "
                "in the Illumina sample sheet and demultiplex again, or rename its files")))
    if not mates and not problems:
        problems.append(Problem(str(directory), None, None, None, "no *_R1_001.fastq.gz / "
                                "*_R2_001.fastq.gz files in the folder or its subfolders"))
    first_number = {}
    for pair in pairs:
        first_number[pair.sample] = min(first_number.get(pair.sample, pair.number), pair.number)
    pairs.sort(key=lambda p: (first_number[p.sample], p.sample, p.flowcell, p.lane))
    return pairs, problems, notes


def units_tsv(pairs: list[FastqPair], source: str = "") -> str:
    instruments = sorted({p.instrument for p in pairs})
    flowcells = sorted({p.flowcell for p in pairs})
    return "".join([
        f"# helgenom samplesheet {__version__}{' from ' + source if source else ''}: "
        f"instruments {', '.join(instruments)}; flowcells {', '.join(flowcells)}\n",
        "sample\tunit\tfq1\tfq2\n",
        *(f"{p.sample}\t{p.unit}\t{os.path.abspath(p.fq1)}\t{os.path.abspath(p.fq2)}\n"
          for p in pairs)])


def samples_tsv(samples: list[str], family: str = "", gmc: str = "") -> str:
    """A template: one row per sample; family (unless given), sex and phenotype are empty so
    that validation fails until they are filled; father, mother and hpo may stay empty."""
    return "".join([
        "# helgenom samplesheet template: fill family, sex (male/female/unknown), phenotype "
        "(affected/unaffected/unknown), father, mother, gmc and hpo; then `helgenom validate`\n",
        SAMPLES_HEADER + "\n",
        *(f"{family}\t{sample}\t\t\t\t\t{gmc}\t\n" for sample in samples)])


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build_sheets(
    fastq_dir: Path | str,
    units_out: Path | str,
    samples_out: Path | str | None,
    family: str | None = None,
    gmc: str | None = None,
    force: bool = False,
) -> tuple[list[FastqPair], list[str]]:
    """Scan `fastq_dir`, write units.tsv (absolute FASTQ paths, symlinks kept) and, unless
    `samples_out` is None, the samples.tsv template. Returns the pairs and the notes of skipped
    files; InputError with every problem (then nothing is written)."""
    pairs, problems, notes = scan_fastq_dir(fastq_dir)
    outputs = [Path(units_out), *([Path(samples_out)] if samples_out else [])]
    for option, value in (("--family", family), ("--gmc", gmc)):
        if value is not None and not re.fullmatch(ID_PATTERN, value):
            problems.append(Problem(option, None, None, value, "must be an ID of letters, "
                                    "digits, '_' and '-', starting with a letter or digit"))
    if len(outputs) == 2 and outputs[0].resolve() == outputs[1].resolve():
        problems.append(Problem(str(outputs[0]), None, None, None, "units and samples outputs "
                                "are the same file"))
    problems += [Problem(str(p), None, None, None, "already exists; use --force to overwrite")
                 for p in outputs if p.exists() and not force]
    if problems:
        raise InputError(problems)
    _write(outputs[0], units_tsv(pairs, str(fastq_dir)))
    if samples_out:
        samples = list(dict.fromkeys(p.sample for p in pairs))
        _write(outputs[1], samples_tsv(samples, family or "", gmc or ""))
    return pairs, notes

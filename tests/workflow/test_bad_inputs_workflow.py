"""Bad inputs that only show once jobs run: they end in a clear error, never a hang or a PASS.

Each case breaks a copy of the small demo (0.3 Mb, 3x) and runs the real workflow up to the
step concerned.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from helpers import WORKFLOW_TOOLS, need_tools, snakemake

pytestmark = pytest.mark.e2e
SAMPLE, UNIT = "demo-proband", "L002"
CHECK = f"qc/fastq/{SAMPLE}/{UNIT}.check.json"
ALIGNMENT = f"results/alignment/{SAMPLE}.bam"


@pytest.fixture
def demo(small_demo: Path, tmp_path: Path) -> Path:
    need_tools(*WORKFLOW_TOOLS)
    workdir = tmp_path / "demo"
    shutil.copytree(small_demo, workdir)
    return workdir


def move_unit(workdir: Path, folder: str) -> tuple[Path, Path]:
    """The proband's L002 FASTQs moved to `folder`; units.tsv updated. The new paths."""
    units = workdir / "units.tsv"
    rows = units.read_text().splitlines()
    moved = []
    for number, row in enumerate(rows):
        fields = row.split("\t")
        if fields[:2] == [SAMPLE, UNIT]:
            for column in (2, 3):
                source = workdir / fields[column]
                target = workdir / folder / source.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)
                fields[column] = str(target.relative_to(workdir))
                moved.append(target)
            rows[number] = "\t".join(fields)
    units.write_text("\n".join(rows) + "\n")
    return moved[0], moved[1]


def test_a_fastq_path_with_a_space_is_aligned(demo: Path) -> None:
    """The path reaches fastp quoted (before, fastp read the folder name and spun forever)."""
    move_unit(demo, "run 2 fastq")
    result = snakemake(demo, "--cores", "2", CHECK, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '"read_pairs"' in (demo / CHECK).read_text()


def test_a_truncated_fastq_fails_its_unit_and_names_the_file(demo: Path) -> None:
    """fastp exits 0 on it; the unit's check fails, the sample's alignment is not made."""
    _, fq2 = move_unit(demo, "fastq")
    data = fq2.read_bytes()
    fq2.write_bytes(data[:len(data) // 2])
    result = snakemake(demo, "--cores", "2", ALIGNMENT, timeout=600)
    assert result.returncode != 0
    log = (demo / f"logs/fastq_check/{SAMPLE}/{UNIT}.log").read_text()
    assert str(fq2) in log and "truncated" in log, log
    assert "Traceback" not in log
    assert not (demo / CHECK).exists() and not (demo / ALIGNMENT).exists()


def test_r2_with_fewer_reads_than_r1_fails_its_unit(demo: Path) -> None:
    _, fq2 = move_unit(demo, "fastq")
    with gzip.open(fq2, "rt") as handle:
        lines = handle.readlines()
    with gzip.open(fq2, "wt") as handle:
        handle.writelines(lines[:len(lines) // 8 * 4])
    result = snakemake(demo, "--cores", "2", ALIGNMENT, timeout=600)
    assert result.returncode != 0
    log = (demo / f"logs/fastq_check/{SAMPLE}/{UNIT}.log").read_text()
    assert str(fq2) in log and "but its R1" in log, log
    assert not (demo / ALIGNMENT).exists()


def test_annotation_leaves_nothing_that_blocks_a_rerun(demo: Path) -> None:
    """What a killed or failed attempt leaves (the normalised BCF and its index) does not
    stop the next attempt, and a finished job leaves neither behind."""
    target = "annotation/DEMO.snv.vcf.gz"
    (demo / "annotation").mkdir()
    (demo / "annotation/DEMO.norm.bcf").write_bytes(b"left by a killed attempt")
    (demo / "annotation/DEMO.norm.bcf.csi").write_bytes(b"stale")
    result = snakemake(demo, "--cores", "2", target, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (demo / target).is_file() and (demo / f"{target}.tbi").is_file()
    assert not (demo / "annotation/DEMO.norm.bcf").exists()
    assert not (demo / "annotation/DEMO.norm.bcf.csi").exists()

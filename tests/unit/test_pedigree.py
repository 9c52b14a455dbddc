"""Families, pedigree checks and PED files."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from helgenom.errors import InputError
from helgenom.sheets.pedigree import Family, Individual, check_families, read_ped, write_ped
from helgenom.sheets.samplesheet import load_samples

SHEETS = Path(__file__).resolve().parents[1] / "data" / "sheets"

CHILD = Individual("FAM1", "P1", "female", "affected", "F1", "M1")
FATHER = Individual("FAM1", "F1", "male", "unaffected", None, None)
MOTHER = Individual("FAM1", "M1", "female", "unknown", None, None)
TRIO = Family("FAM1", [CHILD, FATHER, MOTHER])


def test_family_accessors() -> None:
    assert TRIO.affected == [CHILD]
    assert TRIO.unaffected == [FATHER]
    assert TRIO.by_id["M1"] is MOTHER
    assert TRIO.parents("P1") == (FATHER, MOTHER)
    assert TRIO.parents("F1") == (None, None)
    assert TRIO.children("F1") == [CHILD]
    assert TRIO.children("P1") == []


def test_ped_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out" / "FAM1.ped"
    write_ped(TRIO, path)
    assert path.read_text().splitlines()[0] == (
        "#family_id\tindividual_id\tpaternal_id\tmaternal_id\tsex\tphenotype")
    assert read_ped(path) == {"FAM1": TRIO}


def test_ped_from_samples_sheet_has_plink_codes(tmp_path: Path) -> None:
    samples, problems = load_samples(SHEETS / "multi.samples.tsv")
    assert problems == []
    fam2 = Family("FAM2", [s for s in samples if s.family == "FAM2"])
    write_ped(fam2, tmp_path / "FAM2.ped")
    assert (tmp_path / "FAM2.ped").read_text().splitlines()[1:] == [
        "FAM2\tP2\tF2\t0\t1\t2", "FAM2\tS2\tF2\t0\t2\t1", "FAM2\tF2\t0\t0\t1\t2"]
    write_ped(Family("FAM3", [s for s in samples if s.family == "FAM3"]), tmp_path / "FAM3.ped")
    assert (tmp_path / "FAM3.ped").read_text().splitlines()[1] == "FAM3\tP3\t0\t0\t0\t0"


def test_read_ped_is_tolerant(tmp_path: Path) -> None:
    """Spaces, no header, comments, extra columns, -9 phenotype, a BOM."""
    path = tmp_path / "x.ped"
    path.write_text("\ufeff# a comment\n\nFAM1  P1 F1 M1 2 2 extra\n"
                    "FAM1 F1 0 0 1 1\nFAM1\tM1\t0\t0\t2\t-9\n", encoding="utf-8")
    assert read_ped(path) == {"FAM1": TRIO}


@pytest.mark.parametrize(("row", "expected"), [
    ("FAM1 P2 0 0 1", "x.ped:4: 5 columns, expected at least 6 whitespace-separated columns: "
     "family_id individual_id paternal_id maternal_id sex phenotype"),
    ("FAM1 P2 0 0 M 2", "x.ped:4: column 'sex': value 'M': must be one of 1 (male), 2 (female), "
     "0 (unknown)"),
    ("FAM1 P2 0 0 1 3", "x.ped:4: column 'phenotype': value '3': must be one of 2 (affected), "
     "1 (unaffected), 0 (unknown), -9 (unknown)"),
    ("FAM1 P2 . 0 1 2", "x.ped:4: column 'paternal_id': value '.': must be an ID of letters, "
     "digits, '_' and '-', starting with a letter or digit ('0' for a missing parent)"),
    ("FAM1 P2 X9 0 1 2", "x.ped:4: column 'paternal_id': value 'X9': unknown father: no such "
     "sample in family 'FAM1' (samples: F1, M1, P2)"),
    ("FAM1 P2 M1 0 1 2", "x.ped:4: column 'paternal_id': value 'M1': father 'M1' has sex "
     "'female' (line 3); a father must be male"),
    ("FAM2 F1 0 0 1 2", "x.ped:4: column 'individual_id': value 'F1': duplicate sample ID, "
     "already defined on line 2 (family 'FAM1'); sample IDs must be unique across all families"),
])
def test_read_ped_errors(tmp_path: Path, row: str, expected: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("x.ped").write_text(f"#header\nFAM1 F1 0 0 1 1\nFAM1 M1 0 0 2 1\n{row}\n")
    with pytest.raises(InputError) as caught:
        read_ped("x.ped")
    assert [str(p) for p in caught.value.problems] == [expected]


def test_read_ped_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"x\.ped: cannot read the PED file"):
        read_ped(tmp_path / "x.ped")


def test_read_ped_family_without_affected_is_a_warning(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    path, family = tmp_path / "FAM3.ped", Family("FAM3", [replace(FATHER, family="FAM3")])
    write_ped(family, path)
    with caplog.at_level(logging.WARNING):
        assert read_ped(path) == {"FAM3": family}
    assert "family 'FAM3' has no affected member" in caplog.text


def test_check_families_api_with_lines_by_sample() -> None:
    stray = Individual("FAM2", "P9", "male", "affected", "F1", None)
    errors, warnings = check_families([CHILD, FATHER, MOTHER, stray], "s.tsv",
                                      {"P1": 2, "F1": 3, "M1": 4, "P9": 5})
    assert [str(e) for e in errors] == [
        "s.tsv:5: column 'father': value 'F1': father 'F1' belongs to family 'FAM1' (line 3), "
        "not 'FAM2'; parents must be in the same family"]
    assert warnings == []

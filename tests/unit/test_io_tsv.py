"""write_tsv writes exactly what pandas' to_csv(sep="\\t", index=False, na_rep=...) writes."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from helgenom.io import tsv as tsvwrite
from helgenom.io.tsv import write_tsv


def expected(frame: pd.DataFrame, na_rep: str) -> bytes:
    handle = io.StringIO()
    frame.to_csv(handle, sep="\t", index=False, na_rep=na_rep)
    return handle.getvalue().encode()


def written(frame: pd.DataFrame, na_rep: str) -> bytes:
    handle = io.BytesIO()
    handle.write(b"## a QC line\n")
    write_tsv(frame, handle, na_rep=na_rep)
    value = handle.getvalue()
    assert value.startswith(b"## a QC line\n")
    return value[len(b"## a QC line\n"):]


def mixed(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    floats = rng.choice([0.0, -0.0, 1.0, 0.1, 1e-5, 1e16, 123456789.123, -2.5, np.nan,
                         np.inf, 1 / 3], n)
    return pd.DataFrame({
        "rank": np.arange(1, n + 1),
        "family": "FAM",
        "chrom": rng.choice(["chr1", "chrX", "1_tile3"], n),
        "pos": rng.integers(1, 250_000_000, n),
        "neg": rng.integers(-5, 5, n).astype(np.int32),
        "text": pd.array(rng.choice(["", "a|b", "x>1,y>2", "é ü", "NA", "nan"], n), dtype="str"),
        "float": floats,
        "float32": floats.astype(np.float32),
        "rounded": np.round(rng.random(n), 4),
        "Int": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 99, n)),
                        dtype="Int64"),
        "flag": rng.random(n) < 0.5,
        "obj": np.array(rng.choice(["p", "q", None], n), dtype=object),
        "cat": pd.Categorical(rng.choice(["lo", "hi"], n)),
        "last": pd.array(np.where(rng.random(n) < 0.3, None, "v"), dtype="str"),
    })


@pytest.mark.parametrize("na_rep", [".", ""])
def test_matches_to_csv_over_many_steps(monkeypatch, na_rep):
    monkeypatch.setattr(tsvwrite, "ROWS_PER_STEP", 37)
    frame = mixed(500)
    assert written(frame, na_rep) == expected(frame, na_rep)


def test_values_that_need_quotes_are_quoted_as_pandas_does():
    frame = mixed(50)
    frame.loc[3, "text"] = 'say "hi"'
    frame.loc[4, "text"] = "tab\there"
    frame.loc[5, "obj"] = 'q"'
    assert written(frame, ".") == expected(frame, ".")


def test_a_value_spanning_lines_falls_back_to_pandas():
    frame = mixed(20)
    frame.loc[2, "text"] = "two\nlines"
    assert written(frame, ".") == expected(frame, ".")


def test_empty_and_single_column_frames():
    frame = mixed(10)
    assert written(frame.iloc[:0], ".") == expected(frame.iloc[:0], ".")
    single = frame[["text"]]
    assert written(single, ".") == expected(single, ".")

"""GENMOD rank models: read the `.ini` files GMS sites maintain and score variants with them.

`load_rank_model` reads a GENMOD rank model (the ConfigObj dialect: `[plugin]`, `[[rule]]`,
`key = value`, comma lists, quotes, `#` comments) and checks it; `RankModel.score` returns
per-category scores (what `genmod score --rank_results` writes as RankResult), `RankScore` and
`RankScoreNormalized`, equal to `genmod score` 3.12.0. GENMOD's rules, kept on purpose:

- Numbers: the raw value is split on every separator in turn (`separators = None` is the
  string "None", i.e. the characters N, o, n, e, so `1e-05` reads as 1 and -5), each piece is
  parsed with Python's `float`/`int` (failures dropped) and `record_rule` takes min or max.
  A VEP `CSQ` plugin does this for its `csq_key` column of every transcript.
- A value of 0 counts as not reported (GENMOD tests `if not value`). A number outside every
  bin scores 0, as does one without a `value` rule; `value` rules compare `str(number)`, so
  `value = 5` never matches in a `float` plugin ('5.0'). Bins are half-open: lower <= x < upper.
- Strings are not split: the first rule in priority order (highest first for `record_rule =
  max`, lowest first for `min`, file order on ties) whose string occurs anywhere in the raw
  value, ignoring case, wins: `AD` matches `AD_dn`, and a CSQ string rule searches the whole
  CSQ value (every column of every transcript). No match scores `not_reported`.
- Plugin scores are truncated to integers; the min/max possible scores use the exact ones.
- Categories aggregate plugin scores and plugin min/max with min, max or sum; an unknown key
  such as `category_aggregate` is ignored and the category aggregates with min.

Where GENMOD stops with an error we go on: a score outside its plugin's min/max (a number
outside all bins scores 0 even if every rule scores above 0), a CSQ transcript shorter than
the csq_key column (that cell is empty), a flag plugin whose reported score is 0.

Scoring is per family, unlike GENMOD: in GeneticModels, ModelScore, Compounds and plugins with
`family_level = true`, `FAM1:value,FAM2:value` is reduced to the requested family's value.
GENMOD reads the whole entry, so it also sees other families' models and reads a numeric
family id (`ModelScore=1:55`) as a score; `score(records, family=None)` does the same.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from itertools import pairwise, zip_longest
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

FIELDS = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
DATA_TYPES = ("integer", "float", "flag", "string")
AGGREGATIONS = ("min", "max", "sum")
FAMILY_KEYS = frozenset({"GeneticModels", "ModelScore", "Compounds"})
Value = str | list[str]


class RankModelError(Exception):
    """A rank model that cannot be read; names the file, [section], key and bad value."""

    def __init__(self, path: str, section: str, key: str | None, value: object, message: str,
                 line: int | None = None) -> None:
        self.path, self.section, self.key, self.value = path, section, key, value
        self.message, self.line = message, line
        parts = [f"{path}:{line}" if line else path, section or "(top level)"]
        if key is not None:
            parts.append(f"key '{key}'")
        if value is not None:
            parts.append(f"value {value!r}")
        super().__init__(": ".join([*parts, message]))

    def __reduce__(self) -> tuple[type[RankModelError], tuple]:
        return RankModelError, (self.path, self.section, self.key, self.value, self.message,
                                self.line)


# ---------------------------------------------------------------- the ConfigObj dialect
@dataclass
class _Section:
    name: str
    label: str  # "[plugin]" or "[plugin][[rule]]"
    line: int
    values: dict[str, tuple[Value, int]] = field(default_factory=dict)
    children: dict[str, _Section] = field(default_factory=dict)


_HEADER = re.compile(r"""^(\[+)\s*(['"]?)(.*?)\2\s*(\]+)\s*(#.*)?$""")
_ITEM = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)"|([^,#'"]*))\s*""")


def _parse_value(text: str) -> Value:
    """`a` -> 'a'; `'a', 'b'` or `a,` -> a list; quotes stripped; `#` starts a comment."""
    items: list[str] = []
    pos, listed = 0, False
    while True:
        match = _ITEM.match(text, pos)
        assert match is not None  # the pattern also matches the empty string
        single, double, bare = match.groups()
        item = single if single is not None else double if double is not None else bare.strip()
        pos = match.end()
        end = pos == len(text) or text[pos] == "#"
        if not end and text[pos] != ",":
            raise ValueError("unbalanced quotes")
        if bare is None or item or (end and not listed):
            items.append(item)
        if end:
            return items if listed else items[0]
        listed, pos = True, pos + 1


def _parse_ini(text: str, path: str) -> _Section:
    root = _Section("", "", 0)
    stack = [root]
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current = stack[-1]
        if line.startswith("["):
            match = _HEADER.match(line)
            if not match or len(match.group(1)) != len(match.group(4)):
                raise RankModelError(path, current.label, None, line, "malformed section header",
                                     number)
            depth, name = len(match.group(1)), match.group(3)
            if depth > min(len(stack), 2):
                raise RankModelError(path, current.label, None, line,
                                     "section nested too deep", number)
            parent = stack[depth - 1]
            if name in parent.children or name in parent.values:
                raise RankModelError(path, parent.label or f"[{name}]", name, None,
                                     "duplicate section", number)
            section = _Section(name, f"{parent.label}{'[' * depth}{name}{']' * depth}", number)
            parent.children[name] = section
            del stack[depth:]
            stack.append(section)
            continue
        key, equals, text_value = line.partition("=")
        key = key.strip().strip("'\"")
        if not equals or not key:
            raise RankModelError(path, current.label, None, line, "expected 'key = value'",
                                 number)
        if current is root:
            raise RankModelError(path, "", key, None, "key outside any [section]", number)
        if key in current.values or key in current.children:
            raise RankModelError(path, current.label, key, None, "duplicate key", number)
        try:
            current.values[key] = (_parse_value(text_value), number)
        except ValueError as error:
            raise RankModelError(path, current.label, key, text_value.strip(), str(error),
                                 number) from None
    return root


# ---------------------------------------------------------------- the model
@dataclass(frozen=True)
class Bin:
    name: str
    lower: float
    upper: float
    score: float


@dataclass(frozen=True)
class StringRule:
    name: str
    string: str
    priority: int
    score: float


@dataclass
class Category:
    name: str
    aggregation: str  # min, max or sum
    plugins: list[str] = field(default_factory=list)


@dataclass
class Plugin:
    name: str
    category: str
    field: str  # a VCF column: INFO, FILTER, ...
    data_type: str  # integer, float, flag or string
    info_key: str | None = None
    csq_key: str | None = None
    record_rule: str = "max"
    separators: tuple[str, ...] = ()
    family_level: bool = False
    not_reported: float = 0.0
    reported: float = 0.0  # flag plugins
    bins: tuple[Bin, ...] = ()  # sorted by lower bound, not overlapping
    values: dict[str, float] = field(default_factory=dict)  # str(number) -> score
    strings: tuple[StringRule, ...] = ()  # in GENMOD's match order

    @property
    def column(self) -> str:
        """The records column this plugin reads."""
        return self.info_key if self.field == "INFO" and self.info_key else self.field

    @property
    def score_range(self) -> tuple[float, float]:
        """Lowest and highest score the plugin can give, as GENMOD counts them."""
        if self.data_type == "flag":
            scores = [self.reported]
        elif self.data_type == "string":
            scores = list({r.string.lower(): r.score for r in self.strings}.values())
        else:
            scores = list(self.values.values()) or [b.score for b in self.bins]
        scores.append(self.not_reported)
        return min(scores), max(scores)


def _aggregate(how: str, values: Sequence[float]) -> float:
    return min(values) if how == "min" else max(values) if how == "max" else sum(values)


@dataclass
class RankModel:
    path: str
    version: str
    name: str
    categories: dict[str, Category]  # in file order
    plugins: dict[str, Plugin]

    def category_range(self, category: str) -> tuple[float, float]:
        cat = self.categories[category]
        if not cat.plugins:
            return 0.0, 0.0
        ranges = [self.plugins[p].score_range for p in cat.plugins]
        return (_aggregate(cat.aggregation, [r[0] for r in ranges]),
                _aggregate(cat.aggregation, [r[1] for r in ranges]))

    @property
    def min_score(self) -> float:
        return sum((self.category_range(c)[0] for c in self.categories), 0.0)

    @property
    def max_score(self) -> float:
        return sum((self.category_range(c)[1] for c in self.categories), 0.0)

    def info_keys(self) -> list[str]:
        """INFO keys the model reads, in file order (CSQ once for all its columns)."""
        return list(dict.fromkeys(p.info_key for p in self.plugins.values()
                                  if p.field == "INFO" and p.info_key))

    def score(self, records: pd.DataFrame, family: str | None,
              csq_format: Sequence[str] | None = None) -> pd.DataFrame:
        """Category scores, RankScore (float) and RankScoreNormalized for `family`.

        `records` holds CHROM, POS, REF, ALT, FILTER (and ID/QUAL if a plugin reads them) and a
        column per key of `info_keys()`: VCF strings, missing as NA, flags as True/NA.
        `csq_format` is the CSQ `Format:` column list; needed when a number is read from CSQ.
        `family=None` reads `FAM:value` entries whole, all families, exactly as GENMOD does.
        """
        missing = [c for c in dict.fromkeys(p.column for p in self.plugins.values())
                   if c not in records.columns]
        if missing:
            raise KeyError(f"records lack columns read by rank model {self.name}: "
                           f"{', '.join(missing)} (add them as NA to score them as not reported)")
        by_column: dict[tuple[str, bool], list[Plugin]] = {}
        for plugin in self.plugins.values():
            family_level = plugin.family_level or plugin.column in FAMILY_KEYS
            by_column.setdefault((plugin.column, family_level), []).append(plugin)
        scores = {}
        for (column, family_level), plugins in by_column.items():
            codes, uniques = _factorize(records[column], plugins[0].field == "INFO",
                                        family if family_level else None)
            for plugin, unique_scores in _score_uniques(plugins, uniques, csq_format).items():
                scores[plugin] = np.trunc(unique_scores).astype(np.int64)[codes]
        out = pd.DataFrame(index=records.index)
        total = np.zeros(len(records), dtype=np.int64)
        combine = {"min": np.minimum, "max": np.maximum, "sum": np.add}
        for name, cat in self.categories.items():
            parts = [scores[p] for p in cat.plugins] or [np.zeros(len(records), dtype=np.int64)]
            out[name] = reduce(combine[cat.aggregation], parts)
            total += out[name].to_numpy()
        out["RankScore"] = total.astype(float)
        low, high = self.min_score, self.max_score
        out["RankScoreNormalized"] = (out["RankScore"] - low) / (high - low)
        return out


# ---------------------------------------------------------------- scoring
def csq_format(header_line: str) -> list[str]:
    """CSQ columns from its `##INFO=<ID=CSQ,...>` line or Description ('... Format: A|B')."""
    description = re.search(r'Description="([^"]*)"', header_line)
    text = description.group(1) if description else header_line
    return text.split("Format:")[-1].strip().split("|")


def _family_value(raw: str, family: str) -> str | None:
    """'F1:AR_hom,F2:AD' -> 'AR_hom' for F1, None for F3; a value without prefixes as is."""
    entries = raw.split(",")
    if not any(":" in e for e in entries):
        return raw
    for entry in entries:
        fam, colon, value = entry.partition(":")
        if colon and fam == family:
            return value
    return None


def _factorize(column: pd.Series, info: bool, family: str | None
               ) -> tuple[np.ndarray, list[str | None]]:
    """Codes per row into distinct values; the last unique is None (missing).

    INFO: NA/False -> None, a flag's True -> '' (present, no value); other fields: NA -> '.'.
    """
    if not info:
        column = column.astype(object).where(column.notna(), ".")
    codes, found = pd.factorize(column, use_na_sentinel=True)
    uniques: list[str | None] = np.asarray(found, dtype=object).tolist()
    if not all(type(value) is str for value in uniques):
        uniques = [("" if value else None) if info and isinstance(value, bool | np.bool_)
                   else str(value) for value in uniques]
    if family is not None:
        uniques = [_family_value(text, family) if text else text for text in uniques]
    uniques.append(None)
    return np.where(codes < 0, len(uniques) - 1, codes), uniques


def _split(text: str, separators: Sequence[str]) -> list[str]:
    """GENMOD's split_strings: split on the first separator, the parts on the next, ..."""
    pieces = [text]
    for sep in separators:
        if len(pieces) > 1:
            pieces = [part for piece in pieces for part in piece.split(sep)]
        elif sep in pieces[0]:
            pieces = pieces[0].split(sep)
    return pieces


def _in_number(char: str) -> bool:
    """Could `char` occur in a string that Python's float() or int() accepts?"""
    return char.isdigit() or char.isspace() or char in "+-._" or char.lower() in "einfaty"


def _reader(plugin: Plugin, separators: Sequence[str], cache: bool = False
            ) -> Callable[[Sequence[str]], float | int | None]:
    """GENMOD's number from raw strings: split each, parse every piece, min or max of all."""
    cast = float if plugin.data_type == "float" else int
    pick = max if plugin.record_rule == "max" else min
    plain = all(not all(_in_number(c) for c in sep) for sep in separators)
    parsed: dict[str, list[float | int]] = {}

    def number(piece: str) -> float | int | None:
        try:
            return cast(piece)
        except ValueError:
            return None

    def parse(text: str) -> list[float | int]:
        if plain and (whole := number(text)) is not None:
            return [whole]  # a string that parses whole holds no separator: the one piece
        return [v for v in map(number, _split(text, separators)) if v is not None]

    def read(texts: Sequence[str]) -> float | int | None:
        typed: list[float | int] = []
        for text in texts:
            if not cache:
                typed += parse(text)
            elif (found := parsed.get(text)) is not None:
                typed += found
            else:
                typed += parsed.setdefault(text, parse(text))
        return pick(typed) if typed else None

    return read


def _numbers(plugins: list[Plugin], uniques: list[str | None],
             csq_format: Sequence[str] | None) -> list[list[float | int | None]]:
    """The number each plugin reads from each distinct raw value."""
    if not plugins or not plugins[0].csq_key:
        out = []
        for plugin in plugins:
            separators = {"INFO": plugin.separators, "ID": ";", "FILTER": ";", "ALT": ","}.get(
                plugin.field, ())
            read = _reader(plugin, separators)
            out.append([read((text,)) if text else None for text in uniques])
        return out
    if not any(uniques):
        return [[None] * len(uniques) for _ in plugins]
    if csq_format is None:
        raise ValueError(f"plugin [{plugins[0].name}] reads CSQ column {plugins[0].csq_key!r}: "
                         "pass csq_format (the CSQ Format: columns from the VCF header)")
    # A column the CSQ lacks is not reported, as `genmod score --skip_plugin_check` scores it
    # (without that flag GENMOD refuses to score; `helgenom rank` warns, see input_notes).
    known = [p for p in plugins if p.csq_key in csq_format]
    if len(known) < len(plugins):
        read_known = iter(_numbers(known, uniques, csq_format) if known else [])
        return [next(read_known) if p.csq_key in csq_format else [None] * len(uniques)
                for p in plugins]
    # Each CSQ value is transposed once into columns (a short transcript pads with ''); a
    # column's cells repeat across variants, so each plugin memoises its reads by cells.
    columns = [list(csq_format).index(p.csq_key) for p in plugins]
    last = max(columns) + 1
    readers = [_reader(p, p.separators, cache=True) for p in plugins]
    memos: list[dict[tuple[str, ...], float | int | None]] = [{} for _ in plugins]
    out = [[] for _ in plugins]
    for text in uniques:
        if not text:
            for values in out:
                values.append(None)
            continue
        table = list(zip_longest(*(t.split("|", last) for t in text.split(",")), fillvalue=""))
        for column, read, memo, values in zip(columns, readers, memos, out, strict=True):
            cells = table[column] if column < len(table) else ()
            if cells not in memo:
                memo[cells] = read(cells)
            values.append(memo[cells])
    return out


def _number_scores(plugin: Plugin, numbers: list[float | int | None]) -> np.ndarray:
    if plugin.values:
        return np.array([plugin.values.get(str(v), 0.0) if v else plugin.not_reported
                         for v in numbers], dtype=float)
    values = np.array([math.nan if v is None else float(v) for v in numbers], dtype=float)
    lower = np.array([b.lower for b in plugin.bins])
    upper = np.array([b.upper for b in plugin.bins])
    points = np.array([b.score for b in plugin.bins])
    index = np.clip(np.searchsorted(lower, values, side="right") - 1, 0, None)
    inside = (values >= lower[index]) & (values < upper[index])
    scores = np.where(inside, points[index], 0.0)
    scores[np.array([not v for v in numbers], dtype=bool)] = plugin.not_reported
    return scores


def _string_scores(plugin: Plugin, lowered: list[str]) -> np.ndarray:
    scores = np.full(len(lowered), plugin.not_reported)
    open_ = np.array([bool(text) for text in lowered], dtype=bool)
    for rule in plugin.strings:
        needle = rule.string.lower()
        hit = np.fromiter((needle in text for text in lowered), bool, len(lowered)) & open_
        scores[hit] = rule.score
        open_ &= ~hit
    return scores


def _score_uniques(plugins: list[Plugin], uniques: list[str | None],
                   csq_format: Sequence[str] | None) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    numeric = [p for p in plugins if p.data_type in ("integer", "float")]
    for plugin, numbers in zip(numeric, _numbers(numeric, uniques, csq_format), strict=True):
        out[plugin.name] = _number_scores(plugin, numbers)
    lowered = [text.lower() if text else "" for text in uniques]
    for plugin in plugins:
        if plugin.data_type == "string":
            out[plugin.name] = _string_scores(plugin, lowered)
        elif plugin.data_type == "flag":
            present = [t is not None and (plugin.field == "INFO" or t != ".") for t in uniques]
            out[plugin.name] = np.where(present, plugin.reported, plugin.not_reported)
    return out


# ---------------------------------------------------------------- loading
class _Reader:
    """Typed access to section values; every failure is a RankModelError."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, section: _Section, key: str | None, value: object, message: str
             ) -> NoReturn:
        line = section.values[key][1] if key in section.values else section.line
        raise RankModelError(self.path, section.label, key, value, message, line or None)

    def text(self, section: _Section, key: str, default: str | None = None) -> str:
        if key not in section.values:
            if default is None:
                self.fail(section, key, None, "missing")
            return default
        value = section.values[key][0]
        if not isinstance(value, str):
            self.fail(section, key, value, "expected one value, not a list")
        return value

    def choice(self, section: _Section, key: str, options: Sequence[str],
               default: str | None = None) -> str:
        value = self.text(section, key, default)
        if value not in options:
            self.fail(section, key, value, f"must be one of {', '.join(options)}")
        return value

    def number(self, section: _Section, key: str) -> float:
        value = self.text(section, key)
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.fail(section, key, value, "not a number")
        return number

    def integer(self, section: _Section, key: str) -> int:
        value = self.text(section, key)
        if not re.fullmatch(r"\s*[+-]?\d+\s*", value):
            self.fail(section, key, value, "not an integer")
        return int(value)


def _rules(read: _Reader, section: _Section, plugin: Plugin) -> None:
    strings: dict[str, tuple[str, int]] = {}  # string -> (rule name, priority), like GENMOD
    string_scores: dict[str, float] = {}
    bins: list[Bin] = []
    unmatched: list[str] = []
    for rule in section.children.values():
        if rule.name == "not_reported":
            plugin.not_reported = read.number(rule, "score")
        elif plugin.data_type == "flag":
            plugin.reported = read.number(rule, "score")
        elif plugin.data_type == "string":
            string = read.text(rule, "string")
            strings[string] = (rule.name, read.integer(rule, "priority"))
            string_scores[string.lower()] = read.number(rule, "score")
        elif read.text(rule, "score") == "eq":
            read.fail(rule, "score", "eq", "not supported: GENMOD cannot bound such a score")
        elif rule.values.get("value", ("",))[0]:
            value = read.text(rule, "value")
            plugin.values[value] = read.number(rule, "score")
            cast = float if plugin.data_type == "float" else int
            try:
                matches = str(cast(value)) == value
            except ValueError:
                matches = False
            if not matches:
                unmatched.append(value)
        else:
            lower, upper = read.number(rule, "lower"), read.number(rule, "upper")
            if not lower < upper:
                read.fail(rule, "upper", read.text(rule, "upper"),
                          f"empty bin: upper must be above lower ({read.text(rule, 'lower')})")
            bins.append(Bin(rule.name, lower, upper, read.number(rule, "score")))
    if unmatched:
        log.warning("%s: %s: values %s never match a %s read as %s (GENMOD compares "
                    "str(number)); they score 0", read.path, section.label, ", ".join(unmatched),
                    plugin.data_type, "'5.0'" if plugin.data_type == "float" else "'5'")
    if plugin.data_type == "string":
        if not strings:
            read.fail(section, None, None, "a string plugin needs [[rules]] with a 'string'")
        order = sorted(strings.items(), key=lambda item: item[1][1],
                       reverse=plugin.record_rule == "max")
        plugin.strings = tuple(StringRule(name, s, prio, string_scores[s.lower()])
                               for s, (name, prio) in order)
    elif plugin.data_type != "flag":
        if bins and plugin.values:
            read.fail(section, None, None, "mixes 'value' rules with lower/upper bins")
        if not bins and not plugin.values:
            read.fail(section, None, None, "needs [[rules]] with lower/upper or value")
        bins.sort(key=lambda b: b.lower)
        for before, after in pairwise(bins):
            if after.lower < before.upper:
                read.fail(section.children[after.name], "lower", read.text(
                    section.children[after.name], "lower"),
                    f"bin overlaps [[{before.name}]] ({before.lower:g} to {before.upper:g})")
        plugin.bins = tuple(bins)


def _plugin(read: _Reader, section: _Section, categories: dict[str, Category]) -> Plugin:
    vcf_field = read.text(section, "field")
    if vcf_field not in FIELDS:
        read.fail(section, "field", vcf_field, f"must be one of {', '.join(FIELDS)}")
    data_type = read.choice(section, "data_type", DATA_TYPES)
    category = read.text(section, "category")
    if category not in categories:
        read.fail(section, "category", category, "not defined in [Categories]")
    info_key = read.text(section, "info_key") if vcf_field == "INFO" else None
    raw_separators = section.values.get("separators", ([], 0))[0]
    separators = tuple(raw_separators)  # a plain string is a list of characters, as in GENMOD
    if not separators and data_type != "flag":
        read.fail(section, "separators", None, "missing (needed unless data_type = flag)")
    if "" in separators:
        read.fail(section, "separators", raw_separators, "empty separator")
    plugin = Plugin(
        name=section.name, category=category, field=vcf_field, data_type=data_type,
        info_key=info_key, csq_key=read.text(section, "csq_key") if info_key == "CSQ" else None,
        record_rule=read.choice(section, "record_rule", ("min", "max"), "max"),
        separators=separators,
        family_level=read.text(section, "family_level", "false").lower() in ("true", "yes", "1"),
    )
    _rules(read, section, plugin)
    return plugin


def load_rank_model(path: str | Path) -> RankModel:
    """Read and check a GENMOD rank model; problems raise RankModelError."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RankModelError(path, "", None, None, f"cannot read the file ({error})") from None
    root = _parse_ini(text, path)
    read = _Reader(path)
    for required in ("Version", "Categories"):
        if required not in root.children:
            raise RankModelError(path, f"[{required}]", None, None, "missing section")
    version_section = root.children["Version"]
    version = read.text(version_section, "version")
    read.number(version_section, "version")
    name = read.text(version_section, "name")
    categories_section = root.children["Categories"]
    for key in categories_section.values:
        read.fail(categories_section, key, None, "categories must be [[subsections]]")
    categories = {}
    for section in categories_section.children.values():
        aggregation = read.choice(section, "category_aggregation", AGGREGATIONS, "min")
        for key in section.values.keys() - {"category_aggregation"}:
            log.warning("%s: %s key '%s' is not a GENMOD key; the category aggregates with %s",
                        path, section.label, key, aggregation)
        categories[section.name] = Category(section.name, aggregation)
    plugins = {}
    for section in root.children.values():
        if section.name not in ("Version", "Categories"):
            plugins[section.name] = _plugin(read, section, categories)
            categories[plugins[section.name].category].plugins.append(section.name)
    model = RankModel(path, version, name, categories, plugins)
    if not model.min_score < model.max_score:
        read.fail(categories_section, None, None, f"no score range to normalise over "
                  f"(min {model.min_score:g}, max {model.max_score:g})")
    return model

"""Input problems: one `Problem` per finding, all of a run raised together as `InputError`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding in an input file, located as precisely as the input allows.

    `line` is 1-based as in a text editor (None or 0: the whole file); `column` names the sheet
    column, or the dotted key path when `kind` is "key" (config files); an empty `value` is
    not shown.
    """

    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str
    kind: str = "column"

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.column:
            parts.append(f"{self.kind} '{self.column}'")
        if self.value:
            parts.append(f"value '{self.value}'")
        parts.append(self.message)
        return ": ".join(parts)


class InputError(Exception):
    """The inputs of a run are invalid; `problems` holds every finding, by file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        problems = list(dict.fromkeys(problems))  # drop exact duplicates, keep order
        files = list(dict.fromkeys(p.file for p in problems))
        self.problems = sorted(problems, key=lambda p: (files.index(p.file), p.line or 0))
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        summary = f"{count} in {', '.join(files)} (fix them and run again):"
        super().__init__("\n".join([summary, *map(str, self.problems)]))

    def __reduce__(self) -> tuple[type[InputError], tuple[list[Problem]]]:
        return InputError, (self.problems,)  # picklable across processes

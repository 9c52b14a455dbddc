"""HTML (and inline SVG) markup built from escaped parts: `esc`, `tag`, `join` and `Html`, the
text they return. Used by the report page (`html`) and its read pileups (`reads`)."""

from __future__ import annotations

import html
from collections.abc import Iterable


class Html(str):
    """Text that is HTML already (built here from escaped parts): `esc` leaves it as it is."""

    __slots__ = ()


def esc(value: object) -> Html:
    """`value` as HTML text: escaped (quotes too, so also fit for attributes), None as ''."""
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[object], separator: str = "") -> Html:
    return Html(esc(separator).join(esc(part) for part in parts))


VOID = frozenset({"meta", "input", "br"})


def tag(element: str, /, *content: object, **attrs: object) -> Html:
    """`<element attrs>content</element>`; attribute names: a trailing '_' dropped, '_' -> '-';
    None and False leave an attribute out, True writes it bare; values and content escaped
    (Html kept as it is)."""
    parts = [element]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = key.rstrip("_").replace("_", "-")
        parts.append(attr if value is True else f'{attr}="{esc(value)}"')
    opening = f"<{' '.join(parts)}>"
    if element in VOID:
        return Html(opening)
    return Html(f"{opening}{join(content)}</{element}>")

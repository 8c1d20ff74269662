"""Gene names as people type them: one resolver for every endpoint that takes genes, and for autocomplete.

A name resolves to a gene symbol of the dataset by, in turn: the exact symbol; the exact gene id (Ensembl ids
also without their `.version`); the symbol or id ignoring case, when exactly one gene matches that way. What
does not resolve gets suggestions, ranked the way gene families are named: the exact-but-for-case matches
first, then the prefix family (CD3 → CD3D, CD3E, CD3G; after a digit, the members whose name goes on with a
letter before those whose number goes on: CD3D before CD36), then look-alikes one edit away (CD63, CD53),
then, for the first three unknown names of a request only, difflib's wider look-alikes (they cost ~0.1 s each
over 30,000 genes). Pure Python over the catalog's gene list: no SQL, no HTTP.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

SUGGESTIONS = 5
# Unknown names of one request that also get difflib's look-alikes (the rest get the cheap ones only).
WIDE_SUGGESTIONS_FOR = 3
_VERSION = re.compile(r"\.\d+$")
Match = Literal["exact", "prefix", "id", "similar"]


@dataclass(frozen=True)
class Unknown:
    """A name that did not resolve, with what it may have meant."""

    given: str
    suggestions: list[str]
    ambiguous: bool = False  # matches several genes that differ only in case


@dataclass(frozen=True)
class Resolution:
    """The genes a list of names resolved to (first occurrence order, no repeats), which names were read
    differently from how they were given (case, gene id), and which were not found."""

    genes: list[str] = field(default_factory=list)
    resolved: list[tuple[str, str]] = field(default_factory=list)  # (given, gene) where given != gene
    unknown: list[Unknown] = field(default_factory=list)


def _family_key(prefix: str, name: str) -> tuple[bool, int, str]:
    """Prefix-family order: after a prefix ending in a digit, a name going on with a digit is another
    number (CD36 after CD3D); then shorter names first, then by name."""
    goes_on_with_digit = (
        bool(prefix) and prefix[-1].isdigit() and name[len(prefix) : len(prefix) + 1].isdigit()
    )
    return goes_on_with_digit, len(name), name


def _shape_distance(a: str, b: str) -> int:
    """Positions where one name has a digit and the other not (and the difference in length): CD3X is nearer
    CD3D (a letter for a letter) than CD33."""
    return sum(x.isdigit() != y.isdigit() for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))


class GeneNames:
    """The symbols and ids of one dataset, indexed for resolving and suggesting."""

    def __init__(self, symbols: Iterable[str], ids: Mapping[str, str]) -> None:
        self.symbols = frozenset(symbols)
        self.ids = dict(ids)  # gene id → symbol
        self._unversioned: dict[str, str] = {}
        for gene_id, symbol in self.ids.items():
            self._unversioned.setdefault(_VERSION.sub("", gene_id), symbol)
        self._folded: dict[str, list[str]] = {}  # casefolded symbol → symbols
        for symbol in sorted(self.symbols):
            self._folded.setdefault(symbol.casefold(), []).append(symbol)
        self._folded_ids: dict[str, str] = {}  # casefolded gene id without version → symbol
        for gene_id, symbol in sorted(self._unversioned.items()):
            self._folded_ids.setdefault(gene_id.casefold(), symbol)
        # Sorted casefolded symbols (with their symbol) for prefix ranges, and the ids likewise.
        self._sorted = sorted((s.casefold(), s) for s in self.symbols)
        self._sorted_keys = [f for f, _ in self._sorted]
        self._sorted_ids = sorted((i.casefold(), s) for i, s in self._unversioned.items())
        self._sorted_id_keys = [f for f, _ in self._sorted_ids]
        self._alphabet = sorted({ch for f in self._sorted_keys for ch in f})

    # ----- resolving ------------------------------------------------------------------------------------

    def lookup(self, name: str) -> str | list[str] | None:
        """The symbol `name` means; a list of candidates when it matches several genes ignoring case only;
        None when it matches none."""
        if name in self.symbols:
            return name
        if name in self.ids:
            return self.ids[name]
        unversioned = _VERSION.sub("", name)
        if unversioned in self._unversioned:
            return self._unversioned[unversioned]
        matches = self._folded.get(name.casefold())
        if not matches:
            return self._folded_ids.get(unversioned.casefold())
        return matches[0] if len(matches) == 1 else list(matches)

    def resolve(self, names: Iterable[str], *, wide_for: int = WIDE_SUGGESTIONS_FOR) -> Resolution:
        """Every name resolved or reported unknown (all of them, at once)."""
        result = Resolution()
        seen: set[str] = set()
        asked: set[str] = set()
        for given in names:
            found = self.lookup(given)
            if isinstance(found, str):
                if found != given:
                    result.resolved.append((given, found))
                if found not in seen:
                    seen.add(found)
                    result.genes.append(found)
            elif given not in asked:
                asked.add(given)
                wide = len(result.unknown) < wide_for
                if found is None:
                    result.unknown.append(Unknown(given, self.suggest(given, wide=wide)))
                else:
                    result.unknown.append(Unknown(given, found[:SUGGESTIONS], ambiguous=True))
        return result

    # ----- suggesting -----------------------------------------------------------------------------------

    def _prefixed(self, keys: list[str], pairs: list[tuple[str, str]], folded: str) -> list[str]:
        start = bisect.bisect_left(keys, folded)
        end = bisect.bisect_left(keys, folded + "\U0010ffff")
        return [symbol for _, symbol in pairs[start:end]]

    def prefix_family(self, prefix: str) -> list[str]:
        """Symbols starting with `prefix` (ignoring case), in prefix-family order; then the symbols of gene
        ids starting with it."""
        folded = prefix.casefold()
        symbols = self._prefixed(self._sorted_keys, self._sorted, folded)
        symbols.sort(key=lambda s: _family_key(folded, s.casefold()))
        by_id = [
            s for s in self._prefixed(self._sorted_id_keys, self._sorted_ids, folded) if s not in symbols
        ]
        return symbols + list(dict.fromkeys(by_id))

    def _one_edit(self, folded: str) -> list[str]:
        """Symbols one deletion, substitution, insertion or swap of neighbours away (ignoring case)."""
        splits = [(folded[:i], folded[i:]) for i in range(len(folded) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in self._alphabet}
        edits |= {a + c + b for a, b in splits for c in self._alphabet}
        edits.discard(folded)
        found = [s for e in edits for s in self._folded.get(e, ())]
        return sorted(
            set(found),
            key=lambda s: (
                _shape_distance(folded, s.casefold()),
                -difflib.SequenceMatcher(None, folded, s.casefold()).ratio(),
                s,
            ),
        )

    def suggest(self, name: str, n: int = SUGGESTIONS, *, wide: bool = True) -> list[str]:
        """What `name` may have meant, best first (see the module docstring)."""
        folded = name.casefold()
        ranked: list[str] = list(self._folded.get(folded, ()))
        if folded:
            ranked += self.prefix_family(name)[: n + len(ranked)]
        if len(dict.fromkeys(ranked)) < n and folded:
            ranked += self._one_edit(folded)
        if wide and len(dict.fromkeys(ranked)) < n and folded:
            close = difflib.get_close_matches(folded, self._sorted_keys, n=n, cutoff=0.6)
            ranked += [s for f in close for s in self._folded.get(f, ())]
        return list(dict.fromkeys(ranked))[:n]

    def complete(self, prefix: str, limit: int) -> list[tuple[str, Match]]:
        """Autocomplete: (symbol, how it matched — exact, prefix, id or similar) ranked as suggestions are;
        an empty prefix lists the symbols by name."""
        if not prefix:
            return [(s, "prefix") for _, s in self._sorted[:limit]]
        folded = prefix.casefold()
        ranked: dict[str, Match] = {}
        found = self.lookup(prefix)
        for symbol in [found] if isinstance(found, str) else found or []:
            ranked.setdefault(symbol, "exact")
        family = self.prefix_family(prefix)
        for symbol in family:
            if len(ranked) >= limit:
                break
            ranked.setdefault(symbol, "prefix" if symbol.casefold().startswith(folded) else "id")
        if len(ranked) < limit and len(folded) >= 2:
            for symbol in self.suggest(prefix, n=limit, wide=False):
                ranked.setdefault(symbol, "similar")
        return list(ranked.items())[:limit]

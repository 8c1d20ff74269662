"""What a response says of the gene names it was given: those read as another symbol, the unknown ones."""

from __future__ import annotations

from gateway.gene_names import Resolution
from gateway.schemas import ResolvedGene, UnknownGene


def reported(resolution: Resolution) -> dict[str, list]:
    """A response's `resolved` ([{given, gene}]) and `unknown` ([{given, suggestions}]) fields."""
    return {
        "resolved": [ResolvedGene(given=given, gene=gene) for given, gene in resolution.resolved],
        "unknown": [UnknownGene(given=u.given, suggestions=u.suggestions) for u in resolution.unknown],
    }


def renamed(*pairs: tuple[str, str]) -> list[ResolvedGene]:
    """A single-gene response's `resolved` list: the (given, gene) pairs where the gene used differs."""
    return [ResolvedGene(given=given, gene=gene) for given, gene in dict.fromkeys(pairs) if given != gene]

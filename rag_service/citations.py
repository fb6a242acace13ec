"""Citation markers in generated text: parse ``[n]`` / ``[n, m]``, keep only numbers of passages
that exist, renumber them by first appearance so the customer reads [1], [2], ... and each
returned citation is a passage that is actually cited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*\s+|\n+")


@dataclass
class Renumberer:
    """Maps the prompt's passage numbers (1..n_passages) to answer numbers in order of first use."""

    n_passages: int
    order: list[int] = field(default_factory=list)  # prompt numbers, in answer order

    def rewrite(self, sentence: str) -> tuple[str, list[int]]:
        """``sentence`` with its markers renumbered (unknown numbers removed) and the prompt numbers it cites."""
        cited: list[int] = []

        def repl(m: re.Match[str]) -> str:
            nums = [int(x) for x in re.split(r"\s*[,;]\s*", m.group(1))]
            valid = [n for n in dict.fromkeys(nums) if 1 <= n <= self.n_passages]
            if not valid:
                return ""
            for n in valid:
                if n not in self.order:
                    self.order.append(n)
                cited.append(n)
            return " " + "".join(f"[{self.order.index(n) + 1}]" for n in valid)

        return MARKER.sub(repl, sentence), cited


_NOT_AN_END = re.compile(
    r"(?:\b\d{1,2}|\b(?:ca|bzw|usw|inkl|ggf|evtl|zzgl|Nr|Str|Mo|Di|Mi|Do|Fr|Sa|So|z\.B|d\.h|u\.a|e\.g|i\.e|vs|etc|approx|no))\.$",
    re.IGNORECASE,
)


def split_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences in ``buffer`` and the unfinished rest. A sentence ends at . ! ? (with any
    citation markers right after it: "... 9,90 €. [1]") or at a line break, but not after an ordinal
    or abbreviation ("am 5. Werktag", "ca. 5 GB")."""
    sentences = []
    start = 0
    for m in _SENTENCE_END.finditer(buffer):
        candidate = buffer[start : m.start()].rstrip()
        if "\n" not in m.group(0) and _NOT_AN_END.search(candidate):
            continue
        sentence = buffer[start : m.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = m.end()
    return sentences, buffer[start:]

"""CloudWatch Logs JSON filter patterns, parsed leniently but precisely (pure; no checks here).

``{ ($.a = "x") && $.b NOT EXISTS || $.c != 'y' }`` becomes its disjunctive normal form: a
list of alternatives, each a set of :data:`Term` that must all hold. Whitespace and quoting do
not matter; ``&&`` binds tighter than ``||``. Anything else (text patterns, ``>``/``<``
comparisons, unbalanced parentheses) is "not understood" and never matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["Term", "alternatives", "covers"]

#: (selector, operator, value): ``("$.errorCode", "=", "AccessDenied*")``;
#: unary tests have the value ``""``: ``("$.userIdentity.invokedBy", "NOT EXISTS", "")``.
Term = tuple[str, str, str]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<paren>[()])
    | (?P<logic>&&|\|\|)
    | (?P<selector>\$\.[A-Za-z0-9_.\[\]*-]+)\s*
      (?: (?P<op>!=|=)\s*(?P<value>"[^"]*"|'[^']*'|[^\s()&|"']+)
        | (?P<unary>NOT\s+EXISTS|EXISTS|IS\s+NULL|IS\s+TRUE|IS\s+FALSE)\b )
    )\s*""",
    re.VERBOSE,
)


def alternatives(pattern: str) -> list[frozenset[Term]] | None:
    """The pattern's alternatives (DNF), or ``None`` when it is not a JSON pattern we read."""
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    tokens: list[str | Term] = []
    body, at = text[1:-1], 0
    while at < len(body):
        match = _TOKEN.match(body, at)
        if match is None or match.end() == at:
            return None
        at = match.end()
        if match["selector"]:
            if match["unary"]:
                term = (match["selector"], " ".join(match["unary"].split()), "")
            else:
                term = (match["selector"], match["op"], match["value"].strip("\"'"))
            tokens.append(term)
        else:
            tokens.append(match["paren"] or match["logic"])
    parser = _Parser(tokens)
    result = parser.any_of()
    return result if parser.done() else None


def covers(pattern: str, required: Term, allowed: Iterable[Term] = ()) -> bool:
    """Whether some alternative of ``pattern`` holds ``required`` and otherwise only terms of
    ``allowed`` (known narrowings such as excluding AWS service events)."""
    options = alternatives(pattern)
    extra = frozenset(allowed)
    return bool(options) and any(
        required in option and option - {required} <= extra for option in options or ()
    )


class _Parser:
    """Recursive descent over tokens into DNF (``||`` of ``&&`` groups)."""

    def __init__(self, tokens: list[str | Term]) -> None:
        self.tokens, self.at, self.failed = tokens, 0, False

    def done(self) -> bool:
        return not self.failed and self.at == len(self.tokens)

    def _peek(self) -> str | Term | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def any_of(self) -> list[frozenset[Term]]:
        result = self.all_of()
        while self._peek() == "||":
            self.at += 1
            result = result + self.all_of()
        return result

    def all_of(self) -> list[frozenset[Term]]:
        result = self.atom()
        while self._peek() == "&&":
            self.at += 1
            right = self.atom()
            result = [a | b for a in result for b in right]
        return result

    def atom(self) -> list[frozenset[Term]]:
        token = self._peek()
        self.at += 1
        if isinstance(token, tuple):
            return [frozenset({token})]
        if token == "(":
            inner = self.any_of()
            if self._peek() == ")":
                self.at += 1
                return inner
        self.failed = True
        return []

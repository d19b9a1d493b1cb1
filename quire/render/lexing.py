"""Pygments' regex lexers, one regex call per token instead of one per rule tried.

A Pygments RegexLexer tries each rule of its current state in order, one Python call
per rule, and takes the first that matches: ~40 calls a token for Python, most of a
highlighted block's cost. `dispatching(lexer)` gives a lexer whose states each try all
their rules in one regex, an alternation of the rules in their order, each in its own
group: sre takes the first alternative that matches where a rule would have, the
matched group says which rule it is, and that rule's own regex then makes the match
object its action reads. Same rules, same order, same tokens (tests/test_markdown.py
compares them with Pygments' own loop).

Compiling a state's combined regex costs about what Pygments paid for its rules (~40 ms
for Python's root state), ~6,000 tokens' worth of savings: a state is combined once it
has found COMBINE_AFTER tokens in this process, so a site with a few code blocks pays
nothing. A state of one rule, or whose rules cannot stand side by side in one regex
(back-references, conditionals, verbose mode, flags a group cannot scope), keeps
Pygments' rule-by-rule search. Lexers with their own tokenising loop are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from pygments.lexer import RegexLexer
from pygments.token import Error, Whitespace, _TokenType

COMBINE_AFTER = 500  # tokens a state finds rule by rule before its rules are combined

# a rule whose meaning depends on its own group numbers cannot be renumbered
_NUMBERED = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")
_LEADING_FLAGS = re.compile(r"\A\(\?[imsx]+\)")
_SCOPABLE = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s"}

Dispatch = tuple[Callable, dict[int, int]]


def dispatching(lexer):
    """`lexer`, tokenising through combined regexes when it is a plain RegexLexer."""
    if not isinstance(lexer, RegexLexer) or (
        type(lexer).get_tokens_unprocessed is not RegexLexer.get_tokens_unprocessed
    ):
        return lexer
    lexer.get_tokens_unprocessed = _Tokens(lexer)  # what get_tokens and `using(this)` call
    return lexer


class _Tokens:
    """A lexer's get_tokens_unprocessed, with what it knows of each state: its combined
    regex, the tokens it found so far rule by rule, or None (its rules stay apart)."""

    def __init__(self, lexer):
        self.lexer = lexer
        self.states: dict[str, Dispatch | int | None] = {}

    def __call__(self, text: str, stack=("root",)) -> Iterator[tuple[int, object, str]]:
        return _tokens(self.lexer, self.states, text, stack)


def _combined(rules: list) -> Dispatch | None:
    """(match function of the alternation of `rules`, group number -> rule index)."""
    patterns = [getattr(rule[0], "__self__", None) for rule in rules]
    if len(patterns) < 2 or not all(isinstance(p, re.Pattern) for p in patterns):
        return None
    base = patterns[0].flags
    parts, first_group, group = [], {}, 1
    for index, pattern in enumerate(patterns):
        extra = pattern.flags & ~base
        if _NUMBERED.search(pattern.pattern) or (pattern.flags | base) & re.VERBOSE:
            return None
        if (base & ~pattern.flags) or extra & ~sum(_SCOPABLE):
            return None  # a flag the rule lacks, or one a group cannot turn on
        body = _LEADING_FLAGS.sub("", pattern.pattern) if extra else pattern.pattern
        scoped = "".join(letter for flag, letter in _SCOPABLE.items() if extra & flag)
        parts.append(f"((?{scoped}:{body}))" if scoped else f"({body})")
        first_group[group] = index
        group += pattern.groups + 1
    try:
        return re.compile("|".join(parts), base).match, first_group
    except (re.error, RecursionError, OverflowError):
        return None


def _tokens(lexer, states: dict, text: str, stack) -> Iterator[tuple[int, object, str]]:
    """RegexLexer's loop: the rule found by one combined match, then the same actions and
    state changes (`#pop`, `#push`, tuples, negative pops; a new line resets to root)."""
    definitions = lexer._tokens
    stack = list(stack)
    pos = 0
    while True:
        state = stack[-1]
        rules = definitions[state]
        dispatch = states.get(state, 0)
        if type(dispatch) is int:
            states[state] = _combined(rules) if dispatch >= COMBINE_AFTER else dispatch + 1
        rule = match = None
        if type(dispatch) is tuple:
            found = dispatch[0](text, pos)
            if found is not None:
                rule = rules[dispatch[1][found.lastindex]]
                match = rule[0](text, pos)
        if type(dispatch) is not tuple or (rule is not None and match is None):  # stay exact
            rule = None
            for candidate in rules:
                match = candidate[0](text, pos)
                if match:
                    rule = candidate
                    break
        if rule is None:
            if pos >= len(text):
                return
            if text[pos] == "\n":
                stack = ["root"]
                yield pos, Whitespace, "\n"
            else:
                yield pos, Error, text[pos]
            pos += 1
            continue
        _, action, new_state = rule
        if action is not None:
            if type(action) is _TokenType:
                yield pos, action, match.group()
            else:
                yield from action(lexer, match)
        pos = match.end()
        if new_state is not None:
            _change_state(stack, new_state)


def _change_state(stack: list[str], new_state) -> None:
    if isinstance(new_state, tuple):
        for state in new_state:
            if state == "#pop":
                if len(stack) > 1:
                    stack.pop()
            elif state == "#push":
                stack.append(stack[-1])
            else:
                stack.append(state)
    elif isinstance(new_state, int):  # pop as many, keeping the root
        if abs(new_state) >= len(stack):
            del stack[1:]
        else:
            del stack[new_state:]
    elif new_state == "#push":
        stack.append(stack[-1])
    else:
        raise ValueError(f"wrong state definition: {new_state!r}")

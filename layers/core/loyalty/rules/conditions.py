"""The checks of campaign conditions at PUT: every problem of a `when` or `on_items` expression.

The CEL library compiles and evaluates but does not type-check against declared variables and has no
parse tree, so these checks are ours: a small recursive-descent parser of CEL's grammar (the library's
parser stays the judge of syntax) and a bottom-up type inference over the facts of a trigger
(`expressions.FACTS`): literals, fact paths, comparisons, arithmetic, `in`, `!`, `&&`, `||`, `?:`,
size(), sum(), contains/startsWith/endsWith/matches, int()/uint()/double()/string()/dyn(), the macros
exists/all/exists_one/map/filter (the iteration variable bound to the element type of its list) and
has(). Functions the library lacks (the string extensions, a global `matches(s, re)`) are refused here
rather than failing at purchase.

An expensive expression is refused at PUT, never slow at purchase: the bounds below, and the cost of
a whole program per event (`cost_problems`: every campaign of one trigger, their `when` and
`on_items`, counted in steps). The library's `matches` uses Rust's regex crate (linear time, no
backtracking) but compiles its pattern on every call, so a pattern is bounded in length and costed by
what compiling it takes. Only the programs function imports this module: a purchase never loads the
checker.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from annotated_types import MaxLen

from ..program import MAX_ORDER_ITEMS, MAX_TAGS, Program
from . import expressions
from .expressions import FACTS, ITEM_VARIABLE, Fact, List, Map, Nullable, Type, library

Problem = dict[str, str]
MAX_SOURCE = 1000  # characters of one expression
MAX_DEPTH = 12  # nesting of the expression tree (a chain of && or of || counts as one level)
MAX_LIST = 100  # elements of one list or map literal
MAX_COMPREHENSIONS = 2  # exists/all/map/filter nested in one another: at most items x list steps
MAX_REGEX = 100  # characters of a matches() pattern, which must be a string literal
# Steps of evaluation one event may cost, over every campaign of its trigger (`cost_problems`; a step
# is ~0.1 µs of the library's work, see `cost`): the bench's 50 campaigns on a 100-line order take
# ~590,000; tests/unit/test_campaign_bounds.py times the most expensive programs this accepts.
MAX_COST = 600_000


def campaign_problems(document: Any) -> list[dict[str, str]]:
    """Every problem of a program's campaign expressions, by field. Read from the document as sent, so
    that a campaign pydantic refuses for another field still has its expressions checked (every
    problem listed at once)."""
    found: list[dict[str, str]] = []
    raw = document.get("campaigns") if isinstance(document, dict) else None
    wallets, ids = wallet_ids(document), counter_ids(document)
    for i, c in enumerate(raw if isinstance(raw, list) else []):
        trigger = c.get("trigger") if isinstance(c, dict) else None
        if not isinstance(trigger, str) or trigger not in FACTS:
            continue  # pydantic names the trigger (of any JSON type)
        facts = expressions.program_facts(trigger, wallets, ids)
        when = c.get("when", "true")
        for message in problems(when, trigger, facts=facts) if isinstance(when, str) else []:
            found.append({"field": f"campaigns[{i}].when", "message": message})
        found += _effects_problems(f"campaigns[{i}]", c.get("effects"), trigger, facts)
        experiment = c.get("experiment")
        variants = experiment.get("variants") if isinstance(experiment, dict) else None
        for k, v in enumerate(variants if isinstance(variants, list) else []):  # checked as the campaign's own
            effects = v.get("effects") if isinstance(v, dict) else None
            found += _effects_problems(f"campaigns[{i}].experiment.variants[{k}]", effects, trigger, facts)
    return found + cost_problems(document) + counter_problems(document)


def _effects_problems(field: str, effects: Any, trigger: str, facts: Any) -> list[dict[str, str]]:
    """The expressions of a list of effects as sent (`on_items`, computed amounts)."""
    found: list[dict[str, str]] = []
    for j, effect in enumerate(effects if isinstance(effects, list) else []):
        on_items = effect.get("on_items") if isinstance(effect, dict) else None
        checked = problems(on_items, trigger, on_items=True, facts=facts) if isinstance(on_items, str) else []
        for message in checked:
            found.append({"field": f"{field}.effects[{j}].on_items", "message": message})
        for path, source in _amounts(f"{field}.effects[{j}]", effect):
            found += [{"field": path, "message": m} for m in problems(source, trigger, facts=facts, amount=True)]
    return found


def wallet_ids(document: Any) -> list[str]:
    """The ids of the program's wallets, as sent (`member.wallets.<id>` may read these only)."""
    raw = document.get("wallets") if isinstance(document, dict) else None
    return [w for w in raw if isinstance(w, str)] if isinstance(raw, dict) else []


def counter_ids(document: Any) -> list[str]:
    """The ids of the program's counters, as sent (`member.counters.<id>` may read these only)."""
    raw = document.get("counters") if isinstance(document, dict) else None
    return (
        [c["id"] for c in raw if isinstance(c, dict) and isinstance(c.get("id"), str)] if isinstance(raw, list) else []
    )


def counter_problems(document: Any) -> list[dict[str, str]]:
    """Every problem of the counters' `when` and `on_items` (over a purchase's facts, or an activity's
    for a counter of activities; `member.counters` included, `campaign` not). Their cost counts with
    the campaigns' of the same event (`cost_problems`)."""
    return [
        {"field": field, "message": message}
        for field, trigger, source, facts in _counter_expressions(document)
        for message in problems(source, trigger, on_items=field.endswith("on_items"), facts=facts)
    ]


def _counter_expressions(document: Any) -> list[tuple[str, str, str, dict[str, Fact]]]:
    """Each counter expression as sent: (field, the trigger whose facts it reads, source, facts)."""
    raw = document.get("counters") if isinstance(document, dict) else None
    ids, wallets, found = counter_ids(document), wallet_ids(document), []
    for i, c in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(c, dict):
            continue
        trigger = "activity" if c.get("counts") == "activities" else "purchase"
        facts = {k: v for k, v in expressions.program_facts(trigger, wallets, ids).items() if k != "campaign"}
        for key in ("when", "on_items") if trigger == "purchase" else ("when",):
            if isinstance(source := c.get(key), str):
                found.append((f"counters[{i}].{key}", trigger, source, facts))
    return found


# The keys of an effect whose value may be a CEL integer expression (program.COMPUTED_EFFECTS), as
# paths into the effect: a wallet's amount is ("wallet", "amount").
AMOUNT_PATHS: tuple[tuple[str, ...], ...] = (("points",), ("growth",), ("wallet", "amount"))


def _amounts(field: str, effect: Any) -> list[tuple[str, str]]:
    """The computed amounts of an effect as sent: (field, expression) each."""
    found = []
    for path in AMOUNT_PATHS:
        value = effect
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            found.append((".".join((field, *path)), value))
    return found


def cost_problems(document: Any) -> list[dict[str, str]]:
    """The campaign field that takes the work of one event of its trigger over MAX_COST, per trigger:
    a purchase runs every purchase campaign's `when`, and every `on_items` of those that hold (and the
    program's counters of purchases before them: a counter's field when they alone pass it)."""
    raw = document.get("campaigns") if isinstance(document, dict) else None
    total: dict[str, int] = {}
    found: list[dict[str, str]] = []
    ids, wallets = counter_ids(document), wallet_ids(document)
    # The counters run first on every purchase and activity: their work counts toward the same bound.
    for field, trigger, source, facts in _counter_expressions(document):
        before = total.get(trigger, 0)
        total[trigger] = before + cost(source, trigger, field.endswith("on_items"), facts)
        if before <= MAX_COST < total[trigger]:
            steps = total[trigger] - before
            message = (
                f"costs {steps:,} steps of evaluation on {_a(trigger)}, and the program's counters of {_a(trigger)}"
            )
            message += (
                f" would cost {total[trigger]:,} together: more than {MAX_COST:,} (the bound of one event's work)"
            )
            found.append({"field": field, "message": message})
    for i, c in enumerate(raw if isinstance(raw, list) else []):
        trigger = c.get("trigger") if isinstance(c, dict) else None
        if not isinstance(trigger, str) or trigger not in FACTS or total.get(trigger, 0) > MAX_COST:
            continue
        for field, steps in _campaign_costs(i, c, trigger, expressions.program_facts(trigger, wallets, ids)):
            total[trigger] = total.get(trigger, 0) + steps
            if total[trigger] > MAX_COST:
                found.append({"field": field, "message": _over(trigger, steps, total[trigger])})
                break
    return found


def _campaign_costs(i: int, campaign: dict[str, Any], trigger: str, facts: dict[str, Fact]) -> list[tuple[str, int]]:
    when = campaign.get("when", "true")
    costs = [(f"campaigns[{i}].when", cost(when, trigger, facts=facts) if isinstance(when, str) else 0)]
    effects = campaign.get("effects")
    for j, effect in enumerate(effects if isinstance(effects, list) else []):
        on_items = effect.get("on_items") if isinstance(effect, dict) else None
        if isinstance(on_items, str):
            costs.append((f"campaigns[{i}].effects[{j}].on_items", cost(on_items, trigger, True, facts)))
        costs += [
            (field, cost(source, trigger, facts=facts))
            for field, source in _amounts(f"campaigns[{i}].effects[{j}]", effect)
        ]
    return costs


def _over(trigger: str, steps: int, total: int) -> str:
    return (
        f"costs {steps:,} steps of evaluation on {_a(trigger)}, and {_a(trigger)} would cost {total:,} with the"
        f" {trigger} campaigns before it: more than {MAX_COST:,} (the bound of one event's campaigns). A"
        f" comprehension counts its body once per element of its list (order.items: {MAX_ORDER_ITEMS},"
        f" member.tags: {MAX_TAGS}), so nested ones multiply; map() and filter() also copy their result"
        f" once per element; on_items runs once per order item; a matches() pattern costs its compilation"
        f" on every call"
    )


def problems(
    source: str, trigger: str, on_items: bool = False, facts: dict[str, Fact] | None = None, amount: bool = False
) -> list[str]:
    """Every problem of a `when` (or, with `on_items`, an `on_items` expression, where `i` is one order
    item) for a campaign of `trigger`; [] when it is sound. `facts`: a narrower scope than the trigger's
    (a restricted item's `who`). `amount`: a computed amount (an effect's points or growth), an int."""
    facts = facts if facts is not None else FACTS.get(trigger)
    if facts is None:
        return [f"unknown trigger {trigger!r}; triggers are {', '.join(FACTS)}"]
    if len(source) > MAX_SOURCE:
        return [f"longer than {MAX_SOURCE} characters (the bound of a campaign expression)"]
    try:
        tree = _Parser(source).parse()
    except _Bound as bound:
        return [str(bound)]
    except SyntaxError as error:
        return [_library_syntax_error(source) or f"syntax error: {error}"]
    if (refused := _library_syntax_error(source)) is not None:
        return [refused]
    scope: dict[str, Type] = dict(facts)
    found: list[str] = []
    if on_items:
        if "order" not in facts:
            found.append(f"on_items needs an order: {_a(trigger)} campaign has no order items")
        scope[ITEM_VARIABLE] = _item(trigger)
    # Where the scope is narrower than the trigger's (a grant's `when`, a restricted item's `who`), a
    # fact outside it is named as not here, not as missing from the trigger's campaigns.
    narrowed = set(facts) != set(FACTS.get(trigger) or ())
    kind = _Checker(None if narrowed else trigger, scope, found).infer(tree, 0)
    if amount:  # a computed amount (campaign effects' points, growth): an int
        if kind != "int" and not found:
            found.append(f"must be an integer amount (int), not {_show(kind)}{_CONVERT if kind != 'bool' else ''}")
    elif kind not in ("bool", "dyn") and not found:
        found.append(f"must be a condition (bool), not {_show(kind)}")
    elif kind == "dyn" and not found:
        found.append("must be a condition (bool); its type is known only when it runs (dyn)")
    return found


_CONVERT = " (convert with int())"


def _item(trigger: str) -> Fact:
    """The order item of a trigger's facts (a checkout's has prices)."""
    items = FACTS["purchase" if "order" not in FACTS[trigger] else trigger]["order"].fields["items"]
    assert isinstance(items, List) and isinstance(items.elem, Fact)
    return items.elem


def pricing_problems(document: Any) -> list[dict[str, str]]:
    """Every problem of the checkout's own expressions, by field, from the document as sent: coupon
    templates' `applies_to` and `pricing.restricted`'s `on_items` (item conditions over a checkout's
    lines) and `who` (over `member` and `at`)."""
    doc = document if isinstance(document, dict) else {}
    expressions_: list[tuple[str, Any, bool, dict[str, Fact] | None]] = []  # field, source, on_items, facts
    coupons = doc.get("coupons")
    for template_id, template in coupons.items() if isinstance(coupons, dict) else []:
        source = template.get("applies_to") if isinstance(template, dict) else None
        expressions_.append((f"coupons.{template_id}.applies_to", source, True, None))
    pricing = doc.get("pricing")
    restricted = pricing.get("restricted") if isinstance(pricing, dict) else None
    for i, raw in enumerate(restricted if isinstance(restricted, list) else []):
        rule = raw if isinstance(raw, dict) else {}
        expressions_.append((f"pricing.restricted[{i}].on_items", rule.get("on_items"), True, None))
        expressions_.append((f"pricing.restricted[{i}].who", rule.get("who"), False, expressions.WHO_FACTS))
    found: list[Problem] = []
    total = 0
    for field, source, on_items, facts in expressions_:
        if not isinstance(source, str):
            continue  # absent, or pydantic names its type
        found += [{"field": field, "message": m} for m in problems(source, "checkout", on_items, facts)]
        # A checkout runs every restricted rule, and the applies_to of each coupon sent: one bound for all.
        steps = cost(source, "checkout", on_items)
        if total <= MAX_COST < total + steps:
            found.append({"field": field, "message": _over_pricing(steps, total + steps)})
        total += steps
    return found


def _over_pricing(steps: int, total: int) -> str:
    return (
        f"costs {steps:,} steps of evaluation on a checkout, and the coupons' applies_to and the restricted"
        f" items' expressions up to it {total:,}: more than {MAX_COST:,} (the bound of one checkout's own"
        f" expressions). An item condition runs once per line (at most {MAX_ORDER_ITEMS}), and a comprehension"
        " over order.items inside it once per line again"
    )


def _library_syntax_error(source: str) -> str | None:
    try:
        library().compile(source)
    except Exception as error:
        return _syntax_error(str(error))
    return None


def _syntax_error(message: str) -> str:
    """The library's first error, where (line only when past the first) and what it expected, in
    words: its parser's own text names grammar tokens (`mismatched input '<EOF>' expecting {'[',
    NUM_INT, IDENTIFIER, ...}`). The message repeats the source before its "ERROR: <input>:1:4: ..." lines."""
    found = re.findall(r"ERROR: <input>:(\d+):(\d+): (.*)", message)
    if not found:
        return f"syntax error: {message.splitlines()[0]}"
    # An incomplete ?: is reported at 1:1 before the grammar's error that says what is missing.
    line, column, text = next((f for f in found if f[2].startswith("Syntax error: ")), found[0])
    where = f"column {column}" if line == "1" else f"line {line}, column {column}"
    return f"syntax error at {where}: {_in_words(text.removeprefix('Syntax error: '))}"


_VALUE = "a value (a name, a number, a string, a list, or an expression in parentheses)"
_NOT_CEL = {"=": "compare with ==", "&": "and is &&", "|": "or is ||"}
_CLOSERS = ("')'", "']'", "'}'", "','", "':'")


def _in_words(text: str) -> str:  # noqa: PLR0911 - one return per kind of parser message
    if found := re.fullmatch(r"mismatched input '(.*)' expecting (.*)", text):
        got, expected = found.groups()
        if got == "<EOF>":
            return f"the expression ends where {_expected(expected)} was expected"
        return f"found `{got}` where {_expected(expected)} was expected"
    if found := re.fullmatch(r"extraneous input '(.*)' expecting (.*)", text):
        got, expected = found.groups()
        if expected == "<EOF>":
            return f"unexpected `{got}` after the end of the expression"
        return f"unexpected `{got}` where {_expected(expected)} was expected"
    if found := re.fullmatch(r"missing '(.*)' at '(.*)'", text):
        missing, at = found.groups()
        return f"missing `{missing}` " + ("at the end" if at == "<EOF>" else f"before `{at}`")
    if found := re.fullmatch(r"token recognition error at: '(.*)'", text, re.DOTALL):
        symbol = found.group(1)[:1]
        if symbol in ("'", '"'):
            return "a string that is not closed"
        hint = _NOT_CEL.get(symbol)
        return f"`{symbol}` is not CEL" + (f" ({hint})" if hint else "")
    if found := re.fullmatch(r"no viable alternative at input '(.*)'", text):
        return f"cannot read `{found.group(1)}` here"
    return text  # the library's own words (has(), a macro's variable...)


def _expected(tokens: str) -> str:
    """`{'[', NUM_INT, IDENTIFIER, ...}` -> "a value (...)"; `{'==', ')', ','}` -> "an operator, `)` or `,`"."""
    names = re.findall(r"'[^']*'|<EOF>|[A-Z_]+", tokens)
    if "IDENTIFIER" in names:
        return _VALUE
    words = ["the end of the expression"] if "<EOF>" in names else []
    if any(n not in _CLOSERS and n != "<EOF>" for n in names):
        words.append("an operator")
    words += [f"`{n[1:-1]}`" for n in _CLOSERS if n in names]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


class _Bound(Exception):
    """An expression over one of the bounds."""


@dataclass(eq=False)
class _Node:
    kind: str  # a literal's type, ident, select, index, call, list, map, or op
    value: str = ""  # a literal's source, a name, a field, a function or an operator
    args: tuple[_Node, ...] = ()
    target: _Node | None = None  # a call's receiver (`x.size()`)
    depth: int = 1


_TOKEN = re.compile(
    r"""(?P<space>\s+|//[^\n]*)
    |(?P<double>(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
    |(?P<uint>(?:0[xX][0-9a-fA-F]+|\d+)[uU])
    |(?P<int>0[xX][0-9a-fA-F]+|\d+)
    |(?P<raw>(?P<rawprefix>[rR][bB]?|[bB][rR])(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'[^'\n]*'|"[^"\n]*"))
    |(?P<string>(?P<prefix>[bB])?(?:
        '''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*"))
    |(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)
    |(?P<op>&&|\|\||==|!=|<=|>=|[<>!?:.,+\-*/%\[\](){}])""",
    re.VERBOSE,
)
_RELATIONS = ("==", "!=", "<", "<=", ">", ">=", "in")
_MACROS = ("exists", "all", "exists_one", "map", "filter")


class _Parser:
    """CEL's grammar (langdef.md) by recursive descent, into `_Node`s; depth and list sizes bounded as
    it goes, so a hostile expression stops early (and never nests Python's stack deep)."""

    def __init__(self, source: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        at = 0
        while at < len(source):
            found = _TOKEN.match(source, at)
            if not found:
                raise SyntaxError(f"unexpected {source[at]!r} at {at + 1}")
            at = found.end()
            kind = found.lastgroup or ""
            if kind == "space":
                continue
            if kind in ("raw", "string"):  # raw: no escapes, so r'a\' ends at its second quote
                prefix = found.group("rawprefix" if kind == "raw" else "prefix") or ""
                kind = "bytes" if "b" in prefix.lower() else "string"
            elif kind == "name" and found.group() in ("true", "false"):
                kind = "bool"
            elif kind == "name" and found.group() == "null":
                kind = "null"
            elif kind == "name" and found.group() == "in":
                kind = "op"
            self.tokens.append((kind, found.group()))
        self.at = 0
        self.level = 0

    def parse(self) -> _Node:
        tree = self.expr()
        if self.at < len(self.tokens):
            raise SyntaxError(f"unexpected {self.tokens[self.at][1]!r}")
        return tree

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) and self.tokens[self.at][0] == "op" else ""

    def take(self, op: str) -> None:
        if self.peek() != op:
            got = self.tokens[self.at][1] if self.at < len(self.tokens) else "the end"
            raise SyntaxError(f"expected {op!r}, not {got!r}")
        self.at += 1

    def node(self, kind: str, value: str = "", *args: _Node, target: _Node | None = None) -> _Node:
        children = (*args, target) if target else args
        # a chain of one logical operator is one level: CEL's own parser balances it
        flat = value in ("&&", "||")
        depth = 1 + max((c.depth - (flat and c.kind == "op" and c.value == value) for c in children), default=0)
        if depth > MAX_DEPTH:
            raise _Bound(f"nested deeper than {MAX_DEPTH} levels (the bound of a campaign expression)")
        return _Node(kind, value, args, target, depth)

    def expr(self) -> _Node:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise _Bound(f"nested deeper than {MAX_DEPTH} levels (the bound of a campaign expression)")
        condition = self.binary(0)
        if self.peek() == "?":
            self.at += 1
            then = self.binary(0)
            self.take(":")
            condition = self.node("op", "?:", condition, then, self.expr())
        self.level -= 1
        return condition

    _LEVELS = (("||",), ("&&",), _RELATIONS, ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> _Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self._LEVELS[level]:
            op = self.peek()
            self.at += 1
            left = self.node("op", op, left, self.binary(level + 1))
        return left

    def unary(self) -> _Node:
        ops: list[str] = []
        while self.peek() in ("!", "-"):
            ops.append(self.peek())
            self.at += 1
        if ops and ops[-1] == "-" and self.at < len(self.tokens) and self.tokens[self.at][0] in ("int", "double"):
            kind, text = self.tokens[self.at]  # -9223372036854775808 is a literal, not -(a literal too large)
            self.tokens[self.at] = (kind, "-" + text)
            ops.pop()
        operand = self.member()
        for op in reversed(ops):
            operand = self.node("op", op + "_", operand)
        return operand

    def member(self) -> _Node:
        operand = self.primary()
        while True:
            if self.peek() == ".":
                self.at += 1
                field = self.name()
                if self.peek() == "(":
                    operand = self.node("call", field, *self.arguments(")"), target=operand)
                else:
                    operand = self.node("select", field, operand)
            elif self.peek() == "[":
                self.at += 1
                index = self.expr()
                self.take("]")
                operand = self.node("index", "", operand, index)
            else:
                return operand

    def name(self) -> str:
        if self.at < len(self.tokens) and self.tokens[self.at][0] == "name":
            self.at += 1
            return self.tokens[self.at - 1][1]
        raise SyntaxError("expected a name")

    def arguments(self, close: str) -> list[_Node]:
        self.take("(" if close == ")" else "[")
        args: list[_Node] = []
        while self.peek() != close:
            args.append(self.expr())
            if len(args) > MAX_LIST:
                raise _Bound(f"a list of more than {MAX_LIST} elements (the bound of a campaign expression)")
            if self.peek() != close:
                self.take(",")
        self.at += 1
        return args

    def primary(self) -> _Node:
        if self.at >= len(self.tokens):
            raise SyntaxError("unexpected end")
        kind, text = self.tokens[self.at]
        if kind == "name":
            self.at += 1
            if self.peek() == "(":
                return self.node("call", text, *self.arguments(")"))
            if self.peek() == "{":
                raise SyntaxError(f"{text}{{...}}: there are no message types")
            return self.node("ident", text)
        if kind != "op":
            self.at += 1
            return self.node(kind, text)
        if text == "(":
            self.at += 1
            inner = self.expr()
            self.take(")")
            return inner
        if text == "[":
            return self.node("list", "", *self.arguments("]"))
        if text == "{":
            self.at += 1
            entries: list[_Node] = []
            while self.peek() != "}":
                key = self.expr()
                self.take(":")
                entries += (key, self.expr())
                if len(entries) > 2 * MAX_LIST:
                    raise _Bound(f"a map of more than {MAX_LIST} entries (the bound of a campaign expression)")
                if self.peek() != "}":
                    self.take(",")
            self.at += 1
            return self.node("map", "", *entries)
        raise SyntaxError(f"unexpected {text!r}")


_NUMBERS = ("int", "uint", "double")
_ORDERED = ("int", "uint", "double", "string", "bytes", "bool")
_ARITHMETIC = {"+": (*_NUMBERS, "string", "bytes"), "-": _NUMBERS, "*": _NUMBERS, "/": _NUMBERS, "%": ("int", "uint")}
_STRING_TESTS = ("contains", "startsWith", "endsWith", "matches")
_CONVERSIONS = {
    "int": ("int", "uint", "double", "string"),
    "uint": ("int", "uint", "double", "string"),
    "double": ("int", "uint", "double", "string"),
    "string": ("int", "uint", "double", "string", "bytes", "bool"),
}
_FUNCTIONS = ("size", *_STRING_TESTS, *_CONVERSIONS, "dyn", "has", *_MACROS, "sum")


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _show(kind: Type) -> str:
    if isinstance(kind, Nullable):
        return f"{_show(kind.of)} or null"
    if isinstance(kind, List):
        return f"list({_show(kind.elem)})"
    if isinstance(kind, Map):
        return f"map({_show(kind.key)}, {_show(kind.value)})"
    if isinstance(kind, Fact):
        return "an order item" if kind.name == "item" else kind.name
    return kind


def _compatible(a: Type, b: Type) -> bool:
    """Whether `a == b` may be true: the same type, numbers of any kind (CEL compares them as numbers),
    or not known until run (dyn); a value that may be null, with null or with its own type."""
    if isinstance(a, Nullable) or isinstance(b, Nullable):
        return "null" in (a, b) or _compatible(_bare(a), _bare(b))
    if a == "dyn" or b == "dyn" or (a in _NUMBERS and b in _NUMBERS):
        return True
    if isinstance(a, List) and isinstance(b, List):
        return _compatible(a.elem, b.elem)
    if isinstance(a, Map) and isinstance(b, Map):
        return _compatible(a.key, b.key) and _compatible(a.value, b.value)
    return a is b if isinstance(a, Fact) else a == b


def _bare(kind: Type) -> Type:
    """A nullable value where only its value makes sense (it is null: the expression is false)."""
    return kind.of if isinstance(kind, Nullable) else kind


def _join(kinds: list[Type]) -> Type:
    """The element type of a list literal (dyn when they differ)."""
    first = next((k for k in kinds if k != "dyn"), "dyn")
    return first if all(k == first for k in kinds) else "dyn"


def _path(node: _Node) -> str:
    if node.kind == "ident":
        return node.value
    if node.kind == "select":
        return f"{_path(node.args[0])}.{node.value}"
    if node.kind == "index":
        return f"{_path(node.args[0])}[...]"
    return "(...)"


class _Checker:
    """Bottom-up type inference; each problem is recorded and its subexpression typed dyn, so one PUT
    lists them all."""

    def __init__(self, trigger: str | None, scope: dict[str, Type], found: list[str]) -> None:
        self.trigger = trigger
        self.scope = scope
        self.found = found

    def fail(self, problem: str) -> Type:
        if problem not in self.found:
            self.found.append(problem)
        return "dyn"

    def infer(self, node: _Node, loops: int) -> Type:  # noqa: PLR0911 - one return per kind of node
        kind = node.kind
        if kind in ("int", "uint", "double", "string", "bytes", "bool", "null"):
            return kind
        if kind == "ident":
            return self.ident(node.value)
        if kind == "list":
            return List(_join([self.infer(a, loops) for a in node.args]))
        if kind == "map":
            kinds = [self.infer(a, loops) for a in node.args]
            return Map(_join(kinds[0::2]), _join(kinds[1::2]))
        if kind == "select":
            return self.select(node, _bare(self.infer(node.args[0], loops)))
        if kind == "index":
            return self.index(*(_bare(self.infer(a, loops)) for a in node.args))
        if kind == "call":
            return self.call(node, loops)
        kinds = [self.infer(a, loops) for a in node.args]
        return self.operator(node.value, kinds if node.value in ("==", "!=", "?:") else [_bare(k) for k in kinds])

    def ident(self, name: str) -> Type:
        if name in self.scope:
            return self.scope[name]
        facts = ", ".join(n for n in self.scope if n != ITEM_VARIABLE)
        if name == ITEM_VARIABLE:
            return self.fail(f"unknown fact {name}: the order item `i` is only in on_items (facts: {facts})")
        if any(name in facts_of for facts_of in FACTS.values()):
            where = f"of {_a(self.trigger)} campaign" if self.trigger is not None else "here"
            return self.fail(f"{name} is not a fact {where} (facts: {facts})")
        return self.fail(f"unknown fact {name} (facts: {facts})")

    def select(self, node: _Node, operand: Type) -> Type:
        if isinstance(operand, Fact):
            if node.value in operand.fields:
                return operand.fields[node.value]
            owner = _path(node.args[0])
            return self.fail(f"unknown fact {owner}.{node.value}; {owner} has {', '.join(operand.fields)}")
        if isinstance(operand, Map) and operand.key in ("string", "dyn"):
            return operand.value
        if operand == "dyn":
            return "dyn"
        return self.fail(f"{_path(node)}: {_show(operand)} has no fields")

    def index(self, operand: Type, key: Type) -> Type:
        if isinstance(operand, List):
            return (
                operand.elem
                if key in ("int", "uint", "dyn")
                else self.fail(f"a list index is an int, not {_show(key)}")
            )
        if isinstance(operand, Map):
            return (
                operand.value
                if _compatible(operand.key, key)
                else self.fail(f"a {_show(operand)} has no {_show(key)} keys")
            )
        if isinstance(operand, Fact):
            return self.fail(f"{_show(operand)} is read by its fields (member.tier), not indexed")
        return "dyn" if operand == "dyn" else self.fail(f"{_show(operand)} cannot be indexed")

    def operator(self, op: str, kinds: list[Type]) -> Type:  # noqa: PLR0911 - one return per operator
        if op in ("!_", "&&", "||"):
            for kind in kinds:
                if kind not in ("bool", "dyn"):
                    self.fail(f"{op.strip('_')} needs bool operands, not {_show(kind)}")
            return "bool"
        if op == "-_":
            return kinds[0] if kinds[0] in ("int", "double", "dyn") else self.fail(f"cannot negate {_show(kinds[0])}")
        if op == "?:":
            condition, then, otherwise = kinds
            if condition not in ("bool", "dyn"):
                self.fail(f"the condition of ?: is a bool, not {_show(condition)}")
            if not _compatible(then, otherwise) or (then in _NUMBERS and otherwise in _NUMBERS and then != otherwise):
                return self.fail(f"the branches of ?: differ: {_show(then)} and {_show(otherwise)}")
            return otherwise if then == "dyn" else then
        left, right = kinds
        if op in ("==", "!="):
            if not _compatible(left, right):
                return self.fail(f"cannot compare {_show(left)} {op} {_show(right)}")
            return "bool"
        if op in ("<", "<=", ">", ">="):
            if "dyn" in kinds or (left in _NUMBERS and right in _NUMBERS) or (left == right and left in _ORDERED):
                return "bool"
            return self.fail(f"cannot compare {_show(left)} {op} {_show(right)}")
        if op == "in":
            if isinstance(right, List | Map):
                element = right.elem if isinstance(right, List) else right.key
                if not _compatible(left, element):
                    self.fail(f"{_show(left)} in {_show(right)}: never true")
                return "bool"
            return "bool" if right == "dyn" else self.fail(f"`in` needs a list or a map, not {_show(right)}")
        if "dyn" in kinds:
            return "dyn"
        if op == "+" and isinstance(left, List) and isinstance(right, List):
            return List(_join([left.elem, right.elem]))
        if left == right and left in _ARITHMETIC[op]:
            return left
        mixed = " (convert with int() or double())" if left in _NUMBERS and right in _NUMBERS else ""
        return self.fail(f"no operator {_show(left)} {op} {_show(right)}{mixed}")

    def call(self, node: _Node, loops: int) -> Type:  # noqa: PLR0911 - one return per function
        name, args, target = node.value, node.args, node.target
        if name not in _FUNCTIONS:
            return self.fail(f"unknown function {name}(); the functions are {', '.join(_FUNCTIONS)}")
        if name in _MACROS and target is not None:
            return self.macro(node, loops)
        if name == "has":
            if target is not None or len(args) != 1 or args[0].kind != "select":
                return self.fail("has() takes one field, as in has(member.tier)")
            self.infer(args[0], loops)
            return "bool"
        if name in _MACROS:
            return self.fail(f"{name}() is called on a list: items.{name}(x, ...)")
        subject = [target] if target is not None else []
        kinds = [_bare(self.infer(a, loops)) for a in (*subject, *args)]
        if name == "sum":
            return self.sum(target, kinds)
        if name == "size":
            if len(kinds) != 1:
                return self.fail("size() takes one value: size(x) or x.size()")
            if kinds[0] in ("string", "bytes", "dyn") or isinstance(kinds[0], List | Map):
                return "int"
            return self.fail(f"size() of {_show(kinds[0])}")
        if name in _STRING_TESTS:
            if target is None or len(args) != 1:
                return self.fail(f"{name}() is called on a string with one argument: s.{name}('x')")
            if any(k not in ("string", "dyn") for k in kinds):
                return self.fail(f"{name}() takes strings, not {' and '.join(_show(k) for k in kinds)}")
            if name == "matches":
                self.pattern(args[0])
            return "bool"
        if target is not None or len(kinds) != 1:
            return self.fail(f"{name}() takes one argument: {name}(x)")
        if name == "dyn":
            return "dyn"
        if kinds[0] not in (*_CONVERSIONS[name], "dyn"):
            return self.fail(f"{name}() of {_show(kinds[0])}")
        return name

    def sum(self, target: _Node | None, kinds: list[Type]) -> Type:
        """sum(list of int) (rules/expressions._sum): an int."""
        if target is not None or len(kinds) != 1:
            return self.fail("sum() takes one list: sum(order.items.map(i, i.amount_minor))")
        kind = kinds[0]
        if kind == "dyn" or (isinstance(kind, List) and kind.elem in ("int", "dyn")):
            return "int"
        return self.fail(f"sum() takes a list of int, not {_show(kind)}")

    def pattern(self, node: _Node) -> None:
        if node.kind != "string":
            self.fail("matches() takes a string literal pattern")
        elif len(node.value) > MAX_REGEX + 2:
            self.fail(f"a matches() pattern longer than {MAX_REGEX} characters (the bound of a campaign expression)")
        else:
            try:  # the library's own regex engine judges the pattern
                library().compile(f"''.matches({node.value})").execute({})
            except Exception as error:
                reason = [line for line in str(error).splitlines() if line.strip()][-1].removeprefix("error: ")
                reason = reason.split(". Check function")[0]  # the library's hint for programmers
                self.fail(f"matches(): {node.value} is not a regular expression ({reason})")

    def macro(self, node: _Node, loops: int) -> Type:
        name, args = node.value, node.args
        if loops + 1 > MAX_COMPREHENSIONS:
            return self.fail(
                f"more than {MAX_COMPREHENSIONS} nested exists/all/map/filter (the bound of a campaign expression)"
            )
        arity = (2, 3) if name == "map" else (2,)
        if len(args) not in arity or args[0].kind != "ident":
            return self.fail(f"{name}() takes a variable and an expression: items.{name}(x, ...)")
        assert node.target is not None
        source = _bare(self.infer(node.target, loops))
        if isinstance(source, List):
            element = source.elem
        elif isinstance(source, Map):
            element = source.key
        elif source == "dyn":
            element = "dyn"
        else:
            return self.fail(f"{name}() runs over a list or a map, not {_show(source)}")
        variable = args[0].value
        shadowed = self.scope.get(variable)
        self.scope[variable] = element
        try:
            kinds = [self.infer(a, loops + 1) for a in args[1:]]
        finally:
            if shadowed is None:
                del self.scope[variable]
            else:
                self.scope[variable] = shadowed
        conditions = kinds[:-1] if name == "map" else kinds
        for kind in conditions:
            if kind not in ("bool", "dyn"):
                self.fail(f"the condition of {name}() is a bool, not {_show(kind)}")
        if name == "map":
            return List(kinds[-1])
        if name == "filter":
            return List(element)
        return "bool"


# --- the cost of an event ----------------------------------------------------------------------------
# A step is ~0.1 µs of the library's work at most; each weight below is from a measurement of
# common-expression-language 0.10.0 on a 100-line order with every string at its longest (64).

ITERATION = 8  # one element of a comprehension (~0.8 µs)
_STRING = 3  # a string's weight when copied, compared or converted (an int or a bool: 1)
_MAP = 4  # a map's weight besides its values (an item copied: ~1 µs)
_RESOLVED = 80  # `i` resolved through Python for an item answered alone (~5 µs)
_RESOLVED_CAMPAIGN = 20  # `campaign`, resolved through Python for its campaign (~2 µs)
_PER_ITEM = 100  # one item answered alone (rules/expressions.test's fallback: ~5.5 µs)
_SUM = 10  # sum(): the call into Python (~0.7 µs)
_SUM_ELEMENT = 3  # and each element converted and added (~0.25 µs)

# The most elements of each list fact (list literals have their own length; map() and filter() that
# of the list they run over).
_LENGTHS: dict[tuple[str, str], int] = {
    ("order", "items"): MAX_ORDER_ITEMS,
    ("member", "tags"): MAX_TAGS,
    # a member holds at most one card per plan of the program
    ("member", "paid_cards"): next(
        m.max_length for m in Program.model_fields["paid_cards"].metadata if isinstance(m, MaxLen)
    ),
}


@dataclass(frozen=True)
class _Shape:
    """The most a value can hold: `dims`, the most elements at each level of nesting (() for a single
    value, (100,) for order.items); `leaf`, the weight of one innermost element (an item: its fields')."""

    dims: tuple[int, ...] = ()
    leaf: int = 1
    fact: Fact | None = None  # the fact an innermost element is, whose fields a select reads

    @property
    def size(self) -> int:
        return math.prod(self.dims) * self.leaf

    def element(self) -> _Shape:
        return _Shape(self.dims[1:], self.leaf, self.fact)


_ONE = _Shape()
_TEXT = _Shape(leaf=_STRING)


def _length(shape: _Shape) -> int:
    return shape.dims[0] if shape.dims else 1


def _merge(shapes: list[_Shape]) -> _Shape:
    """A shape that holds each of `shapes` (a literal's elements, the branches of ?:)."""
    if not shapes:
        return _ONE
    depth = max(len(s.dims) for s in shapes)
    dims = tuple(max((s.dims[k] for s in shapes if k < len(s.dims)), default=1) for k in range(depth))
    facts = {s.fact for s in shapes}
    return _Shape(dims, max(s.leaf for s in shapes), facts.pop() if len(facts) == 1 else None)


def _of(kind: Type, length: int = 1) -> _Shape:
    kind = _bare(kind)
    if isinstance(kind, List):
        inner = _of(kind.elem)
        return _Shape((length, *inner.dims), inner.leaf, inner.fact)
    if isinstance(kind, Fact):
        fields = [_of(t, _LENGTHS.get((kind.name, f), 1)).size for f, t in kind.fields.items()]
        return _Shape((), sum(fields) + _MAP, kind)
    return _TEXT if kind in ("string", "bytes") else _ONE


def cost(source: str, trigger: str, on_items: bool = False, facts: dict[str, Fact] | None = None) -> int:
    """The most steps one evaluation of `source` takes on an event of `trigger` (an `on_items`: over
    every order item, as rules/expressions evaluates it). 0 for an expression `problems` refuses
    unparsed (it never runs)."""
    try:
        tree = _Parser(source).parse()
    except (_Bound, SyntaxError):
        return 0
    scope = {name: _of(fact) for name, fact in (FACTS[trigger] if facts is None else facts).items()}
    if not on_items:
        return _Cost(scope).steps(tree)[0]
    # As expressions.compile runs it: `order.items.map(i, (source))`; and when it may err on an item,
    # once more per item on a context of its own (its facts converted once, `i` resolved in Python).
    items = _Node("select", "items", (_Node("ident", "order"),))
    steps = _Cost(scope).steps(_Node("call", "map", (_Node("ident", ITEM_VARIABLE), tree), target=items))[0]
    if not _may_err(tree):
        return steps
    alone = _Cost(scope | {ITEM_VARIABLE: _of(_item(trigger))}, item_resolved=True).steps(tree)[0]
    return steps + MAX_ORDER_ITEMS * (_PER_ITEM + alone)


_ERRING_OPS = ("/", "%", "+", "-", "*", "-_")  # division by zero, overflow
_ERRING_CALLS = ("int", "uint", "double", "dyn", "sum")  # a value out of range, a type known only when run


def _may_err(node: _Node) -> bool:
    """Whether a well-typed expression may still fail when run (the checker has refused the rest)."""
    if node.kind in ("index", "map") or (node.kind == "op" and node.value in _ERRING_OPS):
        return True
    if node.kind == "call" and node.value in _ERRING_CALLS:
        return True
    return any(_may_err(n) for n in (*node.args, *([node.target] if node.target else [])))


# Compiling a regex (the library does on every matches() call), in steps: Unicode classes are large
# automata (\w ~190 µs, \d ~35 µs, \s, \b, `.` and a negated class ~20 µs, measured); a repetition
# {n,m} compiles its atom m times.
_CLASS_STEPS = {"w": 4000, "W": 4000, "p": 4000, "P": 4000, "d": 800, "D": 800, "s": 400, "S": 400, "b": 400, "B": 400}
_WIDE = 400  # `.` or a negated class
_CHAR = 15
_COMPILE = 100  # a pattern of a few characters (~6 µs)
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")


def regex_cost(pattern: str) -> int:
    """The steps one compilation of `pattern` may take (an overestimate: a sum over its atoms)."""
    groups: list[tuple[int, int]] = []
    total = last = 0
    at = 0
    while at < len(pattern):
        ch = pattern[at]
        atom = _CHAR
        if ch == "\\":
            letter = pattern[at + 1 : at + 2]
            atom = _CLASS_STEPS.get(letter, _CHAR)
            at += 2
            if letter in ("p", "P"):  # \pL or \p{Greek}
                at = (pattern.find("}", at) + 1 or len(pattern)) if pattern[at : at + 1] == "{" else at + 1
        elif ch == "[":
            atom, at = _class_cost(pattern, at)
        elif ch == ".":
            atom, at = _WIDE, at + 1
        elif ch == "(":
            groups.append((total, last))
            total = last = 0
            at += 1
            if pattern[at : at + 1] == "?":  # flags or a name: `(?i)`, `(?i:`, `(?P<n>`
                end = min((k for k in (pattern.find(c, at) for c in ":)>") if k >= 0), default=len(pattern))
                at = end + (pattern[end : end + 1] in (":", ">"))
            continue
        elif ch == ")":
            atom = total
            total, last = groups.pop() if groups else (0, 0)
            at += 1
        elif ch == "{" and (repeat := _REPEAT.match(pattern, at)):
            low, high = int(repeat.group(1)), repeat.group(3)
            times = low + 1 if high == "" else int(high or low)  # {n,}: n copies and a loop
            total += last * (times - 1)
            last *= times
            at = repeat.end()
            continue
        else:
            at += 1
            if ch in "*+?|^$":
                continue
        total += atom
        last = atom
    return _COMPILE + total + sum(t for t, _ in groups)


def _class_cost(pattern: str, at: int) -> tuple[int, int]:
    """A bracketed class from its `[`: its steps and where it ends."""
    at += 1
    steps = _CHAR
    if pattern[at : at + 1] == "^":
        steps, at = _WIDE, at + 1
    if pattern[at : at + 1] == "]":
        at += 1
    depth = 1
    while at < len(pattern) and depth:
        ch = pattern[at]
        if ch == "\\":
            steps += _CLASS_STEPS.get(pattern[at + 1 : at + 2], 0)
            at += 2
            continue
        depth += (ch == "[") - (ch == "]")
        at += 1
    return steps, at


class _Cost:
    """The worst-case steps of a parsed expression: a step per node, a comprehension's body once per
    element of its list, what copies or compares whole values by their weight."""

    def __init__(self, scope: dict[str, _Shape], item_resolved: bool = False) -> None:
        self.scope = scope
        # read through Python on every read (rules/expressions.Activation.context_for)
        self.resolved = {"campaign": _RESOLVED_CAMPAIGN} | ({ITEM_VARIABLE: _RESOLVED} if item_resolved else {})

    def steps(self, node: _Node) -> tuple[int, _Shape]:  # noqa: PLR0911 - one return per kind of node
        kind = node.kind
        if kind == "ident":
            shape = self.scope.get(node.value, _ONE)
            read = self.resolved.get(node.value, 1)
            return read + _copied(shape), shape
        if kind == "call" and node.value in _MACROS and node.target is not None and node.args:
            return self.comprehension(node)
        children = [self.steps(a) for a in (*node.args, *([node.target] if node.target else []))]
        steps = 1 + sum(c for c, _ in children)
        shapes = [s for _, s in children]
        if kind == "list":
            each = _merge(shapes)
            return steps, _Shape((len(shapes), *each.dims), each.leaf, each.fact)
        if kind == "map":
            values = _merge(shapes[1::2])
            return steps, _Shape((len(shapes) // 2, *values.dims), values.leaf, values.fact)
        if kind == "select":
            shape = self.select(shapes[0], node.value)
            return steps + _copied(shape), shape
        if kind == "index":
            return steps, shapes[0].element()
        if kind == "call":
            if node.value == "matches" and node.args and node.args[0].kind == "string":
                steps += regex_cost(_literal(node.args[0].value))
            if node.value == "sum" and shapes:  # a call into Python: the list converted, then added
                steps += _SUM + _SUM_ELEMENT * shapes[0].size
            return steps, shapes[0] if node.value == "dyn" and shapes else _ONE
        if kind == "string":
            return steps, _TEXT
        if kind != "op":
            return steps, _ONE
        if node.value == "?:":
            return steps, _merge(shapes[1:])
        if node.value in ("==", "!=", "in", "+") and any(s.dims for s in shapes):
            steps += sum(s.size for s in shapes)  # compared, searched or copied element by element
            if node.value == "+":
                left, right = shapes
                rest = _merge([left.element(), right.element()])
                return steps, _Shape((_length(left) + _length(right), *rest.dims), rest.leaf, rest.fact)
        return steps, _TEXT if node.value == "+" and _TEXT in shapes else _ONE

    def select(self, operand: _Shape, field: str) -> _Shape:
        if operand.dims:
            return operand.element()
        fact = operand.fact
        if fact is None or field not in fact.fields:
            return _Shape((), operand.leaf)
        return _of(fact.fields[field], _LENGTHS.get((fact.name, field), 1))

    def comprehension(self, node: _Node) -> tuple[int, _Shape]:
        assert node.target is not None
        steps, source = self.steps(node.target)
        count = _length(source)
        variable = node.args[0].value
        shadowed = self.scope.get(variable)
        self.scope[variable] = source.element()
        try:
            body = [self.steps(a) for a in node.args[1:]]
        finally:
            if shadowed is None:
                self.scope.pop(variable, None)
            else:
                self.scope[variable] = shadowed
        steps += 1 + count * (ITERATION + sum(c for c, _ in body))
        # map() and filter() build their result by copying it once per element (measured: quadratic).
        copies = count * (count + 1) // 2
        if node.value == "map":
            each = body[-1][1]
            return steps + copies * each.size, _Shape((count, *each.dims), each.leaf, each.fact)
        if node.value == "filter":
            return steps + copies * source.element().size, source
        return steps, _ONE


def _copied(shape: _Shape) -> int:
    """Reading a list copies it (order.items: ~85 µs)."""
    return shape.size if shape.dims else 0


def _literal(source: str) -> str:
    """A string literal's value, as the library reads it."""
    try:
        value = library().compile(source).execute({})
    except Exception:
        return source
    return value if isinstance(value, str) else source

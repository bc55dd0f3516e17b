"""A small OData v4 subset: ``$filter`` parser/evaluator plus ``$select``/``$expand``/``$orderby`` parsing.

Grammar (precedence low -> high)::

    expr    := and ('or' and)*
    and     := unary ('and' unary)*
    unary   := 'not' unary | compare
    compare := operand (('eq'|'ne'|'gt'|'ge'|'lt'|'le') operand | 'in' '(' literal (',' literal)* ')')?
    operand := '(' expr ')' | literal | property | func '(' expr (',' expr)* ')'
    literal := 'string' (with '' escape) | number | true | false | null | 2025-06-01T00:00:00Z | 2025-06-01
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Node = tuple[Any, ...]


class ODataError(ValueError):
    """A malformed query option (-> 400 BadRequest)."""


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^']|'')*')
  | (?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
FUNCTIONS = {"contains": 2, "startswith": 2, "endswith": 2, "tolower": 1, "toupper": 1}


@dataclass(frozen=True)
class Token:
    kind: str
    value: Any
    pos: int


def parse_datetime(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ODataError(f"Syntax error at position {pos} in '{text}': unexpected {text[pos]!r}")
        kind = m.lastgroup or ""
        raw = m.group()
        if kind == "str":
            tokens.append(Token("lit", raw[1:-1].replace("''", "'"), pos))
        elif kind == "dt":
            try:
                tokens.append(Token("lit", parse_datetime(raw), pos))
            except ValueError:
                raise ODataError(f"Invalid datetime literal {raw!r} at position {pos}") from None
        elif kind == "date":
            tokens.append(Token("lit", parse_datetime(raw + "T00:00:00Z"), pos))
        elif kind == "num":
            tokens.append(Token("lit", float(raw) if any(c in raw for c in ".eE") else int(raw), pos))
        elif kind == "ident":
            if raw in ("true", "false"):
                tokens.append(Token("lit", raw == "true", pos))
            elif raw == "null":
                tokens.append(Token("lit", None, pos))
            else:
                tokens.append(Token("ident", raw, pos))
        elif kind == "punct":
            tokens.append(Token(raw, raw, pos))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, properties: dict[str, str]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.properties = properties

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise ODataError(f"Syntax error: unexpected end of expression in '{self.text}'")
        self.i += 1
        return tok

    def expect(self, kind: str) -> Token:
        tok = self.next()
        if tok.kind != kind:
            raise ODataError(f"Syntax error at position {tok.pos}: expected {kind!r}, found {tok.value!r}")
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "ident" and tok.value == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Node:
        if not self.tokens:
            raise ODataError("Empty $filter expression")
        node = self.expr()
        tok = self.peek()
        if tok is not None:
            raise ODataError(f"Syntax error at position {tok.pos}: unexpected {tok.value!r}")
        return node

    def expr(self) -> Node:
        operands = [self.and_()]
        while self.keyword("or"):
            operands.append(self.and_())
        return _or_chain(operands)

    def and_(self) -> Node:
        node = self.unary()
        while self.keyword("and"):
            node = ("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.keyword("not"):
            return ("not", self.unary())
        return self.compare()

    def compare(self) -> Node:
        left = self.operand()
        tok = self.peek()
        if tok is not None and tok.kind == "ident" and tok.value in COMPARISONS:
            self.i += 1
            right = self.operand()
            _check_types(left, right, self.properties, tok.value)
            return ("cmp", tok.value, left, right)
        if self.keyword("in"):
            self.expect("(")
            values = [self.literal()]
            while self.peek() is not None and self.peek().kind == ",":  # type: ignore[union-attr]
                self.i += 1
                values.append(self.literal())
            self.expect(")")
            for value in values:
                _check_types(left, ("lit", value), self.properties, "in")
            return _member(left, values)
        return left

    def literal(self) -> Any:
        tok = self.next()
        if tok.kind != "lit":
            raise ODataError(f"Syntax error at position {tok.pos}: expected a literal, found {tok.value!r}")
        return tok.value

    def operand(self) -> Node:
        tok = self.next()
        if tok.kind == "(":
            node = self.expr()
            self.expect(")")
            return node
        if tok.kind == "lit":
            return ("lit", tok.value)
        if tok.kind == "ident":
            if tok.value in FUNCTIONS:
                self.expect("(")
                args = [self.expr()]
                while self.peek() is not None and self.peek().kind == ",":  # type: ignore[union-attr]
                    self.i += 1
                    args.append(self.expr())
                self.expect(")")
                if len(args) != FUNCTIONS[tok.value]:
                    raise ODataError(f"{tok.value}() takes {FUNCTIONS[tok.value]} argument(s)")
                return ("call", tok.value, args)
            if tok.value in COMPARISONS or tok.value in ("and", "or", "not", "in"):
                raise ODataError(f"Syntax error at position {tok.pos}: unexpected operator {tok.value!r}")
            if tok.value not in self.properties:
                raise ODataError(f"Could not find a property named '{tok.value}' on this entity type")
            return ("prop", tok.value)
        raise ODataError(f"Syntax error at position {tok.pos}: unexpected {tok.value!r}")


def _member(left: Node, values: list[Any]) -> Node:
    """``left in (values)``; the values also as a set, so a row is matched in one hash look-up (a
    key filter of hundreds of keys over every row otherwise costs keys x rows comparisons)."""
    return ("in", left, values, frozenset(values))


def _eq_operand(node: Node) -> tuple[str, Any] | None:
    """(property, literal) of ``Prop eq literal`` or ``literal eq Prop``; ``None`` for anything else."""
    if node[0] != "cmp" or node[1] != "eq":
        return None
    a, b = node[2], node[3]
    if a[0] == "prop" and b[0] == "lit":
        return a[1], b[1]
    if a[0] == "lit" and b[0] == "prop":
        return b[1], a[1]
    return None


def _or_chain(operands: list[Node]) -> Node:
    """``a or b or c`` (left to right). A chain of equalities on one property (OData 4.0's way of
    naming many keys) is the same test as ``Prop in (...)`` and is evaluated as one."""
    pairs = [_eq_operand(op) for op in operands]
    equalities = [pair for pair in pairs if pair is not None]
    if len(operands) > 1 and len(equalities) == len(operands) and len({p for p, _ in equalities}) == 1:
        return _member(("prop", equalities[0][0]), [value for _, value in equalities])
    node = operands[0]
    for operand in operands[1:]:
        node = ("or", node, operand)
    return node


def _literal_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "num"
    if isinstance(value, datetime):
        return "datetime"
    return "str"


_COMPATIBLE = {"str": {"str"}, "int": {"num"}, "num": {"num"}, "bool": {"bool"}, "datetime": {"datetime"}}


def _check_types(left: Node, right: Node, properties: dict[str, str], op: str) -> None:
    """Reject e.g. ``Updated ge '2025-01-01'`` like a real OData service would (string vs DateTimeOffset)."""
    for a, b in ((left, right), (right, left)):
        if a[0] == "prop" and b[0] == "lit":
            ptype = properties.get(a[1], "any")
            kind = _literal_kind(b[1])
            if ptype != "any" and kind != "null" and kind not in _COMPATIBLE.get(ptype, {kind}):
                raise ODataError(
                    f"A binary operator with incompatible types was detected: property '{a[1]}' ({ptype}) "
                    f"'{op}' literal of type {kind}"
                )


def parse_filter(text: str, properties: dict[str, str]) -> Node:
    return _Parser(text, properties).parse()


def _ordered(a: Any, b: Any, op: str) -> bool:
    if a is None or b is None:
        return False
    try:
        if op == "gt":
            return bool(a > b)
        if op == "ge":
            return bool(a >= b)
        if op == "lt":
            return bool(a < b)
        return bool(a <= b)
    except TypeError:
        return False


def evaluate(node: Node, row: dict[str, Any]) -> Any:
    tag = node[0]
    if tag == "lit":
        return node[1]
    if tag == "prop":
        return row.get(node[1])
    if tag == "and":
        return bool(evaluate(node[1], row)) and bool(evaluate(node[2], row))
    if tag == "or":
        return bool(evaluate(node[1], row)) or bool(evaluate(node[2], row))
    if tag == "not":
        return not evaluate(node[1], row)
    if tag == "in":
        value = evaluate(node[1], row)
        try:
            return value in node[3]
        except TypeError:  # an unhashable value (a list, an object) equals no literal
            return any(value == v for v in node[2])
    if tag == "cmp":
        op, a, b = node[1], evaluate(node[2], row), evaluate(node[3], row)
        if op == "eq":
            return a == b
        if op == "ne":
            return a != b
        return _ordered(a, b, op)
    if tag == "call":
        args = [evaluate(a, row) for a in node[2]]
        name = node[1]
        if name in ("tolower", "toupper"):
            return (
                None
                if args[0] is None
                else (str(args[0]).lower() if name == "tolower" else str(args[0]).upper())
            )
        if args[0] is None or args[1] is None:
            return False
        hay, needle = str(args[0]), str(args[1])
        return {
            "contains": needle in hay,
            "startswith": hay.startswith(needle),
            "endswith": hay.endswith(needle),
        }[name]
    raise ODataError(f"cannot evaluate {tag}")  # pragma: no cover


def compile_filter(text: str, properties: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    node = parse_filter(text, properties)
    return lambda row: bool(evaluate(node, row))


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses and quotes."""
    parts: list[str] = []
    depth, start, quoted = 0, 0, False
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ODataError(f"Unbalanced parentheses in {text!r}")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0 or quoted:
        raise ODataError(f"Unbalanced parentheses or quotes in {text!r}")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_select(text: str, properties: dict[str, str], extra: set[str] | None = None) -> list[str]:
    names = split_top_level(text)
    allowed = set(properties) | (extra or set())
    for name in names:
        if name != "*" and name not in allowed:
            raise ODataError(f"Could not find a property named '{name}' on this entity type ($select)")
    return names


_EXPAND_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?$", re.DOTALL)


def parse_expand(text: str) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = []
    for part in split_top_level(text):
        m = _EXPAND_ITEM.match(part)
        if m is None:
            raise ODataError(f"Invalid $expand item {part!r}")
        options: dict[str, str] = {}
        for opt in split_top_level(m.group(2) or "", ";"):
            if "=" not in opt:
                raise ODataError(f"Invalid nested option {opt!r} in $expand")
            key, value = opt.split("=", 1)
            options[key.strip()] = value.strip()
        out.append((m.group(1), options))
    return out


def parse_orderby(text: str, properties: dict[str, str]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for part in split_top_level(text):
        bits = part.split()
        if len(bits) > 2 or (len(bits) == 2 and bits[1] not in ("asc", "desc")):
            raise ODataError(f"Invalid $orderby item {part!r}")
        if bits[0] not in properties:
            raise ODataError(f"Could not find a property named '{bits[0]}' on this entity type ($orderby)")
        out.append((bits[0], len(bits) == 2 and bits[1] == "desc"))
    return out


def sort_rows(rows: list[dict[str, Any]], orderby: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    # Stable multi-key sort: apply keys last to first; nulls sort first ascending (as SQL Server does).
    for prop, desc in reversed(orderby):
        rows.sort(key=_sort_key(prop), reverse=desc)
    return rows


def _sort_key(prop: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    def key(row: dict[str, Any]) -> tuple[bool, Any]:
        value = row.get(prop)
        return (value is not None, value if value is not None else 0)

    return key


def parse_int_option(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ODataError(f"Invalid value for {name}: {value!r}") from None
    if number < 0:
        raise ODataError(f"{name} must be non-negative")
    return number

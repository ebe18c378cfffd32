"""OData $filter, the subset Graph collectors use: a tokenizer, a recursive-descent parser and an evaluator.

Grammar (lowest precedence first):
    expr    := and ('or' and)*
    and     := unary ('and' unary)*
    unary   := 'not' unary | compare
    compare := operand (('eq'|'ne'|'gt'|'ge'|'lt'|'le') operand | 'in' '(' literal (',' literal)* ')')?
    operand := '(' expr ')' | literal | function '(' args ')' | path ['/' ('any'|'all') '(' [var ':' expr] ')']
Functions: startswith, endswith, contains (which of them an endpoint accepts is decided in odata.py).
Literals: 'strings' (with '' escapes), numbers, true/false/null, GUIDs and ISO dates unquoted.
String comparisons ignore case, as Entra's directory does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from idbridge.sandbox.timeexpr import parse_iso

COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
FUNCTIONS = {"startswith", "endswith", "contains"}
# Graph answers these only as "advanced queries" (ConsistencyLevel: eventual + $count=true) on directory objects.
ADVANCED = {"ne", "not", "endswith", "null"}
# Parsed, but only the endpoints that document it accept it (the provisioning log; see Resource.filter_ops).
OPT_IN_FUNCTIONS = {"contains"}

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?(?![\w-]))
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),:/])
)""", re.X)


class FilterError(Exception):
    """`kind` is 'syntax' (Graph: BadRequest), 'unsupported' (Request_UnsupportedQuery) or 'property'."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Token:
    kind: str
    text: str
    value: Any
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError("syntax", f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup
        raw = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            value: Any = raw[1:-1].replace("''", "'")
        elif kind == "datetime":
            value = parse_iso(raw if "T" in raw else raw + "T00:00:00Z")
        elif kind == "guid":
            value = raw.lower()
        elif kind == "number":
            value = float(raw) if "." in raw else int(raw)
        else:
            value = raw
        tokens.append(Token(kind, raw, value, start))
        pos = match.end()
    return tokens


@dataclass
class Parsed:
    ast: tuple
    text: str
    used: set[str] = field(default_factory=set)      # operators/functions seen (for the advanced-query rule)
    properties: set[str] = field(default_factory=set)  # top-level properties referenced


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.used: set[str] = set()
        self.properties: set[str] = set()
        self.vars: list[str] = []

    # -- token helpers

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, offset: int = 0) -> str | None:
        tok = self.peek(offset)
        return tok.text.lower() if tok and tok.kind == "ident" else None

    def punct(self, char: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return bool(tok and tok.kind == "punct" and tok.text == char)

    def expect(self, char: str) -> None:
        if not self.punct(char):
            tok = self.peek()
            where = f"position {tok.pos}" if tok else "the end"
            raise FilterError("syntax", f"Invalid filter clause: '{char}' expected at {where} in '{self.text}'.")
        self.i += 1

    # -- grammar

    def parse(self) -> Parsed:
        if not self.tokens:
            raise FilterError("syntax", "Invalid filter clause: the filter is empty.")
        ast = self.expr()
        if self.peek() is not None:
            raise FilterError("syntax", f"Invalid filter clause: unexpected '{self.peek().text}' at position "
                                        f"{self.peek().pos} in '{self.text}'.")
        return Parsed(ast, self.text, self.used, self.properties)

    def expr(self) -> tuple:
        node = self.conjunction()
        while self.word() == "or":
            self.i += 1
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.unary()
        while self.word() == "and":
            self.i += 1
            node = ("and", node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.word() == "not":
            self.i += 1
            self.used.add("not")
            return ("not", self.unary())
        return self.compare()

    def compare(self) -> tuple:
        left = self.operand()
        op = self.word()
        if op in COMPARISONS:
            self.i += 1
            self.used.add(op)
            right = self.operand()
            if right == ("lit", None) or left == ("lit", None):
                self.used.add("null")
            return ("cmp", op, left, right)
        if op == "in":
            self.i += 1
            self.used.add("in")
            self.expect("(")
            values = [self.literal()]
            while self.punct(","):
                self.i += 1
                values.append(self.literal())
            self.expect(")")
            return ("in", left, values)
        if op in ("has", "add", "sub", "mul", "div", "mod"):
            raise FilterError("unsupported", f"Unsupported query operator '{op}'.")
        return left

    def literal(self) -> tuple:
        node = self.operand()
        if node[0] != "lit":
            raise FilterError("syntax", f"Invalid filter clause: a literal was expected in '{self.text}'.")
        return node

    def operand(self) -> tuple:
        tok = self.peek()
        if tok is None:
            raise FilterError("syntax", f"Invalid filter clause: unexpected end of '{self.text}'.")
        if tok.kind == "punct" and tok.text == "(":
            self.i += 1
            node = self.expr()
            self.expect(")")
            return node
        if tok.kind in ("string", "number", "guid", "datetime"):
            self.i += 1
            return ("lit", tok.value)
        if tok.kind != "ident":
            raise FilterError("syntax", f"Invalid filter clause: unexpected '{tok.text}' at position {tok.pos}.")
        low = tok.text.lower()
        if low in ("true", "false", "null"):
            self.i += 1
            return ("lit", {"true": True, "false": False, "null": None}[low])
        if self.punct("(", 1):
            return self.function()
        return self.path()

    def function(self) -> tuple:
        name = self.peek().text
        low = name.lower()
        if low not in FUNCTIONS:
            raise FilterError("unsupported", f"Unsupported or invalid query filter clause specified: function "
                                             f"'{name}' is not supported.")
        self.i += 2  # name and '('
        self.used.add(low)
        args = [self.operand()]
        while self.punct(","):
            self.i += 1
            args.append(self.operand())
        self.expect(")")
        if len(args) != 2:
            raise FilterError("syntax", f"Invalid filter clause: {name} takes two arguments.")
        return ("call", low, args)

    def path(self) -> tuple:
        segments = [self.peek().text]
        self.i += 1
        while self.punct("/"):
            self.i += 1
            tok = self.peek()
            if tok is None or tok.kind != "ident":
                raise FilterError("syntax", f"Invalid filter clause: a property name is expected after '/' in "
                                            f"'{self.text}'.")
            if tok.text.lower() in ("any", "all") and self.punct("(", 1):
                return self.lambda_(segments, tok.text.lower())
            segments.append(tok.text)
            self.i += 1
        if segments[0] not in self.vars:
            self.properties.add(segments[0])
        return ("path", segments)

    def lambda_(self, segments: list[str], kind: str) -> tuple:
        self.i += 2  # any/all and '('
        self.used.add(kind)
        if segments[0] not in self.vars:
            self.properties.add(segments[0])
        if self.punct(")"):
            self.i += 1
            return ("lambda", kind, segments, None, None)
        var = self.word()
        if var is None or not self.punct(":", 1):
            raise FilterError("syntax", f"Invalid filter clause: '{kind}' needs 'variable: condition' in "
                                        f"'{self.text}'.")
        var = self.peek().text
        self.i += 2
        self.vars.append(var)
        body = self.expr()
        self.vars.pop()
        self.expect(")")
        return ("lambda", kind, segments, var, body)


def parse_filter(text: str) -> Parsed:
    return _Parser(text).parse()


# ------------------------------------------------------------------------------------------------ evaluation


def _lookup(obj: Any, name: str) -> Any:
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    low = name.lower()
    return next((v for k, v in obj.items() if k.lower() == low), None)


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError:
            return None
    return None


def _pair(left: Any, right: Any) -> tuple[Any, Any]:
    """Bring two values to a comparable form: datetimes if either side is one, case-folded strings."""
    if isinstance(left, datetime) or isinstance(right, datetime):
        return _as_time(left), _as_time(right)
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold(), right.casefold()
    return left, right


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, (list, dict)) or isinstance(right, (list, dict)):
        return False
    if op in ("eq", "ne"):
        if left is None or right is None:
            same = left is None and right is None
        else:
            a, b = _pair(left, right)
            same = a == b
        return same if op == "eq" else not same
    if left is None or right is None:
        return False
    a, b = _pair(left, right)
    if a is None or b is None or type(a) is not type(b) and not (
            isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return False
    return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]


def evaluate(node: tuple, obj: dict, env: dict | None = None) -> Any:
    env = env or {}
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "path":
        segments = node[1]
        current = env[segments[0]] if segments[0] in env else _lookup(obj, segments[0])
        for segment in segments[1:]:
            current = _lookup(current, segment)
        return current
    if kind == "cmp":
        return _compare(node[1], evaluate(node[2], obj, env), evaluate(node[3], obj, env))
    if kind == "in":
        left = evaluate(node[1], obj, env)
        return any(_compare("eq", left, value[1]) for value in node[2])
    if kind == "and":
        return bool(evaluate(node[1], obj, env)) and bool(evaluate(node[2], obj, env))
    if kind == "or":
        return bool(evaluate(node[1], obj, env)) or bool(evaluate(node[2], obj, env))
    if kind == "not":
        return not evaluate(node[1], obj, env)
    if kind == "call":
        value, prefix = (evaluate(arg, obj, env) for arg in node[2])
        if not isinstance(value, str) or not isinstance(prefix, str):
            return False
        value, prefix = value.casefold(), prefix.casefold()
        if node[1] == "contains":
            return prefix in value
        return value.startswith(prefix) if node[1] == "startswith" else value.endswith(prefix)
    if kind == "lambda":
        _, quantifier, segments, var, body = node
        collection = evaluate(("path", segments), obj, env)
        if not isinstance(collection, list):
            return False
        if body is None:
            return bool(collection) if quantifier == "any" else True
        results = (bool(evaluate(body, obj, {**env, var: item})) for item in collection)
        return any(results) if quantifier == "any" else all(results)
    raise AssertionError(f"unknown node {kind}")


def matches(parsed: Parsed, obj: dict) -> bool:
    return bool(evaluate(parsed.ast, obj))

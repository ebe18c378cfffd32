"""Load YAML input files so that every error can name the file, the line and the key.

PyYAML drops positions once a document is constructed, so the node tree is walked once to record the line of
every key path; pydantic's error locations are then looked up in that map.

Every YAML input (parameters, scenario, desired state, and the input files a run scrubs secrets of) is read here,
within bounds: a file larger than `max_bytes` is refused unread, and a composed document is measured before it
is constructed — aliases may not expand it beyond a small bound ("billion laughs"), may not refer to a node that
contains them, and nesting is limited. PyYAML shares an aliased node rather than copying it, so a bomb is cheap
to compose; it explodes only when something walks it (validation, the line map, a search for secret
references), which is why it is refused before anything does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from idbridge.errors import InputError

ModelT = TypeVar("ModelT", bound=BaseModel)
PathKey = tuple[str | int, ...]

MAX_INPUT_BYTES = 16 * 1024 * 1024     # a hand-written input (parameters, desired state); scenarios pass more
MAX_ALIAS_NODES = 100_000              # nodes aliases may add beyond the file's own (or as many as it has)
MAX_DEPTH = 100                        # nesting levels of collections


def format_path(path: PathKey) -> str:
    """`("users", 3, "given_name")` -> `users[3].given_name`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _record_lines(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], problems: list[str]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(
                    f"line {key_node.start_mark.line + 1}, {format_path(path + (key,))}: key given twice"
                )
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _record_lines(value_node, path + (key,), lines, problems)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, path + (index,), lines, problems)


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~50x faster


class _StrictLoader(_BaseLoader):
    """Safe loading that refuses a key given twice (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may repeat keys by design
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key, line: int):
        self.key, self.line = key, line


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_bounds(root: yaml.Node, file: str | Path) -> None:
    """Refuse a composed document that aliases would blow up, that refers to itself, or that nests too deeply,
    before anything walks it. One pass over the distinct nodes (an aliased node is the same object wherever it is
    used), so a bomb costs what its text costs, never what it would expand to."""
    size: dict[int, int] = {}          # expanded size of each distinct node measured
    reached: dict[int, int] = {}       # how many times each node is used (more than once: through aliases)
    nodes: dict[int, yaml.Node] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, measured = stack.pop()
        key = id(node)
        if measured:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in _children(node))
            continue
        if key in on_path:
            raise InputError(file, f"line {node.start_mark.line + 1}: an alias refers to a node that contains it "
                                   "(a recursive document): refused")
        reached[key] = reached.get(key, 0) + 1
        if key in size:
            continue
        if depth > MAX_DEPTH:
            raise InputError(file, f"line {node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep: "
                                   "refused")
        children = _children(node)
        if not children:
            size[key] = 1
            continue
        nodes[key] = node
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in reversed(children))
    distinct, expanded = len(size), size[id(root)]
    limit = distinct + max(MAX_ALIAS_NODES, distinct)
    if expanded > limit:
        worst = max((k for k in nodes if reached[k] > 1), key=lambda k: size[k] * (reached[k] - 1))
        raise InputError(file, f"line {nodes[worst].start_mark.line + 1}: aliases would expand the document from "
                               f"{distinct:,} to {expanded:,} nodes (at most {limit:,}): refused "
                               "(an alias bomb?)")


class YamlDocument:
    """A parsed YAML mapping; the line of each key path is worked out only when an error must name it."""

    def __init__(self, file: str | Path, data: Any, text: str):
        self.file = str(file)
        self.data = data
        self._text = text
        self._lines: dict[PathKey, int] | None = None

    @property
    def lines(self) -> dict[PathKey, int]:
        if self._lines is None:
            node = yaml.compose(self._text, Loader=_BaseLoader)
            self._lines = {}
            if node is not None:
                _record_lines(node, (), self._lines, [])
        return self._lines

    def positions_only(self) -> "YamlDocument":
        """The same file without its data: enough to name the line of a key later, at a fraction of the memory."""
        return YamlDocument(self.file, None, self._text)

    def line_of(self, path: PathKey) -> int | None:
        """Line of the deepest part of `path` that exists in the file."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def where(self, path: PathKey) -> str:
        line = self.line_of(path)
        prefix = f"line {line}, " if line else ""
        return f"{prefix}{format_path(tuple(path))}"

    def error(self, path: PathKey, message: str) -> InputError:
        return InputError(self.file, f"{self.where(path)}: {message}")


def _reject_duplicates(pairs: list[tuple]) -> dict:
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise _DuplicateKey(key, 0)
    return dict(pairs)


def parse_json_text(text: str, file: str | Path) -> YamlDocument:
    """JSON is YAML too; large generated files are written as JSON because it parses ~50x faster."""
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicates)
    except RecursionError:
        raise InputError(file, "nested too deeply: refused") from None
    except _DuplicateKey as dup:
        raise InputError(file, f"{dup.key}: key given twice") from None
    except json.JSONDecodeError as exc:
        raise InputError(file, f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise InputError(file, f"line 1: expected an object of keys at the top, found {type(data).__name__}")
    return YamlDocument(file, data, text)


def _load(text: str, file: str | Path) -> Any:
    """Compose, check the bounds, then construct: yaml.load's steps, with the check between."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_bounds(node, file)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml_text(text: str, file: str | Path) -> YamlDocument:
    if str(file).endswith(".json"):
        return parse_json_text(text, file)
    try:
        data = _load(text, file)
    except RecursionError:
        raise InputError(file, "nested too deeply: refused") from None
    except _DuplicateKey as dup:
        # Walk the node tree (slow, but only on this error) to name every duplicate by its full path.
        problems: list[str] = []
        _record_lines(yaml.compose(text, Loader=_BaseLoader), (), {}, problems)
        raise InputError(file, problems or [f"line {dup.line}, {dup.key}: key given twice"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InputError(file, f"{where}not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(file, f"not valid YAML: {exc}") from None
    if data is None:
        raise InputError(file, "the file is empty")
    if not isinstance(data, dict):
        raise InputError(file, f"line 1: expected a mapping of keys at the top, found {type(data).__name__}")
    return YamlDocument(file, data, text)


def _read_at_most(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; InputError when there are more than max_bytes. Read in pieces, never sized by stat():
    a FIFO or /dev/zero has no size, and one read of max_bytes would allocate all of it up front."""
    chunks, total = [], 0
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            total += len(chunk)
            if total > max_bytes:
                raise InputError(path, f"larger than an input file may be ({max_bytes:,} bytes): refused")
            chunks.append(chunk)
    return b"".join(chunks)


def read_yaml(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> YamlDocument:
    """Read and parse a YAML (or .json) input file of at most `max_bytes` (a larger one is refused unread)."""
    path = Path(path)
    try:
        text = _read_at_most(path, max_bytes).decode("utf-8")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}") from None
    return parse_yaml_text(text, path)


GIVEN = "the value given"


def _strings_in(value: Any, limit: int = 200) -> list[str]:
    """The text of a value (a string, or the strings inside a list or mapping's values), at most `limit`."""
    found: list[str] = []
    stack = [value]
    while stack and len(found) < limit:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):  # the values: keys are names of fields, never secrets
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def without_input(message: str, value: Any) -> str:
    """The message with the value that failed validation taken out: a value that failed may be a secret pasted
    into the wrong field (a client secret as tenant_id), and errors go to terminals, logs and CI output. The
    message should say what shape was expected instead."""
    for text in sorted(set(_strings_in(value)), key=len, reverse=True):
        if not text:
            continue
        message = message.replace(repr(text), GIVEN).replace(f'"{text}"', GIVEN)
        if len(text) >= 6:  # a shorter one would cut words of the message itself
            message = message.replace(text, "…")
    return message


def _describe_pydantic_error(err: dict, echo_input: bool = False) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = err.get("msg", "invalid value")
    # pydantic prefixes messages of errors raised in validators with "Value error, "
    message = message.removeprefix("Value error, ")
    return message if echo_input else without_input(message, err.get("input"))


def validate_document(doc: YamlDocument, model: type[ModelT], context: dict | None = None, *,
                      echo_input: bool = False) -> ModelT:
    """Validate a YAML document against a pydantic model; every problem names its line and key, and not the value
    that failed (see `without_input`) unless `echo_input` (a sandbox scenario: fiction, never a secret)."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # Discriminated unions and tagged models add non-key parts (e.g. 'function-after[...]') to loc.
            loc = tuple(p for p in err["loc"] if isinstance(p, int) or not str(p).startswith(("function-", "tagged-")))
            problems.append(f"{doc.where(loc)}: {_describe_pydantic_error(err, echo_input)}")
        raise InputError(doc.file, problems) from None


def load_model(path: str | Path, model: type[ModelT], context: dict | None = None) -> ModelT:
    return validate_document(read_yaml(path), model, context=context)

"""Load YAML input files so that every error can name the file, the line and the key.

PyYAML drops positions once a document is constructed, so the node tree is walked once to record the line of
every key path; pydantic's error locations are then looked up in that map.
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
    except _DuplicateKey as dup:
        raise InputError(file, f"{dup.key}: key given twice") from None
    except json.JSONDecodeError as exc:
        raise InputError(file, f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise InputError(file, f"line 1: expected an object of keys at the top, found {type(data).__name__}")
    return YamlDocument(file, data, text)


def parse_yaml_text(text: str, file: str | Path) -> YamlDocument:
    if str(file).endswith(".json"):
        return parse_json_text(text, file)
    try:
        data = yaml.load(text, Loader=_StrictLoader)
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


def read_yaml(path: str | Path) -> YamlDocument:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}") from None
    return parse_yaml_text(text, path)


def _describe_pydantic_error(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = err.get("msg", "invalid value")
    # pydantic prefixes messages of errors raised in validators with "Value error, "
    return message.removeprefix("Value error, ")


def validate_document(doc: YamlDocument, model: type[ModelT], context: dict | None = None) -> ModelT:
    """Validate a YAML document against a pydantic model; every problem names its line and key."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # Discriminated unions and tagged models add non-key parts (e.g. 'function-after[...]') to loc.
            loc = tuple(p for p in err["loc"] if isinstance(p, int) or not str(p).startswith(("function-", "tagged-")))
            problems.append(f"{doc.where(loc)}: {_describe_pydantic_error(err)}")
        raise InputError(doc.file, problems) from None


def load_model(path: str | Path, model: type[ModelT], context: dict | None = None) -> ModelT:
    return validate_document(read_yaml(path), model, context=context)

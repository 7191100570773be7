"""Saved auditor queries (sql/queries/NAME.sql) and the bound parameters they take.

A saved query starts with a header comment that says the question it answers and declares its
parameters, which `keyaudit query --list` shows and `--param name=value` fills:

    -- question: Which active access keys are older than N days, by account?
    -- param days (integer, default 90): the age limit in days
    -- param run_id (text, optional): the run to look at; default the latest run

Values are always bound (DuckDB `$name`), never formatted into the SQL, so a value can never
change what the query does. Declared types convert the text given on the command line; for SQL
without declarations the value is inferred: integers stay integers, 12-digit account ids and
numbers with a leading zero stay text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from keyaudit.model import KeyauditError, is_account_id
from keyaudit.paths import SQL_DIR
from keyaudit.textsafe import visible

QUERIES_DIR = SQL_DIR / "queries"
TYPES = ("integer", "number", "text", "boolean", "date", "timestamp", "run")  # run: a run id
_QUESTION = re.compile(r"--\s*question:\s*(.+)")
_PARAM = re.compile(r"--\s*param\s+([a-z_][a-z0-9_]*)\s*\(([^)]*)\)\s*:\s*(.+)")
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,17})")
_NUMBER = re.compile(r"-?[0-9]+\.[0-9]+")
_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False}
_REQUIRED = object()


class QueryError(KeyauditError, ValueError):
    """A saved query or a --param is wrong; the message names it and the fix."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def label(self) -> str:
        """`days (integer, default 90)` for listings."""
        if self.required:
            extra = ""
        elif self.default is None:
            extra = ", optional"
        else:
            extra = f", default {self.default}"
        return f"{self.name} ({self.type}{extra})"


@dataclass(frozen=True)
class SavedQuery:
    name: str
    path: Path
    question: str
    params: tuple[Param, ...]
    sql: str

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def list_saved(folder: Path = QUERIES_DIR) -> list[SavedQuery]:
    return [load_query(path) for path in sorted(folder.glob("*.sql"))]


def find_query(ref: str, folder: Path = QUERIES_DIR) -> SavedQuery:
    """A saved query by name (`old_keys_by_account`) or a path to any .sql file."""
    path = Path(ref)
    if path.is_file():
        return load_query(path)
    named = folder / f"{ref.removesuffix('.sql')}.sql"
    if "/" not in ref and named.is_file():
        return load_query(named)
    raise QueryError(
        f"--file {ref}: no such file and no saved query of that name — "
        "`keyaudit query --list` shows the saved queries"
    )


def load_query(path: Path) -> SavedQuery:
    """Read a .sql file and its header; a file without a header is plain SQL (no declarations)."""
    try:
        sql = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"--file {path}: cannot be read ({exc}) — check the path") from None
    question = ""
    params: list[Param] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break  # the header ends at the first SQL line
        if found := _QUESTION.fullmatch(stripped):
            question = found.group(1).strip()
        elif found := _PARAM.fullmatch(stripped):
            params.append(_declared(path, *found.groups()))
        elif re.match(r"--\s*param\b", stripped):
            raise QueryError(
                f"{path}: bad parameter line {stripped!r} — write "
                "'-- param NAME (TYPE[, default VALUE | , optional]): what it means'"
            )
    return SavedQuery(path.stem, path, question, tuple(params), sql)


def _declared(path: Path, name: str, spec: str, description: str) -> Param:
    parts = [p.strip() for p in spec.split(",")]
    kind = parts[0]
    if kind not in TYPES:
        raise QueryError(
            f"{path}: parameter {name} has type {kind!r}; use one of {', '.join(TYPES)}"
        )
    default: Any = _REQUIRED
    for extra in parts[1:]:
        if extra == "optional":
            default = None
        elif extra.startswith("default "):
            default = convert(extra.removeprefix("default ").strip(), kind, name)
        else:
            raise QueryError(
                f"{path}: parameter {name}: {extra!r} is not 'default VALUE' or 'optional'"
            )
    return Param(name, kind, description.strip(), default)


def parse_param_args(args: list[str]) -> dict[str, str]:
    """`name=value` pairs from the command line; the value may itself contain '='."""
    given: dict[str, str] = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise QueryError(f"--param {arg!r} is not NAME=VALUE — e.g. --param days=90")
        if name in given:
            raise QueryError(f"--param {name} is given twice — give each parameter once")
        given[name] = value
    return given


def infer(value: str) -> Any:
    """Typing for undeclared parameters: ints stay ints, account ids and zero-led numbers text."""
    if _INTEGER.fullmatch(value) and not is_account_id(value.removeprefix("-")):
        return int(value)
    if _NUMBER.fullmatch(value):
        return float(value)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def convert(value: str, kind: str, name: str) -> Any:
    """The command-line text as the declared type, or an error naming the parameter."""
    example = {
        "integer": "90",
        "number": "0.5",
        "boolean": "true",
        "date": "2026-12-01",
        "timestamp": "2026-12-01T06:00:00Z",
    }
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return _BOOLEANS[value.lower()]
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "timestamp":
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise ValueError("no time zone")
            return parsed
    except (ValueError, KeyError):
        raise QueryError(
            f"--param {name}={value!r}: {name} is {'an' if kind == 'integer' else 'a'} {kind},"
            f" e.g. --param {name}={example[kind]}"
        ) from None
    return value


def bind(query: SavedQuery | None, given: dict[str, str]) -> dict[str, Any]:
    """Typed values for every declared parameter (defaults filled); undeclared ones inferred."""
    if query is None or not query.question:  # plain SQL: its $names are not declared
        return {name: infer(value) for name, value in given.items()}
    unknown = [n for n in given if query.param(n) is None]
    if unknown:
        names = ", ".join(p.name for p in query.params)
        takes = f"its parameters are {names}" if names else "it takes no parameters"
        raise QueryError(
            f"--param {unknown[0]}: saved query {query.name} has no parameter {unknown[0]}; "
            + takes
        )
    values: dict[str, Any] = {}
    for param in query.params:
        if param.name in given:
            values[param.name] = convert(given[param.name], param.type, param.name)
        elif param.required:
            raise QueryError(
                f"saved query {query.name} needs parameter {param.name} ({param.description})"
                f" — pass it with --param {param.name}=VALUE"
            )
        else:
            values[param.name] = param.default
    return values


def unknown_runs(con: Any, query: SavedQuery | None, values: dict[str, Any]) -> str | None:
    """An error for the first `run` parameter naming no run in the warehouse: a mistyped run id
    would otherwise give an empty answer that looks like "nothing found"."""
    for param in query.params if query else ():
        value = values.get(param.name)
        if param.type == "run" and value is not None:
            found = con.execute("select count(*) from runs where run_id = ?", [value]).fetchone()
            if not found[0]:
                return (
                    f"--param {param.name}={value}: no such run in the warehouse — "
                    "`keyaudit runs` lists the runs"
                )
    return None


def explain(error: Exception) -> str:
    """One line for a DuckDB error, with the fix where keyaudit knows it. DuckDB quotes the
    values it failed on, which can be warehouse text, so control characters are escaped."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    text = visible(text)
    if found := re.search(r"not provided for the following parameters: (.+)", text):
        names = [n.strip() for n in found.group(1).split(",")]
        passes = " ".join(f"--param {n}=VALUE" for n in names)
        return f"the query needs parameter(s) {', '.join('$' + n for n in names)} — pass {passes}"
    if found := re.search(r"identifiers of the excess parameters: (.+)", text):
        names = [n.strip() for n in found.group(1).split(",")]
        return (
            f"--param {names[0]}: the query has no parameter ${names[0]} — "
            "remove it or use $" + names[0] + " in the SQL"
        )
    if re.search(r"count mismatch for prepared statement\. Expected 0", text):
        return "the query has no $parameters — remove the --param options"
    if found := re.search(r'statement of type "(\w+)".*read-only mode', text):
        return (
            f"{found.group(1)} is not allowed: the warehouse is opened read-only, so queries "
            "can only read"
        )
    if "file system operations are disabled" in text:
        return (
            "queries cannot read or write files outside the warehouse — to keep a result, use "
            "--format csv or json and redirect the output to a file"
        )
    return text

"""Data tests in the spirit of dbt's: what each model of sql/staging, sql/marts and sql/views
declares in its folder's schema.yml (unique keys, not-null columns, accepted values), turned
into SQL that returns the rows breaking a declaration. tests/warehouse/test_data_tests.py runs
them on the demo warehouse; the SQL is generated here because it is the same three shapes for
every model, with the model's and columns' names in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from keyaudit.paths import SQL_DIR

MODEL_FOLDERS = ("staging", "marts", "views")
DECLARATIONS = "schema.yml"


def models(sql_dir: Path = SQL_DIR) -> dict[str, Path]:
    """Every model of the folders: a .sql file that defines a relation (`_name.sql` defines
    macros, not a model)."""
    return {
        path.stem: path
        for folder in MODEL_FOLDERS
        for path in sorted((sql_dir / folder).glob("*.sql"))
        if not path.stem.startswith("_")
    }


@dataclass(frozen=True)
class NotNull:
    """A column every row fills, or (dbt's `where` config) every row that meets `where`, an SQL
    condition on the model's columns: a NULL the model's own definition gives (a waiver that
    covers nothing has no finding) is not a failure, any other NULL of that column is."""

    column: str
    where: str | None = None

    def __str__(self) -> str:
        return self.column if self.where is None else f"{self.column} where {self.where}"


@dataclass(frozen=True)
class Declaration:
    model: str
    file: Path
    unique: tuple[tuple[str, ...], ...]
    not_null: tuple[NotNull, ...]
    accepted_values: dict[str, list | str]


def _not_null(entry: str | dict[str, str]) -> NotNull:
    if isinstance(entry, str):
        return NotNull(entry)
    return NotNull(entry["column"], entry["where"])


def declarations(sql_dir: Path = SQL_DIR) -> dict[str, Declaration]:
    """Each model's declaration, read from the schema.yml of its folder."""
    found: dict[str, Declaration] = {}
    for folder in MODEL_FOLDERS:
        file = sql_dir / folder / DECLARATIONS
        if not file.exists():
            continue
        for model, spec in yaml.safe_load(file.read_text(encoding="utf-8"))["models"].items():
            spec = spec or {}
            found[model] = Declaration(
                model=model,
                file=file,
                unique=tuple(tuple(key) for key in spec.get("unique", [])),
                not_null=tuple(_not_null(entry) for entry in spec.get("not_null", [])),
                accepted_values=dict(spec.get("accepted_values", {})),
            )
    return found


def _name(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Check:
    """One declaration as a query: it returns the rows that break it (none when it holds)."""

    model: str
    kind: str  # unique, not_null, accepted_values
    columns: tuple[str, ...]
    sql: str

    def __str__(self) -> str:
        return f"{self.model}: {self.kind} ({', '.join(self.columns)})"


def checks(declaration: Declaration, relation: str | None = None) -> list[Check]:
    """The declaration's checks, as queries of `relation` (default: the model itself)."""
    model = _name(relation or declaration.model)
    found: list[Check] = []
    for key in declaration.unique:
        columns = ", ".join(_name(c) for c in key)
        found.append(
            Check(
                declaration.model,
                "unique",
                key,
                f"select {columns}, count(*) as rows from {model} "
                f"group by all having count(*) > 1 order by rows desc limit 5",
            )
        )
    for entry in declaration.not_null:
        condition = f" and ({entry.where})" if entry.where else ""
        found.append(
            Check(
                declaration.model,
                "not_null",
                (str(entry),),
                f"select count(*) as rows from {model} "
                f"where {_name(entry.column)} is null{condition} having count(*) > 0",
            )
        )
    for column, values in declaration.accepted_values.items():
        accepted = values if isinstance(values, str) else f"[{', '.join(map(_literal, values))}]"
        found.append(
            Check(
                declaration.model,
                "accepted_values",
                (column,),
                f"select {_name(column)}, count(*) as rows from {model} "
                f"where {_name(column)} is not null and not list_contains({accepted}, {_name(column)}) "
                f"group by all order by rows desc limit 5",
            )
        )
    return found


_ROWS = "_data_test_rows"


def failures(
    con, declared: dict[str, Declaration], counts: dict[str, int] | None = None
) -> list[str]:
    """Every check that does not hold on the warehouse of `con`, with the rows that break it.

    Each model's rows are read once into a temporary table and its checks query that: DuckDB
    plans a view's whole stack for every query, and 316 checks planned their views again and
    again (most of a minute for two warehouses). `counts`, when given, gets each model's rows."""
    found = []
    for declaration in declared.values():
        try:
            con.execute(
                f"create or replace temp table {_ROWS} as select * from {_name(declaration.model)}"
            )
        except Exception as exc:  # a declared model that is not there
            found.append(f"{declaration.model}: {str(exc).splitlines()[0]}")
            continue
        if counts is not None:
            counts[declaration.model] = con.execute(f"select count(*) from {_ROWS}").fetchall()[0][
                0
            ]
        for check in checks(declaration, _ROWS):
            try:
                rows = con.execute(check.sql).fetchall()
            except Exception as exc:  # a declared column that is not there
                found.append(f"{check}: {str(exc).splitlines()[0]}")
                continue
            if rows:
                found.append(f"{check}: {rows}")
    return found

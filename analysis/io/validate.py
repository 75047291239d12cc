"""Row-level validation: raw (all-text) tables in, canonical typed tables and a report out.

Each rule is a vectorised Polars expression over a whole table, and a table goes through one
lazy plan: every rule becomes a flag column computed in a single pass, and the report is built
from the few rows that raised a flag. A row that breaks a *reject*
rule (missing required value, malformed FINESS or INSEE code, duplicate key, unresolved
reference, unreadable capacity, unknown required code) is set aside with its reasons and its
original content, so nothing is lost; a row that only breaks a *warning* rule is kept, with
the offending cell emptied where the value cannot be typed (dates, codes, coordinates,
booleans) and kept as is otherwise (e-mails, phone numbers, ages). Tables are validated in
dependency order so that references resolve against the rows actually kept.

Reasons are French (they are shown to users). The report's ``value`` column may hold
personal data (it is the user's own data, stored locally); exceptions and logs never do.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

# The rules, their values and the root causes of rejections live beside this module; their
# public names are re-exported here, where callers have always found them.
from analysis.io.validate_causes import (  # noqa: F401 - re-exported
    CASCADE_RULE,
    _one_edit_apart,
    by_cause,
    consequence_text,
    explain_rejections,
    root_causes,
    spreadsheet_line,
)
from analysis.io.validate_rules import RowCheck, reject_checks, rule_inputs, warning_checks
from analysis.io.validate_values import (  # noqa: F401 - re-exported
    AGE_BOUNDS,
    FINESS_PATTERN,
    FRANCE_BOXES,
    INSEE_PATTERN,
    POSTAL_PATTERN,
    ROW,
    normalised_value,
    parsed_values,
    text_column,
    typed_column,
    typed_value,
)
from analysis.model.errors import InputError
from analysis.model.progress import Progress, step
from analysis.model.schema import (
    LOADER_REJECT_COLUMN,
    META_COLUMNS,
    REJECT,
    REJECTED_SCHEMA,
    REPORT_SCHEMA,
    SOURCE_COLUMN,
    TABLES,
    WARNING,
    Table,
    conform,
    empty,
)
from analysis.model.syntax import (  # noqa: F401 - one definition of e-mail and phone syntax
    EMAIL_PATTERN,
    PHONE_LOST_ZERO_PATTERN,
    PHONE_PATTERN,
)

# Counts per table, in the order they are shown.
COUNT_KEYS = ("lus", "conserves", "rejetes", "avertissements")


@dataclass(eq=False)
class ValidationResult:
    """Typed tables of kept rows, the validation report, rejected rows and counts per table.

    ``tables`` holds all canonical tables (empty when absent from the input) conforming to
    ``schema.conform``; ``report`` follows ``schema.REPORT_SCHEMA`` (rejections and warnings);
    ``rejected`` follows ``schema.REJECTED_SCHEMA``; ``counts[table]`` has ``lus``,
    ``conserves``, ``rejetes`` and ``avertissements`` with lus = conserves + rejetes.
    """

    tables: dict[str, pl.DataFrame]
    report: pl.DataFrame
    rejected: pl.DataFrame
    counts: dict[str, dict[str, int]]

    @property
    def ok(self) -> bool:
        """True when no row was rejected (warnings allowed)."""
        return self.rejected.height == 0

    @property
    def warnings(self) -> pl.DataFrame:
        """Report rows of kept rows (severity ``avertissement``)."""
        return self.report.filter(pl.col("severity") == WARNING)

    def counts_frame(self) -> pl.DataFrame:
        """Counts as a frame: one row per table, columns ``table`` and the four counts."""
        return pl.DataFrame(
            [{"table": t, **c} for t, c in self.counts.items()],
            schema={"table": pl.String, **dict.fromkeys(COUNT_KEYS, pl.Int64)},
        )


# --- evaluation ---------------------------------------------------------------------------


_EMPTY_REPORT = pl.DataFrame(schema=REPORT_SCHEMA)


def _empty_report() -> pl.DataFrame:
    return _EMPTY_REPORT.clone()


_FIRST = "__first"  # working column: first row (among rows not rejected) holding the key
_REJECTED = "__rejected"  # working column: rejected by a rule (loader's, reject rules)
_KEPT = "__kept"  # working column: neither rejected nor a later occurrence of a key


def _duplicate_check(table: Table) -> RowCheck:
    """Later occurrences of a key among rows not rejected (the first occurrence is kept).

    Its ``bad`` reads ``_FIRST`` and ``_REJECTED``, so it is evaluated after them.
    """
    return RowCheck(
        ", ".join(table.key),
        "cle_en_double",
        ~pl.col(_REJECTED) & (pl.col(ROW) != pl.col(_FIRST)),
        pl.format("clé en double : déjà présente à la ligne {}", pl.col(_FIRST)),
        pl.concat_str([pl.col(k) for k in table.key], separator=" | "),
    )


def _loader_check(work: pl.DataFrame) -> RowCheck:
    """A loader sets ``_rejet`` on a row it could not make sense of (a malformed line, an offer
    whose mention is ambiguous): that reason says it best, so the row's other reasons (usually
    consequences of the same problem) are left out."""
    flag = pl.col(LOADER_REJECT_COLUMN).str.strip_chars().str.len_chars() > 0
    where = pl.col(SOURCE_COLUMN) if SOURCE_COLUMN in work.columns else pl.lit(None, pl.String)
    return RowCheck("(ligne)", "lecture_impossible", flag, pl.col(LOADER_REJECT_COLUMN), where)


def _report_rows(
    problems: pl.LazyFrame, checks: list[tuple[str, RowCheck]], table: str, severity: str
) -> pl.LazyFrame:
    """Report rows of every (row, check) whose flag column is set, in row order then in the
    order of ``checks`` (flag column, check)."""
    parts = [
        problems.filter(pl.col(flag)).select(
            pl.lit(table).alias("table"),
            pl.col(ROW).alias("row"),
            pl.lit(ch.column).alias("column"),
            ch.value.cast(pl.String).alias("value"),
            pl.lit(ch.rule).alias("rule"),
            (pl.lit(ch.reason) if isinstance(ch.reason, str) else ch.reason).alias("reason"),
            pl.lit(severity).alias("severity"),
        )
        for flag, ch in checks
    ]
    if not parts:
        return _empty_report().lazy()
    return pl.concat(parts).cast(REPORT_SCHEMA).sort("row", maintain_order=True)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text; typed input (dates, numbers, booleans) written the way files are."""
    if all(dtype == pl.String for dtype in frame.schema.values()):
        return frame
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Datetime:
            exprs.append(pl.col(name).dt.to_string("%Y-%m-%dT%H:%M:%S"))
        elif dtype.is_nested():
            raise InputError(f"colonne « {name} » : type imbriqué non pris en charge.")
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return frame.select(exprs)


@functools.cache
def _value_stages(table: Table) -> tuple[list[pl.Expr], ...]:
    """The working columns of a table, stage by stage (text, parsed numbers, typed values,
    rule inputs): built once per table, as they do not depend on the data."""
    return (
        [normalised_value(c).alias(text_column(c.name)) for c in table.columns],
        parsed_values(list(table.columns)),
        [typed_value(c).alias(typed_column(c.name)) for c in table.columns],
        rule_inputs(table),
    )


@dataclass
class _TableOutcome:
    kept: pl.DataFrame
    report: pl.DataFrame
    rejected: pl.DataFrame
    counts: dict[str, int]


def _validate_table(
    table: Table, frame: pl.DataFrame, kept: Mapping[str, pl.DataFrame]
) -> _TableOutcome:
    """One table through one plan: every rule is a flag column computed in a single pass over
    the rows; the report is then built from the few rows that raised a flag.

    Order of precedence, as the rules mean it: a loader's own rejection hides the row's other
    reasons; rows rejected by a rule do not count as first occurrences of a key; warnings are
    reported on kept rows only (not rejected, not a later occurrence of a key).
    """
    text = _as_text(frame).rechunk()  # many small chunks make string kernels crawl
    missing = [c for c in table.required if c not in text.columns]
    if missing:
        raise InputError(
            f"table {table.name} : colonnes obligatoires absentes : {', '.join(missing)}."
        )
    unknown = [c for c in text.columns if c not in table.names and c not in META_COLUMNS]
    work = text.with_row_index(ROW, offset=1).with_columns(
        pl.col(ROW).cast(pl.Int64),
        *[pl.lit(None, pl.String).alias(c) for c in table.names if c not in text.columns],
    )
    loader = [_loader_check(work)] if LOADER_REJECT_COLUMN in work.columns else []
    rejects = reject_checks(table, kept)
    duplicate = _duplicate_check(table)
    warnings = warning_checks(table, kept)
    # One flag column per check, numbered: the loader's, reject rules, duplicate key, warnings.
    names = iter(f"__f{i}" for i in itertools.count())
    loader_flags = [(next(names), ch) for ch in loader]
    reject_flags = [(next(names), ch) for ch in rejects]
    dup_flag = next(names)
    warning_flags = [(next(names), ch) for ch in warnings]
    by_loader = pl.any_horizontal(pl.lit(False), *(pl.col(f) for f, _ in loader_flags))
    normalised, parsed, typed_values, inputs = _value_stages(table)
    base = (
        work.lazy()
        .with_columns(normalised)
        .with_columns(parsed)
        .with_columns(typed_values)
        .with_columns(inputs)
        .with_columns(ch.bad.fill_null(False).alias(f) for f, ch in loader_flags + reject_flags)
        .with_columns(
            pl.any_horizontal(by_loader, *(pl.col(f) for f, _ in reject_flags)).alias(_REJECTED)
        )
        .with_columns(
            pl.when(~pl.col(_REJECTED)).then(pl.col(ROW)).min()
            .over([typed_column(k) for k in table.key]).alias(_FIRST)
        )
        .with_columns(duplicate.bad.fill_null(False).alias(dup_flag))
        .with_columns((~pl.col(_REJECTED) & ~pl.col(dup_flag)).alias(_KEPT))
        .with_columns((ch.bad.fill_null(False) & pl.col(_KEPT)).alias(f) for f, ch in warning_flags)
        .collect()
    )

    # The report, built from the rows that raised a flag (usually few). A reject rule is
    # reported only where the loader did not speak.
    # Checks that no row raised add nothing to it and are left out of its plan.
    flagged = [f for f, _ in loader_flags + reject_flags + warning_flags] + [dup_flag]
    raised = {f for f, hit in base.select(pl.col(flagged).any()).row(0, named=True).items() if hit}
    problems = (  # lazy: only the columns the report reads are filtered
        base.lazy()
        .filter(pl.any_horizontal(pl.lit(False), *(pl.col(f) for f in raised)))
        .with_columns((pl.col(f) & ~by_loader).alias(f) for f, _ in reject_flags if f in raised)
    )
    donnees_schema = {"row": pl.Int64, "donnees": pl.String}
    reject_plan = _report_rows(
        problems,
        [(f, ch) for f, ch in [*loader_flags, *reject_flags, (dup_flag, duplicate)] if f in raised],
        table.name,
        REJECT,
    )
    warning_plan = _report_rows(
        problems, [(f, ch) for f, ch in warning_flags if f in raised], table.name, WARNING
    )
    donnees_plan = (
        problems.filter(pl.col(_REJECTED) | pl.col(dup_flag)).select(
            pl.col(ROW).alias("row"),
            pl.struct(text.columns).struct.json_encode().alias("donnees"),
        )
        if raised - {f for f, _ in warning_flags}
        else pl.LazyFrame(schema=donnees_schema)
    )
    reject_report, warning_report, donnees = (
        pl.collect_all([reject_plan, warning_plan, donnees_plan])
        if raised
        else (_empty_report(), _empty_report(), pl.DataFrame(schema=donnees_schema))
    )
    if unknown:
        header = pl.DataFrame(
            {
                "table": table.name,
                "row": 0,
                "column": unknown,
                "value": None,
                "rule": "colonne_inconnue",
                "reason": "colonne inconnue de la table : ignorée",
                "severity": WARNING,
            },
            schema=REPORT_SCHEMA,
        )
        warning_report = pl.concat([header, warning_report])

    rejected_frame = (
        reject_report.join(donnees, on="row", how="left", maintain_order="left")
        if reject_report.height
        else reject_report.with_columns(pl.lit(None, pl.String).alias("donnees"))
    )
    typed = base.select(pl.col(typed_column(c)).alias(c) for c in table.names)
    kept_rows = base.get_column(_KEPT)
    if not kept_rows.all():  # usually every row is kept: no copy then
        typed = typed.filter(kept_rows)
    # The typed values usually have the canonical names, order and types already.
    if list(typed.schema.items()) != list(table.polars_schema.items()):
        typed = conform(typed, table.name)
    counts = {
        "lus": base.height,
        "conserves": typed.height,
        "rejetes": donnees.height,
        "avertissements": warning_report.height,
    }
    report = pl.concat([reject_report, warning_report]).sort("row", maintain_order=True)
    return _TableOutcome(typed, report, rejected_frame, counts)


def validate_tables(
    raw: Mapping[str, pl.DataFrame], progress: Progress | None = None
) -> ValidationResult:
    """Validate raw tables (text or already typed) into canonical typed tables and a report.

    ``raw`` maps canonical table names to frames (a ``loaders.RawTable`` is accepted too);
    absent tables count as empty. Tables are processed in ``schema.TABLES`` order so that a
    reference resolves against the kept rows of its target. Raises ``InputError`` for an
    unknown table name or a missing required column (then nothing can be validated).
    ``progress`` (``analysis.model.progress``) hears of each table checked.
    """
    unknown_tables = [t for t in raw if t not in TABLES]
    if unknown_tables:
        raise InputError(
            f"tables inconnues : {', '.join(unknown_tables)} ; tables possibles : "
            f"{', '.join(TABLES)}."
        )
    kept: dict[str, pl.DataFrame] = {}
    reports: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = []
    counts: dict[str, dict[str, int]] = {}
    for name, table in TABLES.items():
        source = raw.get(name)
        if source is None:
            kept[name] = empty(name)
            counts[name] = dict.fromkeys(COUNT_KEYS, 0)
            step(progress, len(counts), len(TABLES), f"contrôle {name}")
            continue
        frame = getattr(source, "frame", source)  # RawTable or DataFrame
        outcome = _validate_table(table, frame, kept)
        kept[name] = outcome.kept
        reports.append(outcome.report)
        rejected.append(outcome.rejected)
        counts[name] = outcome.counts
        step(progress, len(counts), len(TABLES), f"contrôle {name}")
    report = pl.concat(reports) if reports else _empty_report()
    rejected_frame = (
        pl.concat(rejected).select(list(REJECTED_SCHEMA))
        if rejected
        else pl.DataFrame(schema=REJECTED_SCHEMA)
    )
    return ValidationResult(kept, report, rejected_frame, counts)


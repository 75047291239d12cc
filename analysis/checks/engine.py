"""One check engine for the campaign checklist and the national ROR quality requirements.

A *check* (``Check``) is data: an id, the level of entity it looks at, a French label and
help text, and Polars expressions over that level's frame:

- ``applies``: the entities it concerns at all (the others get no row and count nowhere);
- ``exclusions``: ``(condition, reason)`` tried in order, the first true one makes the
  entity ``NOT_APPLICABLE`` with that reason (a row kept, outside the scope of the count);
- ``failures``: ``(condition, status, reason)`` tried next, the first true one gives its
  status (``MISSING``, ``INVALID`` or ``FAIL``) and reason; none gives ``PASS``.

Statuses are English identifiers in code. Each family of checks writes them with its own
stored codes and column names (``Vocabulary``): the campaign stores ``ok`` / ``manquant`` /
``invalide`` in ``resultat``, the quality requirements ``conforme`` / ``ecart`` /
``non_applicable`` in ``statut``; those values and the French words shown to users are
unchanged.

Evaluation is lazy with one plan per level: every check of the level becomes a struct
column of the level's frame, then the frame is unpivoted to one row per (entity, check).
``counts`` counts any results per group; ``counts_lazy`` counts per check without building
the per-entity rows (reasons and values are never computed), for histories.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: Statuses of an entity for a check (English identifiers; stored codes: ``Vocabulary``).
PASS, MISSING, INVALID, FAIL, NOT_APPLICABLE = (
    "pass",
    "missing",
    "invalid",
    "fail",
    "not_applicable",
)
FAILURE_STATUSES: tuple[str, ...] = (MISSING, INVALID, FAIL)

#: Severity of a check (stored in the campaign results' ``severite``): required ones count
#: in the rates, advised ones are shown and listed as advice, never counted.
REQUIRED, ADVISED = "obligatoire", "conseille"
SEVERITY_LABELS: dict[str, str] = {REQUIRED: "Obligatoire", ADVISED: "Conseillé"}

#: ``(condition, status, reason)``: the entity fails with ``status`` where ``condition``.
Failure = tuple[pl.Expr, str, "pl.Expr | str"]
#: ``(condition, reason)``: the check does not apply where ``condition``, for ``reason``.
Exclusion = tuple[pl.Expr, "pl.Expr | str"]


def _none(_: Any) -> list:
    return []


def _everywhere(_: Any) -> pl.Expr | None:
    return None


def _enabled(_: Any) -> bool:
    return True


@dataclass(frozen=True)
class Check:
    """One check: what is looked at on which entities and what to tell their owner.

    ``failures``, ``exclusions``, ``applies`` and ``enabled`` take the family's parameters
    (``CampaignParams``, ``QualityParams``). ``value`` is the current value shown next to a
    result (``personal``: it is personal data, masked in lists). ``severity``: ``REQUIRED``
    or ``ADVISED``. ``support``: only the support can fix it (campaign). ``national``: a
    national requirement, not a local rule (quality). ``needs``: tables the check compares
    with; without them (absent or empty) it is skipped.
    """

    id: str
    level: str
    label: str
    help: str
    failures: Callable[[Any], Sequence[Failure]]
    exclusions: Callable[[Any], Sequence[Exclusion]] = field(default=_none)
    value: Callable[[], pl.Expr] | None = None
    personal: bool = False
    applies: Callable[[Any], pl.Expr | None] = field(default=_everywhere)
    enabled: Callable[[Any], bool] = field(default=_enabled)
    severity: str = REQUIRED
    support: bool = False
    national: bool = True
    needs: tuple[str, ...] = ()

    def cases(self, params: Any) -> list[Failure]:
        """Exclusions (as ``NOT_APPLICABLE``) then failures, in the order they are tried."""
        out: list[Failure] = [(c, NOT_APPLICABLE, why) for c, why in self.exclusions(params)]
        return out + list(self.failures(params))


@dataclass(frozen=True)
class Vocabulary:
    """How a family of checks writes its results and counts.

    ``codes``: stored code of each status the family uses, in count order; ``check_column``
    and ``status_column``: result columns of the check id and of the stored code;
    ``count_columns``: count column of each status; ``scope_column``: entities in scope
    (every status but ``NOT_APPLICABLE``); ``left_column``: failures left (None: not
    counted).
    """

    codes: Mapping[str, str]
    check_column: str
    status_column: str
    count_columns: Mapping[str, str]
    scope_column: str
    left_column: str | None = None

    def code(self, status: str) -> str:
        """The stored code of ``status`` (ValueError when the family does not use it)."""
        try:
            return self.codes[status]
        except KeyError:
            raise ValueError(
                f"statut « {status} » inconnu de ce jeu de contrôles "
                f"(attendus : {', '.join(self.codes)})"
            ) from None


# ------------------------------------------------------------------------ expressions


def active(checks: Iterable[Check], params: Any) -> list[Check]:
    """The checks that can be evaluated with ``params`` (``enabled``)."""
    return [c for c in checks if c.enabled(params)]


def referenced_columns(checks: Iterable[Check], params: Any) -> dict[str, set[str]]:
    """Per level, the column names its checks' expressions read (conditions, reasons,
    values, scope): what the level's frame must provide."""
    names: dict[str, set[str]] = {}
    for check in checks:
        bucket = names.setdefault(check.level, set())
        exprs = []
        for cond, _, why in check.cases(params):
            exprs.append(cond)
            if isinstance(why, pl.Expr):
                exprs.append(why)
        if check.value is not None:
            exprs.append(check.value())
        applies = check.applies(params)
        if applies is not None:
            exprs.append(applies)
        for expr in exprs:
            bucket.update(expr.meta.root_names())
    return names


def first_case(check: Check, params: Any) -> pl.Expr:
    """Index (``Int8`` column ``_i_<id>``) of the first true case of ``check`` among its
    exclusions then failures; null when none holds (the entity passes)."""
    return _count_exprs(check, params)[0]


def _count_exprs(check: Check, params: Any) -> tuple[pl.Expr, pl.Expr, int]:
    """``first_case``, the ``applies`` flag (``Boolean`` column ``_a_<id>``) and the number
    of exclusions of ``check``: built once per check and parameters (they do not depend on
    the data), so that a history evaluating snapshot after snapshot does not build them
    again for each."""
    try:
        return _count_exprs_cached(check, params)
    except TypeError:  # parameters that cannot be hashed: built each time
        return _build_count_exprs(check, params)


def _build_count_exprs(check: Check, params: Any) -> tuple[pl.Expr, pl.Expr, int]:
    applies = check.applies(params)
    flag = pl.lit(True) if applies is None else applies.fill_null(False)
    return (
        _first_case(check, params),
        flag.alias(f"_a_{check.id}"),
        len(check.exclusions(params)),
    )


_count_exprs_cached = functools.lru_cache(maxsize=4096)(_build_count_exprs)


def _first_case(check: Check, params: Any) -> pl.Expr:
    cases = check.cases(params)
    if not cases:
        return pl.lit(None, pl.Int8).alias(f"_i_{check.id}")
    first = pl.when(cases[0][0].fill_null(False)).then(pl.lit(0, pl.Int8))
    for i, (cond, _, _) in enumerate(cases[1:], start=1):
        first = first.when(cond.fill_null(False)).then(pl.lit(i, pl.Int8))
    return first.otherwise(pl.lit(None, pl.Int8)).alias(f"_i_{check.id}")


def _text(why: pl.Expr | str) -> pl.Expr:
    return pl.lit(why) if isinstance(why, str) else why.cast(pl.String)


def verdict(check: Check, params: Any, vocabulary: Vocabulary) -> pl.Expr:
    """Struct (status code, ``motif``, ``valeur``) of ``check`` named by its id; null where
    it does not apply. Reads the ``first_case`` column, so each condition is evaluated once.
    """
    cases = check.cases(params)
    first = pl.col(f"_i_{check.id}")
    status = first.replace_strict(
        {i: vocabulary.code(s) for i, (_, s, _) in enumerate(cases)},
        default=vocabulary.code(PASS),
        return_dtype=pl.String,
    )
    if all(isinstance(why, str) for _, _, why in cases):
        reason = first.replace_strict(
            {i: why for i, (_, _, why) in enumerate(cases)}, default=None, return_dtype=pl.String
        )
    else:
        reason = pl.when(first == 0).then(_text(cases[0][2]))
        for i, (_, _, why) in enumerate(cases[1:], start=1):
            reason = reason.when(first == i).then(_text(why))
        reason = reason.otherwise(pl.lit(None, pl.String))
    value = check.value().cast(pl.String) if check.value is not None else pl.lit(None, pl.String)
    out = pl.struct(
        status.alias(vocabulary.status_column), reason.alias("motif"), value.alias("valeur")
    )
    applies = check.applies(params)
    if applies is not None:
        out = pl.when(applies.fill_null(False)).then(out)
    return out.alias(check.id)


# ------------------------------------------------------------------------- evaluation


def _by_level(checks: Sequence[Check], levels: Iterable[str]) -> list[tuple[str, list[Check]]]:
    out = []
    for level in levels:
        mine = [c for c in checks if c.level == level]
        if mine:
            out.append((level, mine))
    return out


def result_schema(
    vocabulary: Vocabulary, carry: Sequence[str] = (), keys: Sequence[str] = ()
) -> dict[str, pl.DataType]:
    """Columns of ``evaluate_lazy`` (``keys`` are snapshot dates)."""
    return {
        **dict.fromkeys(keys, pl.Date()),
        "niveau": pl.String(),
        **dict.fromkeys(carry, pl.String()),
        "entite": pl.String(),
        "nom_entite": pl.String(),
        vocabulary.check_column: pl.String(),
        vocabulary.status_column: pl.String(),
        "motif": pl.String(),
        "valeur": pl.String(),
    }


def evaluate_lazy(
    frame: Callable[[str], pl.LazyFrame],
    checks: Sequence[Check],
    params: Any,
    vocabulary: Vocabulary,
    levels: Iterable[str],
    carry: Sequence[str] = (),
    keys: Sequence[str] = (),
) -> pl.LazyFrame:
    """One row per entity and check that applies to it, lazily, not sorted.

    ``frame(level)`` gives the entities of a level (columns ``entite``, ``nom_entite``,
    ``carry``, ``keys`` and whatever the checks read); it is called once per level of
    ``levels`` that has checks. Columns: ``keys``, ``niveau``, ``carry``, ``entite``,
    ``nom_entite``, the check id, the stored status, ``motif`` (French reason of a failure
    or exclusion) and ``valeur``. All the checks of a level are one ``select`` of its frame.
    """
    index = [*keys, "niveau", *carry, "entite", "nom_entite"]
    parts = []
    for level, mine in _by_level(checks, levels):
        wide = (
            frame(level)
            .with_columns([first_case(c, params) for c in mine])
            .select(
                *keys,
                pl.lit(level).alias("niveau"),
                *carry,
                pl.col("entite").cast(pl.String),
                pl.col("nom_entite").cast(pl.String),
                *[verdict(c, params, vocabulary) for c in mine],
            )
        )
        parts.append(
            wide.unpivot(
                on=[c.id for c in mine],
                index=index,
                variable_name=vocabulary.check_column,
                value_name="_v",
            )
            .filter(pl.col("_v").is_not_null())
            .unnest("_v")
        )
    if not parts:
        return pl.DataFrame(schema=result_schema(vocabulary, carry, keys)).lazy()
    return pl.concat(parts, how="vertical_relaxed")


# ---------------------------------------------------------------------------- counts


def _rate(passed: str, scope: str) -> pl.Expr:
    return pl.when(pl.col(scope) > 0).then(pl.col(passed) / pl.col(scope)).alias("taux")


def counts(
    results: pl.LazyFrame | pl.DataFrame, keys: Sequence[str], vocabulary: Vocabulary
) -> pl.LazyFrame:
    """Per ``keys`` (one row over everything when empty): one count per status of the
    family, the entities in scope (every status but not applicable), the failures left
    when the family counts them, and ``taux``, the passed share of the scope (0–1, null
    for an empty scope)."""
    status = pl.col(vocabulary.status_column)
    per_status = [
        (status == code).sum().cast(pl.Int64).alias(vocabulary.count_columns[s])
        for s, code in vocabulary.codes.items()
    ]
    grouped = (
        results.lazy().group_by(list(keys)).agg(per_status)
        if keys
        else results.lazy().select(per_status)
    )
    in_scope = [vocabulary.count_columns[s] for s in vocabulary.codes if s != NOT_APPLICABLE]
    failed = [vocabulary.count_columns[s] for s in vocabulary.codes if s in FAILURE_STATUSES]
    scope = pl.sum_horizontal(in_scope).cast(pl.Int64).alias(vocabulary.scope_column)
    out = grouped.with_columns(scope)
    if vocabulary.left_column:
        out = out.with_columns(
            pl.sum_horizontal(failed).cast(pl.Int64).alias(vocabulary.left_column)
        )
    return out.with_columns(_rate(vocabulary.count_columns[PASS], vocabulary.scope_column))


def _outcomes_once(lf: pl.LazyFrame, keys: list[str], outcomes: list[pl.Expr]) -> pl.LazyFrame:
    """``lf`` with the ``outcomes`` columns, each computed once per distinct row content.

    Check outcomes are row-wise functions of the columns they name; over a history most
    entities are the same row day after day, so the (string-heavy) conditions are evaluated
    on the distinct rows and joined back on those columns (nulls equal).
    """
    used: set[str] = set()
    for expr in outcomes:
        used.update(expr.meta.root_names())
    types = lf.collect_schema()
    cols = sorted(c for c in used if c in types)
    if not cols:  # constant outcomes: nothing to share
        return lf.with_columns(outcomes)
    lists = [c for c in cols if isinstance(types[c], pl.List)]
    on = [f"_key_{c}" if c in lists else c for c in cols]
    list_keys = [pl.col(c).list.join("\x1f").alias(f"_key_{c}") for c in lists]
    distinct = (
        lf.select(*cols, *list_keys)
        .unique(subset=on)
        .with_columns(outcomes)
        .select(*on, *[e.meta.output_name() for e in outcomes])
    )
    return lf.select(*keys, *[c for c in cols if c not in lists], *list_keys).join(
        distinct, on=on, how="left", nulls_equal=True
    )


def counts_lazy(
    frame: Callable[[str], pl.LazyFrame],
    checks: Sequence[Check],
    params: Any,
    vocabulary: Vocabulary,
    levels: Iterable[str],
    keys: Sequence[str] = (),
) -> pl.LazyFrame:
    """Per check (and ``keys``, the snapshot column of stacked snapshots): the check id,
    the passed count, the scope and ``taux``, as ``counts(evaluate_lazy(…), [id])`` gives,
    without building the per-entity results: only each case's index is computed (no
    reason, value or carried column), then summed. Checks with an empty scope are left out.
    """
    keys = list(keys)
    passed_col = vocabulary.count_columns[PASS]
    scope_col = vocabulary.scope_column
    parts = []
    for level, mine in _by_level(checks, levels):
        built = [_count_exprs(c, params) for c in mine]
        outcomes = [first for first, _, _ in built] + [flag for _, flag, _ in built]
        lf = frame(level)
        lf = _outcomes_once(lf, keys, outcomes) if keys else lf.with_columns(outcomes)
        sums = []
        for c, (_, _, excluded) in zip(mine, built, strict=True):
            counted = pl.col(f"_a_{c.id}")
            first = pl.col(f"_i_{c.id}")
            in_scope = counted & (first.is_null() | (first >= excluded)) if excluded else counted
            sums += [
                (counted & first.is_null()).sum().cast(pl.Int64).alias(f"{c.id}\0{passed_col}"),
                in_scope.sum().cast(pl.Int64).alias(f"{c.id}\0{scope_col}"),
            ]
        wide = lf.group_by(keys).agg(sums) if keys else lf.select(sums)
        parts.append(wide.unpivot(index=keys, variable_name="_k", value_name="_n"))
    out_schema = {
        **dict.fromkeys(keys, pl.Date()),
        vocabulary.check_column: pl.String(),
        passed_col: pl.Int64(),
        scope_col: pl.Int64(),
        "taux": pl.Float64(),
    }
    if not parts:
        return pl.DataFrame(schema=out_schema).lazy()
    what = pl.col("_k").str.split("\0").list
    return (
        pl.concat(parts, how="vertical_relaxed")
        .with_columns(what.first().alias(vocabulary.check_column), what.last().alias("_what"))
        .group_by([*keys, vocabulary.check_column])
        .agg(
            pl.col("_n").filter(pl.col("_what") == passed_col).first().alias(passed_col),
            pl.col("_n").filter(pl.col("_what") == scope_col).first().alias(scope_col),
        )
        .filter(pl.col(scope_col) > 0)
        .with_columns((pl.col(passed_col) / pl.col(scope_col)).alias("taux"))
        .select(list(out_schema))
    )

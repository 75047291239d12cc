"""Root causes of rejections: rows rejected in cascade (an establishment rejected takes its
units, their offers, its authorisations with it) grouped under the row that caused them.

Works on a validation report and its rejected rows (``analysis.io.validate``); the texts are
French (shown to users).
"""

from __future__ import annotations

import polars as pl

from analysis.model.schema import FINESS, INSEE, REJECT, TABLES

# --- root causes: rows rejected in cascade grouped under the row that caused them ---------

#: The rule of an unresolved reference: the only rule whose failure can be a consequence of
#: another row's rejection (an establishment rejected takes its units, their offers, its
#: authorisations with it).
CASCADE_RULE = "reference_introuvable"

#: Most (unresolved key × malformed key) pairs compared when looking for a probable cause;
#: past it only exact matches are used (the comparison is pure Python).
_MAX_PROBABLE_PAIRS = 200_000

_EXPLAINED = {"ligne": pl.Int64, "cause": pl.String, "cause_table": pl.String,
              "cause_row": pl.Int64}


def spreadsheet_line(row: pl.Expr) -> pl.Expr:
    """The line a spreadsheet shows for report row ``row`` (header = line 1, first row = 2).

    ``row`` counts data rows from 1 with the header excluded (blank lines skipped); the
    report's row 0 is the header itself (unknown columns).
    """
    return pl.when(row > 0).then(row + 1).otherwise(pl.lit(1, pl.Int64)).cast(pl.Int64)


def _key(expr: pl.Expr, kind: str) -> pl.Expr:
    s = expr.cast(pl.String).str.strip_chars()
    s = pl.when(s.str.len_chars() > 0).then(s)
    return s.str.to_uppercase() if kind in (FINESS, INSEE) else s


def _one_edit_apart(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one typing slip: a character changed, added,
    removed, or two neighbours swapped (``75061973`` and ``750619737``)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1:]


def _parent_links(report: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """For each unresolved reference of the report: the rejected row it points to, if any.

    Exact first: the referenced key is the key of a rejected row of the target table (an
    establishment rejected for its commune code). Otherwise, when the target row was rejected
    *because of its key* (a FINESS mistyped), the one rejected key a single typing slip away
    is taken as the probable cause. Columns: table, row, parent_table, parent_row, probable.
    """
    schema = {"table": pl.String, "row": pl.Int64, "parent_table": pl.String,
              "parent_row": pl.Int64, "probable": pl.Boolean}
    parts = [pl.DataFrame(schema=schema)]
    for name, table in TABLES.items():
        for ref in table.references:
            problems = report.filter(
                (pl.col("table") == name) & (pl.col("rule") == CASCADE_RULE)
                & (pl.col("column") == ref.column)
            )
            if problems.height == 0:
                continue
            kind = table.column(ref.column).kind
            problems = problems.select("table", "row", _key(pl.col("value"), kind).alias("key"))
            targets = rejected.filter(pl.col("table") == ref.table)
            exact = (
                targets.select(
                    pl.col("row").alias("parent_row"),
                    _key(pl.col("donnees").str.json_path_match(f"$.{ref.target}"), kind)
                    .alias("key"),
                )
                .drop_nulls("key")
                .group_by("key")
                .agg(pl.col("parent_row").min())
            )
            linked = problems.join(exact, on="key", how="left")
            found = linked.filter(pl.col("parent_row").is_not_null())
            parts.append(
                found.select("table", "row", pl.lit(ref.table).alias("parent_table"),
                             "parent_row", pl.lit(False).alias("probable"))
            )
            missing = linked.filter(pl.col("parent_row").is_null() & pl.col("key").is_not_null())
            bad_keys = (
                targets.filter(pl.col("column") == ref.target)
                .select("row", _key(pl.col("value"), kind).alias("bad"))
                .drop_nulls("bad")
                .unique()
            )
            keys = missing.get_column("key").unique().to_list()
            if not keys or bad_keys.height == 0 or len(keys) * bad_keys.height > _MAX_PROBABLE_PAIRS:
                continue
            probable = {}
            candidates = list(bad_keys.iter_rows())
            for key in keys:
                rows = {r for r, bad in candidates if _one_edit_apart(key, bad)}
                if len(rows) == 1:
                    probable[key] = rows.pop()
            if probable:
                parts.append(
                    missing.filter(pl.col("key").is_in(list(probable)))
                    .select(
                        "table", "row", pl.lit(ref.table).alias("parent_table"),
                        pl.col("key").replace_strict(probable, return_dtype=pl.Int64)
                        .alias("parent_row"),
                        pl.lit(True).alias("probable"),
                    )
                )
    return pl.concat(parts)


def explain_rejections(report: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """The report with each problem tied to the root cause of its row's trouble.

    ``report`` follows ``schema.REPORT_SCHEMA`` (extra columns kept); ``rejected`` is the
    matching ``REJECTED_SCHEMA`` frame (``ValidationResult.rejected``, ``rejected.parquet``),
    whose original rows give the keys of rejected rows. A row rejected *only* because a row it
    references was rejected (or a kept row warned for it) is a consequence: ``cause_table`` and
    ``cause_row`` name the root row, followed through every level (offer → unit →
    establishment), and ``cause`` says it in French (« etablissements, ligne 18 »; « cause
    probable » when linked through a mistyped key). A row with a reason of its own is its own
    cause (nulls). ``ligne`` is the row as a spreadsheet shows it (``spreadsheet_line``).
    """
    links = _parent_links(report, rejected)
    rejects = report.filter(pl.col("severity") == REJECT)
    own = set(
        rejects.filter(pl.col("rule") != CASCADE_RULE).select("table", "row").iter_rows()
    )
    parent: dict[tuple[str, int], tuple[str, int, bool]] = {}
    for t, r, pt, pr, probable in links.iter_rows():
        if (t, r) not in own:
            parent.setdefault((t, r), (pt, pr, probable))
    rejected_rows = set(rejects.select("table", "row").iter_rows())

    def root(node: tuple[str, int]) -> tuple[str, int, bool] | None:
        """The rejected row at the top of ``node``'s chain (one that points nowhere further)."""
        probable, seen = False, set()
        while node in parent and node not in seen:
            seen.add(node)
            pt, pr, p = parent[node]
            probable, node = probable or p, (pt, pr)
        return (*node, probable) if node in rejected_rows else None

    causes = []
    for t, r in report.select("table", "row").unique().iter_rows():
        if (t, r) in own or (t, r) not in parent:
            continue
        found = root((t, r))
        if found is not None:
            causes.append((t, r, *found))
    cause = pl.DataFrame(
        causes, schema={"table": pl.String, "row": pl.Int64, "cause_table": pl.String,
                        "cause_row": pl.Int64, "probable": pl.Boolean}, orient="row",
    ).with_columns(
        cause=pl.format("{}, ligne {}", "cause_table", spreadsheet_line(pl.col("cause_row")))
        + pl.when("probable").then(pl.lit(" (cause probable)")).otherwise(pl.lit(""))
    )
    return report.drop(_EXPLAINED.keys(), strict=False).with_columns(
        ligne=spreadsheet_line(pl.col("row"))
    ).join(
        cause.select("table", "row", "cause", "cause_table", "cause_row"),
        on=["table", "row"], how="left", maintain_order="left",
    )


def by_cause(explained: pl.DataFrame) -> pl.DataFrame:
    """``explain_rejections``'s report in reading order: rejections with a cause of their own
    first (table order, then row), each followed by what it caused; then the warnings."""
    rank = {name: i for i, name in enumerate(TABLES)}
    group_table = pl.coalesce("cause_table", "table")
    group_row = pl.coalesce("cause_row", "row")
    rejected_group = (
        pl.col("cause_table").is_not_null()
        | ((pl.col("severity") == REJECT).any().over("table", "row"))
    )
    return (
        explained.with_columns(
            _warn=~rejected_group,
            _gt=group_table.replace_strict(rank, default=len(rank), return_dtype=pl.Int64),
            _gr=group_row,
            _child=pl.col("cause_table").is_not_null(),
            _t=pl.col("table").replace_strict(rank, default=len(rank), return_dtype=pl.Int64),
        )
        .sort("_warn", "_gt", "_gr", "_child", "_t", "row", maintain_order=True)
        .drop("_warn", "_gt", "_gr", "_child", "_t")
    )


def root_causes(explained: pl.DataFrame) -> pl.DataFrame:
    """One row per root cause of a rejection, with what it took with it.

    Columns: table, row, ligne, en_consequence (rows rejected because of it, all tables),
    avertissements_en_consequence (kept rows warned because of it), detail (French: « unites
    6, offres 8, autorisations 14 »), in the order of ``by_cause``.
    """
    rank = {name: i for i, name in enumerate(TABLES)}
    roots = (
        explained.filter((pl.col("severity") == REJECT) & pl.col("cause_table").is_null())
        .select("table", "row", "ligne")
        .unique(maintain_order=True)
    )
    children = (
        explained.filter(pl.col("cause_table").is_not_null())
        .group_by("cause_table", "cause_row", "table", "row")
        .agg(rejected=(pl.col("severity") == REJECT).any())
    )
    per_table = (
        children.group_by("cause_table", "cause_row", "table")
        .agg(n=pl.len(), rejected=pl.col("rejected").sum())
        .with_columns(_t=pl.col("table").replace_strict(rank, default=len(rank),
                                                         return_dtype=pl.Int64))
        .sort("_t")
    )
    summary = per_table.group_by("cause_table", "cause_row").agg(
        en_consequence=pl.col("rejected").sum().cast(pl.Int64),
        avertissements_en_consequence=(pl.col("n") - pl.col("rejected")).sum().cast(pl.Int64),
        detail=pl.format("{} {}", "table", "n").sort_by("_t").str.join(", "),
    )
    out = roots.join(
        summary.rename({"cause_table": "table", "cause_row": "row"}),
        on=["table", "row"], how="left", maintain_order="left",
    ).with_columns(
        pl.col("en_consequence", "avertissements_en_consequence").fill_null(0),
        _t=pl.col("table").replace_strict(rank, default=len(rank), return_dtype=pl.Int64),
    )
    return out.sort("_t", "row").drop("_t")


def consequence_text(rejected: int, warned: int = 0, detail: str | None = None) -> str:
    """« 19 lignes rejetées en conséquence (unites 5, offres 8) » ; empty when nothing."""
    parts = []
    if rejected:
        parts.append(f"{rejected} ligne{'s' if rejected > 1 else ''} "
                     f"rejetée{'s' if rejected > 1 else ''} en conséquence")
    if warned:
        parts.append(f"{warned} avertissement{'s' if warned > 1 else ''} en conséquence")
    if not parts:
        return ""
    return " et ".join(parts) + (f" ({detail})" if detail else "")

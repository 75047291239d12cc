"""What every page shares: the sidebar (store, snapshot, region) and cached loading.

Pages stay thin: they ask ``context()`` for the selected snapshot and call ``analysis``.
Caches are keyed on plain values (paths as text, dates, file modification times) so a
rerun that changes nothing reuses the frames without copying them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from analysis.geo import geography
from analysis.io import store
from analysis.model import formats, privacy, settings
from analysis.model.errors import StoreError
from analysis.present import columns, export
from ui import state

ROOT = Path(__file__).resolve().parent.parent
DEMO_STORE = ROOT / "data" / "demo"


def default_store() -> Path:
    """The store opened at start: ``SMR_STORE`` if set, else the demo store."""
    return Path(os.environ.get("SMR_STORE", str(DEMO_STORE)))


@dataclass(frozen=True)
class Context:
    """The user's current selection, shared by all pages."""

    store: Path
    date: dt.date
    region: str
    manifest: dict

    @property
    def is_demo(self) -> bool:
        return bool(self.manifest.get("extra", {}).get("demo"))


@st.cache_resource(show_spinner="Construction du magasin de démonstration…")
def _ensure_demo(path: str) -> None:
    from analysis.demo import regional

    regional.build_demo(Path(path))


@st.cache_resource(show_spinner=False, max_entries=16)
def _recover(store_path: str) -> None:
    """Once per store and server: put back a snapshot that a write killed between its two
    renames left aside, and remove dead writers' leftovers (never while a write runs)."""
    store.cleanup_temporary(Path(store_path))


@st.cache_resource(show_spinner=False, max_entries=16)
def _tables(store_path: str, date: str, stamp: float) -> dict[str, pl.DataFrame]:
    # Checksums are verified once per snapshot version (a few ms: files are small), so a
    # corrupted file is reported instead of being analysed; a StoreError is not cached.
    snap = store.read_snapshot(Path(store_path), dt.date.fromisoformat(date), verify=True)
    return snap.tables


@st.cache_resource(show_spinner=False, max_entries=32)
def _manifest(store_path: str, date: str, stamp: float) -> dict:
    return store.read_manifest(Path(store_path) / date)


def manifest_time(store_path: Path, date: dt.date | str) -> float:
    """When the snapshot of ``date`` was last written (its manifest's time, 0 when absent):
    with the date, the cache key of what is read from that snapshot."""
    day = date if isinstance(date, str) else date.isoformat()
    manifest = Path(store_path) / day / "manifest.json"
    return manifest.stat().st_mtime if manifest.exists() else 0.0


def store_stamp(
    store_path: Path, dates: Iterable[dt.date] | None = None
) -> tuple[tuple[str, float], ...]:
    """``(date, manifest time)`` of the store's snapshots (``dates``, else all of them): the
    cache key of what is read across snapshots, renewed when one is added or rewritten."""
    days = store.list_snapshots(store_path) if dates is None else dates
    return tuple((d.isoformat(), manifest_time(store_path, d)) for d in days)


NATIONAL = "all"


def national_built() -> bool:
    """True when ``data/reference/all/`` (every commune of France) has been built."""
    return (geography.REFERENCE_DIR / NATIONAL / "communes.parquet").is_file()


def tables(ctx: Context) -> dict[str, pl.DataFrame]:
    """The canonical tables of the selected snapshot (cached, not copied).

    A corrupted or unreadable snapshot stops the page with a clear message; the sidebar
    stays usable to pick another snapshot.
    """
    try:
        return _tables(str(ctx.store), ctx.date.isoformat(), manifest_time(ctx.store, ctx.date))
    except StoreError as exc:
        snapshot_error(ctx.date, exc)
        st.stop()
        raise  # st.stop() raises; this line keeps type checkers quiet


def snapshot_error(date: dt.date, exc: Exception) -> None:
    """Say that the snapshot of ``date`` cannot be used, and what to do."""
    st.error(
        f"L'instantané du {date:%d/%m/%Y} est inutilisable : {exc} Choisissez un autre "
        "instantané dans la barre latérale, ou réimportez celui-ci (« smr validate "
        "MAGASIN/AAAA-MM-JJ » détaille les fichiers en cause).",
        icon=":material/error:",
    )


def contacts_hidden() -> bool:
    """True when the deployment hides contacts everywhere (``SMR_HIDE_CONTACTS=1``)."""
    return settings.hide_contacts()


def contact_toggle(label: str, key: str, help: str | None = None) -> bool:
    """A « show contacts » checkbox, absent (and False) when contacts are hidden."""
    if contacts_hidden():
        return False
    return st.checkbox(label, value=False, help=help, key=key)


def shown(df: pl.DataFrame) -> pl.DataFrame:
    """A frame as displayed: contact columns masked when the deployment hides contacts."""
    return privacy.mask_contacts(df) if contacts_hidden() else df


def read_only() -> bool:
    """True when the app must not write to the store (``SMR_READ_ONLY=1``)."""
    return settings.read_only()


def sidebar() -> Context | None:
    """Draw the sidebar selectors; returns the context, or None when no snapshot exists.

    The snapshot and the region follow the user from page to page and live in the link
    (``ui.state``); a link's value that cannot be used is replaced by the default, with a
    short notice at the top of the page.
    """
    state.adopt_link()
    try:
        return _sidebar()
    finally:
        for text in state.notices():
            st.warning(text, icon=":material/link_off:")


def _sidebar() -> Context | None:
    from ui.access import local_paths_allowed

    st.sidebar.header("Données")
    free = local_paths_allowed()
    chosen = st.sidebar.text_input(
        "Magasin d'instantanés",
        value=st.session_state.get("store_path", str(default_store())) if free
        else str(default_store()),
        help="Dossier contenant un sous-dossier AAAA-MM-JJ par instantané."
        + ("" if free else " Fixé par l'administrateur (SMR_STORE)."),
        disabled=not free,
    )
    if not free:
        chosen = str(default_store())  # a shared deployment never opens another folder
    st.session_state["store_path"] = chosen
    path = Path(chosen).expanduser()
    if (
        path.resolve() == DEMO_STORE.resolve()
        and not store.list_snapshots(path)
        and not read_only()
    ):
        path.mkdir(parents=True, exist_ok=True)
        _ensure_demo(str(path))
    if path.is_dir() and not read_only():
        _recover(str(path))
    dates = store.list_snapshots(path) if path.is_dir() else []
    if not dates:
        st.sidebar.error("Aucun instantané dans ce dossier.")
        return None
    state.check("instantane", dates, "instantané le plus récent affiché")
    date = state.select(
        st.sidebar.selectbox,
        "Instantané",
        dates[::-1],
        "instantane",
        "snapshot",
        format_func=lambda d: d.strftime("%d/%m/%Y"),
        help="Date de l'extraction analysée ; la plus récente par défaut.",
    )
    try:
        manifest = _manifest(str(path), date.isoformat(), manifest_time(path, date))
    except StoreError as exc:
        st.session_state["snapshot_error"] = (date, exc)
        return None
    regions = [r for r in geography.available_regions() if r.get("built")]
    codes = [r["code"] for r in regions] or [geography.DEFAULT_REGION]
    names = {r["code"]: r["nom"] for r in regions}
    if national_built():  # the all-France geography, built on demand (not committed)
        codes.append(NATIONAL)
        names[NATIONAL] = "France entière"
    state.check("region", codes)
    region = state.select(
        st.sidebar.selectbox,
        "Région",
        codes,
        "region",
        "region",
        default=store.manifest_region(manifest),
        format_func=lambda c: f"{names.get(c, c)} ({c})",
    )
    state.check("departement", geography.load_departements(region)["departement"].to_list())
    if len(dates) > 1:
        st.sidebar.caption(
            f"{len(dates)} instantanés, du {dates[0]:%d/%m/%Y} au {dates[-1]:%d/%m/%Y}."
        )
    return Context(store=path, date=date, region=region, manifest=manifest)


def page_context() -> Context:
    """Draw the sidebar for this page and return the selection; stop the page without one.

    Each page calls this first. The sidebar is drawn by the page rather than by ``app.py``
    because widgets drawn in the entry script before ``st.navigation`` runs the page do not
    keep their values across reruns in Streamlit's AppTest, which the page tests rely on.
    """
    st.session_state.pop("snapshot_error", None)
    ctx = sidebar()
    st.session_state["context"] = ctx
    unreadable = st.session_state.pop("snapshot_error", None)
    if ctx is None and unreadable is not None:
        snapshot_error(*unreadable)
        st.stop()
    if ctx is None:
        st.info(
            "Choisissez dans la barre latérale un magasin contenant au moins un instantané "
            "(par exemple le magasin de démonstration créé par « smr demo --out data/demo »)."
        )
        st.stop()
    return ctx


def demo_banner(ctx: Context) -> None:
    """A visible warning when the data are the fictitious demo."""
    if ctx.is_demo:
        st.warning(
            "**Données fictives** : magasin de démonstration généré sur la géographie réelle. "
            "Les établissements, noms et contacts sont inventés.",
            icon="⚠️",
        )


def fr_axis(title: str | None = None, fmt: str = ",d") -> alt.Axis:
    """An Altair axis whose labels use French digit grouping (``12 500``, not ``12,500``)."""
    return alt.Axis(
        title=title, labelExpr=f"replace(format(datum.value, '{fmt}'), /,/g, '\u202f')"
    )


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Above this many cells a table is not styled cell by cell (pandas Styler costs about
#: 10 µs a cell): numbers keep Streamlit's own formats, the rest is still in French.
MAX_STYLED_CELLS = 60_000


def csv_download(container, label: str, frame: Callable[[], pl.DataFrame] | pl.DataFrame,
                 file_name: str, key: str | None = None,
                 flavour: str = export.CSV_EXCEL) -> None:
    """A CSV download button (« CSV pour Excel » by default, or ``export.CSV_DONNEES``);
    the file is built only when clicked, contacts masked."""
    container.download_button(
        label,
        lambda: export.csv_bytes(frame() if callable(frame) else frame, flavour=flavour),
        file_name=file_name, mime="text/csv", key=key, on_click="ignore",
    )


def excel_download(
    container,
    label: str,
    sheets: Callable[[], Mapping[str, pl.DataFrame]] | Mapping[str, pl.DataFrame],
    file_name: str,
    key: str | None = None,
) -> None:
    """An Excel download button (one sheet per entry), built only when clicked."""
    container.download_button(
        label,
        lambda: export.excel_bytes(sheets() if callable(sheets) else sheets),
        file_name=file_name, mime=XLSX_MIME, key=key, on_click="ignore",
    )


def downloads(
    container,
    frame: Callable[[], pl.DataFrame] | pl.DataFrame,
    stem: str,
    key: str,
    sheets: Callable[[], Mapping[str, pl.DataFrame]] | Mapping[str, pl.DataFrame] | None = None,
    label: str = "Télécharger",
) -> None:
    """A « Télécharger » menu with the three files of a table: Excel (French headers,
    number, percent and date formats), « CSV pour Excel » and « CSV données » (codes, full
    precision). ``sheets`` replaces the workbook's single sheet; files are built on click."""
    menu = container.popover(label, icon=":material/download:")
    excel_download(menu, "Excel (.xlsx)", sheets if sheets is not None else
                   (lambda: {stem[:31]: frame() if callable(frame) else frame}),
                   f"{stem}.xlsx", key=f"{key}_xlsx")
    csv_download(menu, export.CSV_FLAVOURS[export.CSV_EXCEL], frame, f"{stem}.csv",
                 key=f"{key}_csv_excel", flavour=export.CSV_EXCEL)
    csv_download(menu, export.CSV_FLAVOURS[export.CSV_DONNEES], frame, f"{stem}_donnees.csv",
                 key=f"{key}_csv_donnees", flavour=export.CSV_DONNEES)
    menu.caption(
        "« CSV pour Excel » : séparateur point-virgule, virgule décimale, en-têtes et "
        "libellés en français. « CSV données » : séparateur virgule, point décimal, codes "
        "et valeurs complètes, dates AAAA-MM-JJ."
    )


def _column_config(fmts: Mapping[str, formats.Format], heads: Mapping[str, str],
                   styled: bool) -> dict[str, Any]:
    """Header, width, tooltip and pinning of each column; without styling, Streamlit's own
    number and date formats."""
    cfg: dict[str, Any] = {}
    for col, f in fmts.items():
        common = {"label": heads[col], "width": f.width, "help": f.help,
                  "pinned": True if f.key else None}
        if styled or f.kind in (formats.TEXT, formats.CODE, formats.BOOLEAN):
            cfg[col] = st.column_config.Column(**common)
        elif f.kind == formats.DATE:
            cfg[col] = st.column_config.DateColumn(**common, format="DD/MM/YYYY")
        elif f.kind == formats.DATETIME:
            cfg[col] = st.column_config.DatetimeColumn(**common, format="DD/MM/YYYY HH:mm")
        elif f.kind == formats.INTEGER:
            cfg[col] = st.column_config.NumberColumn(**common, format="localized")
        elif f.kind in (formats.SHARE, formats.PERCENT):
            cfg[col] = st.column_config.NumberColumn(**common, format=f"%.{f.decimals}f %%")
        else:
            cfg[col] = st.column_config.NumberColumn(**common, format=f"%.{f.decimals}f")
    return cfg


def _label(value: Any, labels: Mapping[Any, str]) -> str:
    return labels.get(value, formats.EMPTY if value in (None, "") else str(value))


def without_nulls(df: pl.DataFrame, fmts: Mapping[str, formats.Format],
                  labels: Mapping[str, Mapping[Any, str]], vectorised: bool = False
                  ) -> tuple[pl.DataFrame, dict[str, formats.Format]]:
    """``df`` with no empty cell left for Streamlit's grid to draw.

    Why: the grid draws a null as a grey « None » whatever the Styler's ``na_rep`` (seen in
    Chromium); only data without nulls shows « — ». A text column gets « — »; a number or date
    column holding nulls becomes its French text (« 41,9 », « 31/07/2023 », « — »), so the
    column reads right at the cost of sorting as text; columns without nulls keep their type.
    ``vectorised``: large tables, formatted by Polars expressions rather than cell by cell.
    Returns the frame and the formats, those of the columns turned into text marked as text.
    """
    exprs = []
    out = dict(fmts)
    for c, f in fmts.items():
        col = df.get_column(c)
        if col.null_count() == 0:
            continue
        if col.dtype in (pl.String, pl.Categorical, pl.Enum, pl.Null):
            exprs.append(pl.col(c).cast(pl.String).fill_null(formats.EMPTY))
            continue  # still text: the labels of its codes apply as before
        out[c] = dataclasses.replace(f, kind=formats.TEXT)
        if c in labels:
            exprs.append(
                pl.col(c).replace_strict(dict(labels[c]), default=pl.col(c).cast(pl.String),
                                         return_dtype=pl.String).fill_null(formats.EMPTY)
            )
        elif vectorised and col.dtype.is_numeric():
            # formats.number's own text (grouped digits, its rounding), worked out once per
            # distinct value rather than per cell; shares arrive already multiplied by 100
            suffix = f"{formats.NNBSP}%" if f.kind in (formats.SHARE, formats.PERCENT) else ""
            texts = {v: formats.number(v, f.decimals) + suffix
                     for v in col.drop_nulls().unique().to_list() if not formats.is_missing(v)}
            exprs.append(pl.col(c).replace_strict(texts, default=None, return_dtype=pl.String)
                         .fill_null(formats.EMPTY))
        else:
            exprs.append(
                pl.col(c).map_elements(functools.partial(formats.cell, f=f),
                                       return_dtype=pl.String, skip_nulls=False)
            )
    return (df.with_columns(exprs) if exprs else df), out


def show_table(
    df: pl.DataFrame,
    key: str | None = None,
    *,
    stem: str | None = None,
    sheets: Callable[[], Mapping[str, pl.DataFrame]] | Mapping[str, pl.DataFrame] | None = None,
    overrides: Mapping[str, formats.Format] | None = None,
    height: int | str | None = None,
    keep: tuple[str, ...] = (),
    container: Any = None,
) -> None:
    """A table as every page shows it: French headers, codes as French labels, numbers,
    rates and dates in French (``analysis.model.formats``), « — » for empty cells, key columns
    pinned, and (with ``stem``) a « Télécharger » menu offering Excel and both CSV.

    Cells are styled with pandas' Styler, so a column keeps its numbers (a click on the
    header sorts by value) while it shows « 41,9 » and « 83,8 % ». ``overrides``: column →
    ``formats.Format`` for columns the registry does not describe (a pivot's codes…);
    ``keep``: label columns to keep beside their code (see ``columns.labelled``).
    """
    box = container or st
    hidden = contacts_hidden()
    digest = frame_digest(df)
    if digest is None:  # a frame that cannot be fingerprinted is prepared each time
        table = _prepare(df, overrides, keep, hidden)
    else:
        table = _prepared(digest, repr(sorted((overrides or {}).items())), keep, hidden, df,
                          overrides)
        if not table.source.equals(df, null_equal=True):  # two frames, one fingerprint
            table = _prepare(df, overrides, keep, hidden)
    options: dict[str, Any] = {"hide_index": True, "width": "stretch", "key": key}
    if height is not None:
        options["height"] = height
    box.dataframe(table.data, column_config=_column_config(table.fmts, table.heads, table.styled),
                  **options)
    if stem:
        downloads(box, df, stem, key or stem, sheets=sheets)


@dataclass(frozen=True)
class _Table:
    """A table ready for ``st.dataframe``: the data (a Styler whose display values are
    already worked out, or a frame), the column formats and headers."""

    data: Any
    fmts: dict[str, formats.Format]
    heads: dict[str, str]
    styled: bool
    source: pl.DataFrame


def frame_digest(df: pl.DataFrame) -> str | None:
    """A fingerprint of ``df``'s schema and rows, in order (SHA-256 of its row hashes), None
    for a frame Polars cannot hash. Equal frames get equal fingerprints whatever their
    memory layout (a frame read back from Streamlit's data cache is a new copy)."""
    try:
        rows = df.hash_rows(seed=0, seed_1=1, seed_2=2, seed_3=3).to_numpy()
    except Exception:  # noqa: BLE001 - object columns…: no fingerprint, no reuse
        return None
    digest = hashlib.sha256(repr((df.height, list(df.schema.items()))).encode("utf-8"))
    digest.update(rows.tobytes())
    return digest.hexdigest()


@st.cache_resource(show_spinner=False, max_entries=64)
def _prepared(digest: str, overrides_key: str, keep: tuple[str, ...], hidden: bool,
              _df: pl.DataFrame, _overrides: Mapping[str, formats.Format] | None) -> _Table:
    """``_prepare`` kept for a frame of the same content (``digest``) and settings: a rerun
    that shows the same table reuses its French text instead of formatting every cell
    again. Shared read-only between sessions (the Styler is never restyled)."""
    return _prepare(_df, _overrides, keep, hidden)


def _prepare(df: pl.DataFrame, overrides: Mapping[str, formats.Format] | None,
             keep: tuple[str, ...], hidden: bool) -> _Table:
    raw = columns.without_redundant(privacy.mask_contacts(df) if hidden else df, overrides,
                                    keep)
    styled = raw.height * max(raw.width, 1) <= MAX_STYLED_CELLS
    if styled:  # the data keep their codes and numbers, the cells show French text
        shown_df = raw
        fmts = columns.specs(shown_df, overrides)
        labels = columns.code_formatters(shown_df, overrides)
        shown_df, fmts = without_nulls(shown_df, fmts, labels)
        labels = {c: v for c, v in labels.items() if fmts[c].kind == formats.CODE}
        data: Any = frozen_styler(shown_df.to_pandas().style.format(
            {
                c: (functools.partial(_label, labels=labels[c]) if c in labels
                    else functools.partial(formats.cell, f=f))
                for c, f in fmts.items()
            },
            na_rep=formats.EMPTY,
        ))
    else:
        shown_df = columns.labelled(raw, overrides, keep)
        fmts = columns.specs(shown_df, overrides)
        data, fmts = without_nulls(
            shown_df.with_columns(
                *(pl.col(c) * 100 for c, f in fmts.items() if f.kind == formats.SHARE)
            ),
            fmts,
            {},
            vectorised=True,
        )
    heads = columns.headers(shown_df.columns, shown_df.schema, overrides)
    return _Table(data, fmts, heads, styled, df)


_CELL_ID = re.compile(r"row(\d+)_col(\d+)")


def _formats_only(styler: Any) -> bool:
    """True for a Styler that only formats (as ``show_table`` builds them): no style
    function, table style, caption, hidden or trimmed cell, so its translation holds no
    style and one display value per cell."""
    import pandas as pd

    return (not styler._todo and not styler.table_styles and styler.caption is None
            and not styler.hidden_rows and not styler.hidden_columns and styler.cell_ids
            and styler.data.size <= int(pd.options.styler.render.max_elements)
            and pd.options.styler.render.max_rows is None
            and pd.options.styler.render.max_columns is None)


class _Cells:
    """The display values Streamlit reads, kept compact (per column: the rows whose text
    differs from ``str`` of the value, and their display values) and handed out as the
    body rows of pandas' translation (one per column, cells ``{"id", "display_value"}``)
    each time Streamlit walks them."""

    def __init__(self, columns: list[tuple[int, list[int], list[Any]]]) -> None:
        self.columns = columns

    def __iter__(self) -> Any:
        for c, rows, values in self.columns:
            yield [{"id": f"row{r}_col{c}", "display_value": v}
                   for r, v in zip(rows, values, strict=True)]


def _display_cells(styler: Any, plain: Any) -> list[tuple[int, list[int], list[Any]]]:
    """The cells whose display value differs from ``plain`` (``str`` of each value), with
    the values pandas gives its display functions (a column's values, as ``itertuples``
    yields them): what ``_translate`` would list, without building its HTML structure."""
    funcs = styler._display_funcs
    out = []
    for c in range(styler.data.shape[1]):
        rows, values = [], []
        for r, value in enumerate(styler.data.iloc[:, c]):
            shown = funcs[(r, c)](value)
            text = str(shown.value) if isinstance(shown, Enum) else str(shown)
            if plain[r, c] != text:
                rows.append(r)
                values.append(shown)
        if rows:
            out.append((c, rows, values))
    return out


def frozen_styler(styler: Any) -> Any:
    """``styler`` (a pandas Styler) with its display values worked out once: Streamlit's
    ``marshall_styler`` calls ``_compute`` and ``_translate`` at every draw (about 10 µs a
    cell); here they return the result of the first call, kept to what Streamlit reads
    (styles, and the body cells whose text differs from ``str`` of the value, which is what
    Streamlit starts from), so every later draw sends the same display values for less."""
    styler._compute()
    plain = styler.data.astype(str).to_numpy()
    if _formats_only(styler):
        kept_styles = {"table_styles": [], "cellstyle": [],
                       "body": _Cells(_display_cells(styler, plain))}
    else:
        translated = styler._translate(False, False)
        by_column: dict[int, tuple[list[int], list[Any]]] = {}
        for row in translated.get("body", []):
            for cell in row:
                found = _CELL_ID.match(cell.get("id") or "")
                if not found:
                    continue
                value = cell.get("display_value")
                text = str(value.value) if isinstance(value, Enum) else str(value)
                r, c = int(found.group(1)), int(found.group(2))
                if plain[r, c] != text:
                    rows, values = by_column.setdefault(c, ([], []))
                    rows.append(r)
                    values.append(value)
        kept_styles = {"table_styles": translated.get("table_styles", []),
                       "cellstyle": translated.get("cellstyle", []),
                       "body": _Cells([(c, *rv) for c, rv in by_column.items()])}
    styler._compute = lambda: styler
    styler._translate = lambda *args, **kwargs: kept_styles
    return styler


def upload_limit_mb() -> int:
    """Largest file the app accepts, in Mo: ``SMR_MAX_UPLOAD_MB`` within Streamlit's own
    ``server.maxUploadSize`` (the smaller applies)."""
    return min(settings.max_upload_mb(), int(st.get_option("server.maxUploadSize")))


def upload_hint(types: list[str], container=None) -> None:
    """Under a file uploader, in French: the formats it takes and the size limit in Mo
    (Streamlit writes its own hint in English, « 200MB per file »; app.py hides it)."""
    kinds = ", ".join(dict.fromkeys(t.upper() for t in types))
    (container or st).caption(
        f"Formats acceptés : {kinds}. Au plus {upload_limit_mb()} Mo par fichier."
    )


#: The first option of the département pickers: no filter.
ALL_DEPARTEMENTS = "(tous)"


def departement_picker(widget: Callable[..., Any], codes: Iterable[str | None], key: str
                       ) -> str | None:
    """A « Département » picker over ``codes`` (those present in the table shown, sorted, the
    null left out), « (tous) » first, labelled by name, bound to the shared choice
    ``departement`` (``state.select``); the code chosen, or None for every département."""
    deps = sorted(d for d in set(codes) if d is not None)
    dep = state.select(
        widget, "Département", [ALL_DEPARTEMENTS, *deps], "departement", key,
        none_option=ALL_DEPARTEMENTS,
        format_func=lambda d: d if d == ALL_DEPARTEMENTS else formats.departement(d),
    )
    return None if dep == ALL_DEPARTEMENTS else dep

"""``store.list_snapshots`` resolves only the entries that are links (a plain folder of the
store is inside it): the same dates as resolving every entry, for a store reached through a
link, a snapshot linked inside the store and one linked outside."""

from __future__ import annotations

import datetime as dt

from analysis.io import store
from tests.helpers import small_snapshot


def _resolving_every_entry(root) -> list[dt.date]:
    return sorted(
        dt.date.fromisoformat(e.name) for e in root.iterdir()
        if store._DATE_PATTERN.match(e.name) and (e / store.MANIFEST).is_file()
        and e.resolve().is_relative_to(root.resolve())
    )


def test_links_inside_and_outside_and_a_linked_store(tmp_path):
    real, outside = tmp_path / "magasin", tmp_path / "ailleurs"
    snap = small_snapshot()
    store.write_snapshot(real, dt.date(2024, 4, 1), snap)
    store.write_snapshot(real, dt.date(2024, 4, 2), snap)
    store.write_snapshot(outside, dt.date(2024, 4, 3), snap)
    (real / "2024-04-04").symlink_to(real / "2024-04-01", target_is_directory=True)
    (real / "2024-04-05").symlink_to(outside / "2024-04-03", target_is_directory=True)
    linked = tmp_path / "lien"
    linked.symlink_to(real, target_is_directory=True)
    for root in (real, linked):
        expected = [dt.date(2024, 4, d) for d in (1, 2, 4)]
        assert store.list_snapshots(root) == expected == _resolving_every_entry(root)

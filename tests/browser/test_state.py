"""Selections that follow the user, in a real browser: chosen on the Carte, still chosen after
sidebar navigation; a link opens the view it describes (issue 15, « Done when »)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import CHART_DRAWN, choose, selected, settle, wait_ready

pytestmark = pytest.mark.browser


def _follow(page, link: str, title: str) -> None:
    page.get_by_role("link", name=link, exact=True).click()
    page.locator("h1", has_text=title).first.wait_for()
    settle(page)


def test_snapshot_and_mention_chosen_on_carte_follow_the_user(page, app_url):
    page.goto(app_url)
    wait_ready(page)
    _follow(page, "Carte", "Carte")
    choose(page, "Instantané", "15/05/2023")
    choose(page, "Mention SMR", "Gériatrie")
    page.wait_for_url(re.compile(r"instantane=2023-05-15.*mention=ME059"))

    _follow(page, "Territoires", "Territoires")
    assert "15/05/2023" in selected(page, "Instantané")
    assert "ME059" in selected(page, "Mention SMR")
    assert "instantane=2023-05-15" in page.url and "mention=ME059" in page.url

    _follow(page, "Campagne", "Campagne")
    assert "15/05/2023" in selected(page, "Instantané")
    page.get_by_text("Instantané du 15/05/2023").first.wait_for()
    assert "mention=ME059" in page.url  # kept in the view's link, though not drawn here

    _follow(page, "Carte", "Carte")
    assert "ME059" in selected(page, "Mention SMR")
    assert "15/05/2023" in selected(page, "Instantané")


def test_a_link_opens_carte_on_geriatrie_at_15_may(page, app_url):
    page.goto(f"{app_url}/carte?mention=ME059&instantane=2023-05-15")
    page.locator("h1", has_text="Carte").first.wait_for()
    settle(page)
    page.wait_for_function(CHART_DRAWN)
    assert "ME059" in selected(page, "Mention SMR")
    assert "15/05/2023" in selected(page, "Instantané")
    assert page.get_by_text("Lien :").count() == 0  # nothing refused
    assert re.search(r"instantane=2023-05-15&region=11&mention=ME059", page.url), page.url


def test_an_invalid_link_value_falls_back_with_a_notice(page, app_url):
    page.goto(f"{app_url}/carte?mention=ME999")
    page.get_by_text("Lien : mention « ME999 » inconnue").first.wait_for()
    settle(page)
    assert "ME050" in selected(page, "Mention SMR")
    assert "ME999" not in page.url

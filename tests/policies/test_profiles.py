"""Restriction profiles: only keys from our table, stable rendering, web filter modes."""

from __future__ import annotations

import pytest

from policies import FilterMode, RestrictionProfile, WebFilter
from policies.payload_keys import check_payload, needs_supervision

ALLOW = WebFilter(mode=FilterMode.ALLOW_LIST, allowed_sites=("www.bbc.co.uk/bitesize",))


def test_unknown_restriction_key_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'allowSafary'"):
        RestrictionProfile(name="p", display_name="P", restrictions={"allowSafary": False})


def test_wrong_value_type_is_refused() -> None:
    with pytest.raises(ValueError, match="ratingApps must be integer"):
        RestrictionProfile(name="p", display_name="P", restrictions={"ratingApps": "12+"})


def test_fields_are_not_set_twice_through_restrictions() -> None:
    with pytest.raises(ValueError, match="allowSafari"):
        RestrictionProfile(name="p", display_name="P", restrictions={"allowSafari": False})


def test_unsupervised_profile_refuses_supervised_only_keys() -> None:
    with pytest.raises(ValueError, match="allowSafari"):
        RestrictionProfile(name="p", display_name="P", safari=False, supervised=False)
    RestrictionProfile(
        name="p", display_name="P", restrictions={"allowCamera": False}, supervised=False
    )


def test_check_payload_names_unknown_nested_keys() -> None:
    with pytest.raises(ValueError, match=r"App\.Colour"):
        check_payload("com.apple.app.lock", {"App": {"Identifier": "a.b", "Colour": "red"}})
    assert needs_supervision("com.apple.applicationaccess", {"allowChat": False})
    assert not needs_supervision("com.apple.applicationaccess", {"allowCamera": False})


def test_document_is_stable_and_extra_sites_change_only_the_filter() -> None:
    profile = RestrictionProfile(name="ks2", display_name="KS2", safari=True, web_filter=ALLOW)
    first = profile.document(identifier_prefix="org.school")
    assert first == profile.document(identifier_prefix="org.school")
    assert first.identifier == "org.school.restrictions.ks2"
    wider = profile.document(
        identifier_prefix="org.school", extra_allowed_domains=("romans.example",)
    )
    assert wider.content_hash != first.content_hash
    bookmarks = wider.payloads[0]["AllowListBookmarks"]
    assert [b["URL"] for b in bookmarks] == [
        "https://www.bbc.co.uk/bitesize",
        "https://romans.example",
    ]
    assert wider.payloads[0]["PayloadUUID"] == first.payloads[0]["PayloadUUID"]


def test_auto_filter_permits_and_denies() -> None:
    auto = WebFilter(mode=FilterMode.AUTO, denied_sites=("www.tiktok.com",))
    profile = RestrictionProfile(name="ks3", display_name="KS3", web_filter=auto)
    payload = profile.document(
        identifier_prefix="o.s", extra_allowed_domains=("a.example",)
    ).payloads[0]
    assert payload["AutoFilterEnabled"] is True
    assert payload["PermittedURLs"] == ["https://a.example"]
    assert payload["DenyListURLs"] == ["https://www.tiktok.com"]


def test_allow_list_needs_a_site_and_sites_need_no_scheme() -> None:
    with pytest.raises(ValueError, match="at least one"):
        WebFilter(mode=FilterMode.ALLOW_LIST)
    with pytest.raises(ValueError, match="not a site"):
        WebFilter(mode=FilterMode.AUTO, denied_sites=("https://x.example",))


def test_restrictions_cannot_be_changed_after_construction() -> None:
    profile = RestrictionProfile(name="p", display_name="P", restrictions={"allowChat": False})
    with pytest.raises(TypeError):
        profile.restrictions["allowChat"] = True  # type: ignore[index]

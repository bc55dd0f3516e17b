"""Accepted order-receiver credentials: the secret formats and the Basic header parsing."""

from __future__ import annotations

import json

import pytest
from tests.fixtures.orders import basic

from norcekit.orders.auth import SecretsUnavailable, basic_credentials, parse_credentials


def test_the_template_generated_single_pair_is_accepted() -> None:
    assert parse_credentials(json.dumps({"username": "norce", "password": "pw1"})) == ["norce:pw1"]


def test_several_pairs_overlap_during_a_rotation() -> None:
    secret = json.dumps([{"username": "norce", "password": "new"}, "norce:old"])
    assert parse_credentials(secret) == ["norce:new", "norce:old"]


@pytest.mark.parametrize(
    "secret",
    [
        "not json",
        json.dumps({"username": "norce"}),
        json.dumps(["no-colon"]),
        json.dumps([{"username": "a:b", "password": "x"}]),
    ],
)
def test_malformed_secrets_are_reported_as_unavailable(secret: str) -> None:
    with pytest.raises(SecretsUnavailable):
        parse_credentials(secret)


def test_basic_header_is_decoded_and_anything_else_is_ignored() -> None:
    assert basic_credentials(basic("norce", "p:w")) == "norce:p:w"
    assert basic_credentials({"authorization": basic("a", "b")["Authorization"]}) == "a:b"
    assert basic_credentials({"Authorization": "Bearer x"}) is None
    assert basic_credentials({}) is None


def test_the_templates_blank_placeholder_accepts_nobody() -> None:
    assert parse_credentials(json.dumps({"username": "", "password": ""})) == []

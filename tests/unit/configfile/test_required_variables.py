"""``required_variables``: what a configuration needs from the environment, by setting path."""

from __future__ import annotations

from norcekit.configfile import required_variables


def test_variables_without_a_default_are_required_with_their_first_path() -> None:
    document = {
        "sources": {"files": {"root": "${FILE_DROP_ROOT}erp", "env": "${BC_ENV:-production}"}},
        "events": {"targets": {"bus": {"bus_name": "${EVENT_BUS_NAME}"}}, "tags": ["${FILE_DROP_ROOT}", 1]},
    }
    assert required_variables(document) == {
        "FILE_DROP_ROOT": "sources.files.root",
        "EVENT_BUS_NAME": "events.targets.bus.bus_name",
    }

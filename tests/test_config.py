"""Settings come from CPGRAPH_ environment variables, through one function."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpgraph.config import load_settings
from cpgraph.errors import InputError


def test_settings_default_to_loopback_port_8000_and_the_w3id_base() -> None:
    settings = load_settings({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.base_iri == "https://w3id.org/cpgraph/"


def test_settings_are_read_from_cpgraph_variables(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "CPGRAPH_BASE_IRI": "http://data.example.org/cp/",
            "CPGRAPH_STORE_DIR": str(tmp_path),
            "CPGRAPH_PORT": "9001",
        }
    )
    assert settings.base_iri == "http://data.example.org/cp/"
    assert settings.store_dir == tmp_path
    assert settings.port == 9001


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CPGRAPH_PORT", "eighty"),
        ("CPGRAPH_BASE_IRI", "http://example.org/no-slash"),
        ("CPGRAPH_BASE_IRI", "urn:x:"),
        ("CPGRAPH_PROCESSES", "0"),
        ("CPGRAPH_MEMORY_STATEMENTS", "-1"),
    ],
)
def test_a_bad_setting_is_an_input_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(InputError, match=name):
        load_settings({name: value})


def test_serving_from_memory_may_be_turned_off_with_zero_statements() -> None:
    assert load_settings({}).memory_statements > 0
    assert load_settings({"CPGRAPH_MEMORY_STATEMENTS": "0"}).memory_statements == 0
    assert load_settings({"CPGRAPH_MEMORY_STATEMENTS": "5000"}).memory_statements == 5000

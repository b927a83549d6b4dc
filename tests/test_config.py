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
        ("CPGRAPH_STORE_URL", "ftp://store.example.org/sparql"),
        ("CPGRAPH_STORE_URL", "http://dba:secret@store.example.org/sparql"),
        ("CPGRAPH_STORE_UPDATE_URL", "store.example.org/update"),
        ("CPGRAPH_STORE_AUTH", "kerberos"),
    ],
)
def test_a_bad_setting_is_an_input_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(InputError, match=name):
        load_settings({name: value})


def test_serving_from_memory_may_be_turned_off_with_zero_statements() -> None:
    assert load_settings({}).memory_statements > 0
    assert load_settings({"CPGRAPH_MEMORY_STATEMENTS": "0"}).memory_statements == 0
    assert load_settings({"CPGRAPH_MEMORY_STATEMENTS": "5000"}).memory_statements == 5000


def test_the_embedded_store_is_the_default_and_a_remote_one_is_named_by_its_url() -> None:
    assert load_settings({}).store_url is None
    settings = load_settings(
        {
            "CPGRAPH_STORE_URL": "http://127.0.0.1:8890/sparql-auth",
            "CPGRAPH_STORE_USER": "dba",
            "CPGRAPH_STORE_PASSWORD": "a-secret-password",
            "CPGRAPH_STORE_AUTH": "digest",
        }
    )
    assert settings.store_url == "http://127.0.0.1:8890/sparql-auth"
    assert (settings.store_user, settings.store_auth) == ("dba", "digest")
    assert settings.store_password == "a-secret-password"


def test_the_remote_stores_password_and_token_never_show_in_the_settings_repr() -> None:
    settings = load_settings(
        {
            "CPGRAPH_STORE_URL": "https://store.example.org/sparql",
            "CPGRAPH_STORE_PASSWORD": "a-secret-password",
            "CPGRAPH_STORE_TOKEN": "a-secret-token-of-some-length",
        }
    )
    shown = repr(settings)
    assert "store.example.org" in shown
    assert "a-secret-password" not in shown
    assert "a-secret-token" not in shown

"""Production security settings come from the environment: `manage.py check --deploy --fail-level WARNING`
passes with them set and fails, naming the check, when one is missing; the demo's defaults serve plain http."""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import run_python


def production(tmp_path, **overrides: str) -> dict[str, str]:
    """The environment of a site served over HTTPS, as README's Settings table describes it."""
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "zooboard.example.org",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "ZOOBOARD_VAR_DIR": str(tmp_path),  # no demo secret key is generated or read
        **overrides,
    }


def check_deploy(env: dict[str, str]):
    return run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **env)


def test_the_deployment_checks_pass_under_production_settings(tmp_path):
    done = check_deploy(production(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "false"}, "security.W005"),
        ({"SESSION_COOKIE_SECURE": "false"}, "security.W012"),
        ({"CSRF_COOKIE_SECURE": "false"}, "security.W016"),
        ({"DEBUG": "true"}, "security.W018"),
        ({"SECRET_KEY": "changeme"}, "security.W009"),
    ],
)
def test_the_deployment_checks_fail_when_a_production_setting_is_off(tmp_path, overrides, check_id):
    done = check_deploy(production(tmp_path, **overrides))
    assert done.returncode != 0
    assert check_id in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SECURE_SSL_REDIRECT", "sometimes", "SECURE_SSL_REDIRECT must be true or false"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number (0 or more), not 'a year'"),
        ("SESSION_COOKIE_SECURE", "2", "SESSION_COOKIE_SECURE must be true or false"),
    ],
)
def test_a_malformed_security_setting_stops_start_up_naming_the_variable(tmp_path, name, value, expected):
    done = run_python("manage.py", "check", **production(tmp_path, **{name: value}))
    assert done.returncode != 0
    assert expected in done.stderr


@pytest.mark.django_db
def test_the_demo_defaults_serve_plain_http_with_ordinary_cookies(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200  # no redirect to https
    assert "Strict-Transport-Security" not in response
    assert not response.cookies["csrftoken"]["secure"]

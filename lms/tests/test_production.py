"""Production as deployed: static files built with lms.settings.production (hashed names,
compressed, every reference in the CSS resolved) and pages served by a real gunicorn process
with DEBUG off, on the test run's own database (the machine's server through DATABASE_URL, or
the embedded server's folder when it is unset)."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from lms.embedded_db.server import PGDATA_ENV
from users.models import User
from users.tests.factories import learner, super_admin

BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "merit.example.com"
STATIC_REF = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _production_env(static_root: Path, db_settings: dict[str, Any]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="lms.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS=HOST,
        STATIC_ROOT=str(static_root),
        PYTHONUNBUFFERED="1",
    )
    if settings.DATABASE_URL:
        user = quote(db_settings["USER"] or "")
        password = f":{quote(db_settings['PASSWORD'])}" if db_settings.get("PASSWORD") else ""
        port = f":{db_settings['PORT']}" if db_settings.get("PORT") else ""
        env["DATABASE_URL"] = (
            f"postgres://{user}{password}@{db_settings['HOST']}{port}/{db_settings['NAME']}"
        )
    else:
        # Join the test run's embedded server and its test database.
        env["MERIT_EMBEDDED_PGDATA"] = str(settings.MERIT_EMBEDDED_PGDATA or os.environ[PGDATA_ENV])
        env["MERIT_EMBEDDED_DATABASE"] = str(db_settings["NAME"])
    return env


@pytest.fixture(scope="module")
def production_server(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    """collectstatic with the production settings into a temporary STATIC_ROOT, then one
    gunicorn process serving lms.wsgi with them; yields its port."""
    with django_db_blocker.unblock():
        connection.ensure_connection()
        db_settings = dict(connection.settings_dict)
    static_root = tmp_path_factory.mktemp("static-root")
    env = _production_env(static_root, db_settings)
    built = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-4000:]
    assert (static_root / "staticfiles.json").exists()

    port = _free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
            "lms.wsgi:application",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Browser:
    """Just enough of a browser for the smoke test: cookies, and the headers a TLS-terminating
    proxy in front of gunicorn adds (X-Forwarded-Proto: https, so the secure cookies and the
    HTTPS redirect behave as deployed)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, str] | None = None,
        *,
        https: bool = True,
    ) -> tuple[http.client.HTTPResponse, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": HOST}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://{HOST}{path}"
            headers["Origin"] = f"https://{HOST}"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        conn.close()
        return response, content

    def log_in(self, username: str, password: str) -> http.client.HTTPResponse:
        _, page = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        response, _ = self.request(
            "POST",
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": username,
                "password": password,
            },
        )
        return response


def _assert_static_assets_load(browser: Browser, html: str) -> list[str]:
    """Every /static/ URL of the page is a hashed name that loads with its content type."""
    refs = STATIC_REF.findall(html)
    assert refs, "the page links no static file"
    types = {".css": "text/css", ".js": "text/javascript"}
    for ref in refs:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", ref), f"not a hashed name: {ref}"
        response, content = browser.request("GET", ref)
        assert response.status == 200, ref
        assert content
        expected = types[Path(ref).suffix]
        assert response.headers["Content-Type"].startswith(expected), (ref, response.headers)
    return refs


@pytest.mark.django_db(transaction=True)
def test_login_page_and_its_static_files_are_served_by_gunicorn(production_server: int) -> None:
    browser = Browser(production_server)
    response, content = browser.request("GET", "/accounts/login/")
    assert response.status == 200
    html = content.decode()
    assert "Log in" in html
    headers = response.headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self';" in headers["Content-Security-Policy"] + ";"
    assert (
        "unsafe-inline"
        not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Secure" in (headers["Set-Cookie"] or "")  # the CSRF cookie only travels over HTTPS
    refs = _assert_static_assets_load(browser, html)

    # The icons' CSS points at hashed fonts that load too (the reference that once broke
    # collectstatic).
    css_ref = next(ref for ref in refs if "bootstrap-icons" in ref)
    _, css = browser.request("GET", css_ref)
    fonts = re.findall(rb'url\("?(fonts/bootstrap-icons\.[0-9a-f]{12}\.woff2?)', css)
    assert {Path(f.decode()).suffix for f in fonts} == {".woff", ".woff2"}
    for font in fonts:
        font_url = css_ref.rsplit("/", 1)[0] + "/" + font.decode()
        font_response, body = browser.request("GET", font_url)
        assert font_response.status == 200 and body, font_url
        assert font_response.headers["Content-Type"].startswith("font/"), font_url


@pytest.mark.django_db(transaction=True)
def test_a_user_record_is_served_to_a_logged_in_admin(production_server: int) -> None:
    admin = super_admin(username="prodadmin")
    # The test settings hash with MD5 for speed; production knows only its own hashers.
    admin.password = PBKDF2PasswordHasher().encode("correct-horse-battery", "prodsalt1234")
    admin.save(update_fields=["password"])
    subject: User = learner(username="prodlearner", first_name="Lena", last_name="Prod")
    browser = Browser(production_server)

    response = browser.log_in("prodadmin", "correct-horse-battery")
    assert response.status == 302, response.status
    assert "sessionid" in browser.cookies

    response, content = browser.request("GET", f"/users/{subject.pk}/")
    assert response.status == 200
    html = content.decode()
    assert "Lena Prod" in html
    assert admin.get_full_name() in html  # the header shows who is logged in
    _assert_static_assets_load(browser, html)


@pytest.mark.django_db(transaction=True)
def test_an_unknown_page_is_a_404_page_with_its_static_files(production_server: int) -> None:
    browser = Browser(production_server)
    response, content = browser.request("GET", "/no-such-page/")
    assert response.status == 404
    html = content.decode()
    assert "<html" in html
    _assert_static_assets_load(browser, html)


@pytest.mark.django_db(transaction=True)
def test_plain_http_is_redirected_to_https(production_server: int) -> None:
    response, _ = Browser(production_server).request("GET", "/accounts/login/", https=False)
    assert response.status == 301
    assert response.headers["Location"] == f"https://{HOST}/accounts/login/"

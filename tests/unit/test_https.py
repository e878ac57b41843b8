"""``mall serve`` over HTTPS with the certificate the settings name, as a community office runs it
with a local certificate authority: browsers get HSTS and Secure cookies; plain HTTP gets nothing."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_mall
from tests.support import free_port


def office_ca(folder: Path) -> tuple[Path, Path, Path]:
    """The deployment guide's recipe (docs/deploy.md): an office certificate authority, and a
    certificate for the server's address signed by it. Returns (CA, certificate, key)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60, cwd=folder)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:3072",
        "-nodes",
        "-days",
        "3650",
        "-keyout",
        "office-ca.key",
        "-out",
        "office-ca.crt",
        "-subj",
        "/CN=Office CA",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "mall.key",
        "-out",
        "mall.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (folder / "mall.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "mall.csr", "-CA", "office-ca.crt", "-CAkey", "office-ca.key",
            "-CAcreateserial", "-days", "825", "-out", "mall.crt", "-extfile", "mall.ext")  # fmt: skip
    return folder / "office-ca.crt", folder / "mall.crt", folder / "mall.key"


def test_serve_answers_https_with_hsts_and_secure_cookies_and_refuses_plain_http(
    db_url: str, tmp_path: Path
) -> None:
    ca, cert, key = office_ca(tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "MALL_DATABASE_URL": db_url,
        "MALL_VAR_DIR": str(tmp_path / "var"),
        "MALL_BASE_URL": f"https://127.0.0.1:{port}",
        "MALL_TLS_CERT": str(cert),
        "MALL_TLS_KEY": str(key),
    }
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "mall.cli", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    trusted = ssl.create_default_context(cafile=str(ca))  # a device with the office CA installed
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz", verify=trusted, timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start: {log.read_text()}")
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.headers["strict-transport-security"] == "max-age=31536000"
        page = httpx.get(f"{base}/sign-in", verify=trusted, timeout=5)
        assert page.status_code == 200
        cookies = page.headers.get_list("set-cookie")
        assert cookies and all("secure" in c.lower() for c in cookies), cookies
        with pytest.raises(httpx.TransportError):  # no plain HTTP on the HTTPS port
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        with pytest.raises(httpx.ConnectError):  # nor a certificate nobody installed
            httpx.get(f"{base}/healthz", timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_plain_http_sends_no_hsts(db_url: str, tmp_path: Path) -> None:
    from tests.support import serving

    with serving(db_url, tmp_path) as base:
        answer = httpx.get(f"{base}/healthz", timeout=5)
    assert answer.status_code == 200
    assert "strict-transport-security" not in answer.headers


def test_a_certificate_without_its_key_stops_serve_with_the_settings_names(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, cert, _ = office_ca(tmp_path)
    monkeypatch.setenv("MALL_TLS_CERT", str(cert))
    stopped = run_mall("serve", "--port", str(free_port()), url=db_url, check=False)
    assert stopped.returncode == 2
    assert "MALL_TLS_CERT and MALL_TLS_KEY go together" in stopped.stderr
    assert "Traceback" not in stopped.stderr

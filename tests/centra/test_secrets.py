"""The password appears nowhere: not in logs at any level, exception texts, reprs or history."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

from pipeline.centra.client import CentraClient, History, RetryPolicy
from pipeline.centra.transport import HTTPTransport, Timeouts
from pipeline.config import load_settings
from pipeline.errors import CentraError
from tests.scripted_server import fault, scripted_server

PASSWORD = "Hunter2&<Secret>"
ESCAPED = "Hunter2&amp;&lt;Secret&gt;"


def _everything(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def test_failing_run_leaks_no_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"Login failed for password {ESCAPED}"
    result_echo = (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body><ns1:result>'
        f"<ns1:success>false</ns1:success><ns1:errors><ns1:message>bad value {ESCAPED}"
        "</ns1:message></ns1:errors><ns1:notices/></ns1:result></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    script = [
        ("respond", 503, f"overloaded {PASSWORD}"),
        ("respond", 500, fault("Server", f"crash near {ESCAPED}")),
        ("sleep", 0.5, 200, "<x/>"),
        ("respond", 200, result_echo),
        ("respond", 500, fault("Client", echo)),
    ]
    history = History(size=20)
    texts: list[str] = []
    with scripted_server(script) as server:
        client = CentraClient(
            server.url,
            "example",
            PASSWORD,
            transport=HTTPTransport(Timeouts(connect=1, read=0.2)),
            retry=RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.01),
            history=history,
        )
        texts.append(repr(client))
        for _ in range(3):
            with pytest.raises(CentraError) as caught:
                client.update("markets_Update", [{"id": "M"}])
            texts.append(_everything(caught.value))
        assert len(server.requests) == 5
        sent = server.requests[0][1].decode()
        assert f"<password>{ESCAPED}</password>" in sent, "the real password is sent to Centra"
    texts.append(caplog.text)
    texts.extend(f"{e.request}{e.response}{e.error}" for e in history.exchanges)
    assert len(history.exchanges) == 5
    assert "<password>***</password>" in history.exchanges[0].request
    blob = "\n".join(texts)
    assert "Login failed" in blob and "overloaded" in blob, "the messages themselves are kept"
    assert PASSWORD not in blob
    assert ESCAPED not in blob
    assert "Hunter2" not in blob


def test_config_reprs_hide_the_password(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("centra:\n  url: http://127.0.0.1:1/api\n")
    settings = load_settings(tmp_path, env={"CENTRA_USERNAME": "u", "CENTRA_PASSWORD": PASSWORD})
    assert settings.credentials.password.reveal() == PASSWORD
    assert PASSWORD not in repr(settings) + str(settings.credentials)

"""The watcher in this process: an observer crash, a vanished inbox, Centra failing, a refused
login, polling without any observer, and how ``auto`` picks the mode."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pipeline import watcher as watcher_module
from pipeline.centra.client import client_from_settings
from pipeline.config import load_settings
from pipeline.state.journal import Journal
from pipeline.watcher import Watcher, choose_mode, filesystem_type
from tests.conftest import Workspace
from tests.watch.helpers import archived, configure, markets_csv, wait_for


@contextmanager
def running(ws: Workspace, mode: str, rescan: float, **env: str) -> Iterator[Watcher]:
    settings = load_settings(ws.root, env=ws.env(**env))
    state = settings.folder("state")
    with Journal.open(state / "journal.sqlite") as journal, client_from_settings(settings) as c:
        watcher = Watcher(settings, c, journal, mode=mode, rescan=rescan)
        codes: list[int] = []
        thread = threading.Thread(target=lambda: codes.append(watcher.run()), daemon=True)
        thread.start()
        try:
            yield watcher
        finally:
            watcher.request_stop()
            thread.join(20)
        assert not thread.is_alive()
        assert codes == [0]


def test_a_crash_in_the_observer_thread_is_survived(
    workspace: Workspace, sandbox: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    configure(workspace, settle=0.2)
    original = watcher_module._Wake.on_any_event
    calls: list[object] = []

    def failing_once(self: Any, event: Any) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("injected failure in the observer thread")
        original(self, event)

    monkeypatch.setattr(watcher_module._Wake, "on_any_event", failing_once)
    caplog.set_level(logging.INFO)
    # A long rescan interval: after the restart, only events can make the second file prompt.
    with running(workspace, "events", rescan=60) as watcher:
        wait_for(lambda: watcher.counters.cycles >= 1, 10, "the first cycle")
        workspace.drop("markets.csv")
        wait_for(lambda: watcher.counters.observer_restarts >= 1, 10, "the observer restart")
        wait_for(lambda: archived(workspace, "markets.csv"), 10, "the file dropped at the crash")
        wait_for(lambda: watcher.observer_alive, 5, "the new observer")
        workspace.drop("warehouses.csv")
        wait_for(lambda: archived(workspace, "warehouses.csv"), 10, "the file after the restart")
    assert "injected failure in the observer thread" in caplog.text
    assert "observer stopped; restarting it" in caplog.text


def test_the_inbox_vanishing_and_coming_back_is_survived(
    workspace: Workspace, sandbox: Any, caplog: Any
) -> None:
    configure(workspace, settle=0.2)
    caplog.set_level(logging.INFO)
    away = workspace.root / "unmounted"
    with running(workspace, "events", rescan=60) as watcher:
        wait_for(lambda: watcher.counters.cycles >= 1 and watcher.observer_alive, 10, "idle")
        workspace.inbox.rename(away)  # the share goes away
        wait_for(lambda: "is not there" in caplog.text, 10, "the missing inbox noticed")
        assert not watcher.observer_alive
        away.rename(workspace.inbox)  # and comes back
        wait_for(lambda: watcher.observer_alive, 10, "the observer restarted on the inbox")
        (workspace.inbox / "markets-back.csv").write_bytes(markets_csv("BACK"))
        wait_for(lambda: archived(workspace, "markets-back.csv"), 10, "a file after the return")
    assert "is back" in caplog.text
    assert not (workspace.root / "inbox" / "inbox").exists()


def test_centra_failing_is_retried_and_a_refused_login_stops_with_3(
    workspace: Workspace, sandbox: Any, caplog: Any
) -> None:
    configure(workspace, settle=0)
    caplog.set_level(logging.INFO)
    sandbox.set_faults(http_503=20)  # more than the retries of one cycle
    with running(workspace, "polling", rescan=0.2) as watcher:
        workspace.drop("markets.csv")
        wait_for(lambda: watcher.counters.errors >= 1, 15, "a failed cycle")
        sandbox.clear_faults()
        wait_for(lambda: archived(workspace, "markets.csv"), 15, "the import after the outage")
    assert "watch cycle finished, exit 3: gave up after" in caplog.text
    assert "trying again in" in caplog.text

    settings = load_settings(workspace.root, env=workspace.env(CENTRA_PASSWORD="wrong-one"))
    state = settings.folder("state")
    with Journal.open(state / "journal.sqlite") as journal, client_from_settings(settings) as c:
        watcher = Watcher(settings, c, journal, mode="polling", rescan=0.2)
        assert watcher.run() == 3
    assert "refused the login" in caplog.text
    assert "wrong-one" not in caplog.text


def test_polling_mode_starts_no_observer(workspace: Workspace, sandbox: Any) -> None:
    configure(workspace, settle=0.1)
    with running(workspace, "polling", rescan=0.2) as watcher:
        workspace.drop("markets.csv")
        wait_for(lambda: archived(workspace, "markets.csv"), 10, "the polled file")
        ours = ("watchdog", "pipeline.watcher")
        assert [t for t in threading.enumerate() if type(t).__module__.startswith(ours)] == []
        assert not watcher.observer_alive


MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
//nas/erp /mnt/erp\\040share cifs rw,vers=3.0 0 0
server:/export /srv/nfs nfs4 rw 0 0
me@host: /home/me/remote fuse.sshfs rw 0 0
C:\\134 /mnt/c 9p rw 0 0
"""


@pytest.mark.parametrize(
    ("path", "fstype", "mode"),
    [
        ("/mnt/erp share/inbox", "cifs", "polling"),
        ("/mnt/erp/inbox", "ext4", "events"),  # not the share: a different folder
        ("/srv/nfs/erp/inbox", "nfs4", "polling"),
        ("/home/me/remote/inbox", "fuse.sshfs", "polling"),
        ("/mnt/c/erp", "9p", "polling"),  # WSL: the Windows drive
        ("/home/me/inbox", "ext4", "events"),
    ],
)
def test_auto_mode_polls_on_network_and_fuse_mounts(path: str, fstype: str, mode: str) -> None:
    assert filesystem_type(Path(path), MOUNTS) == fstype
    assert choose_mode("auto", Path(path), MOUNTS)[0] == mode
    assert choose_mode("events", Path(path), MOUNTS)[0] == "events"
    assert choose_mode("polling", Path(path), MOUNTS)[0] == "polling"


def test_filesystem_type_of_a_real_folder(tmp_path: Path) -> None:
    assert filesystem_type(tmp_path)  # whatever it is, /proc/mounts names it
    with pytest.raises(ValueError, match="mode must be one of"):
        choose_mode("inotify", tmp_path)


def test_a_file_no_mapping_matches_is_reported_once_until_a_mapping_matches_it(
    workspace: Workspace, sandbox: Any, caplog: Any
) -> None:
    configure(workspace, settle=0)
    caplog.set_level(logging.INFO)
    with running(workspace, "polling", rescan=0.1) as watcher:
        (workspace.inbox / "regions.csv").write_bytes(markets_csv("REGION1"))
        wait_for(lambda: "regions.csv: no mapping" in caplog.text, 10, "the unmatched report")
        cycles, scans = watcher.counters.cycles, watcher.counters.scans
        wait_for(lambda: watcher.counters.scans >= scans + 5, 10, "more rescans")
        assert watcher.counters.cycles == cycles  # no run per rescan for a file left alone
        assert caplog.text.count("regions.csv: no mapping") == 1
        markets = (workspace.root / "mappings" / "markets.yaml").read_text(encoding="utf-8")
        (workspace.root / "mappings" / "regions.yaml").write_text(
            markets.replace('match: ["markets*.csv", "markets*.txt"]', 'match: "regions*.csv"'),
            encoding="utf-8",
        )
        wait_for(lambda: archived(workspace, "regions.csv"), 10, "the import once mapped")

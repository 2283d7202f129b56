"""A talent's session from sign-in to signed decisions, driven through the real widgets."""

from __future__ import annotations

import json

import sqlalchemy as sa
from PySide6.QtCore import Qt

from reviewer.cli import main as cli_main
from reviewer.domain.status import RequestStatus
from reviewer.services.demo_story import DEMO_PASSPHRASE
from reviewer.services.queries import list_requests
from reviewer.storage import audit
from reviewer.storage.schema import decisions

TALENT = "Amara Okafor"  # three pending requests in the demo library


def _press(qtbot, window, key) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window.queue.table, key)


def _pending_ids(window) -> list[str]:  # type: ignore[no-untyped-def]
    model = window.queue.model
    rows = [model.summary(r) for r in range(model.rowCount())]
    return [s.id for s in rows if s.status is RequestStatus.PENDING]


def test_sign_in_walk_the_queue_approve_narrowed_and_reject(
    make_main_window, demo_library_dir, qtbot, tmp_path, capsys
):
    window = make_main_window(demo_library_dir, profile=TALENT)
    talent_id = window.session.actor.talent_id

    # Walk the queue with the keyboard: J/Down forward, K/Up back.
    window.queue.select_row(0)
    first = window.queue.current_request_id()
    _press(qtbot, window, Qt.Key.Key_J)
    second = window.queue.current_request_id()
    assert second not in (None, first)
    _press(qtbot, window, Qt.Key.Key_K)
    assert window.queue.current_request_id() == first
    _press(qtbot, window, Qt.Key.Key_Down)
    assert window.queue.current_request_id() == second

    # Only pending requests are left to decide; take the first one.
    pending = _pending_ids(window)
    assert len(pending) >= 2
    panel = window.decision_panel
    # A request that asks for more than one channel or territory, so that one can be dropped.
    for target in pending:
        window.queue.select(target)
        requested = panel.details.scope
        if len(requested.territories) > 1 or len(requested.channels) > 1:
            break
    assert panel.details.request_id == target
    other = window.queue.next_pending_after(target)
    assert other is not None and other != target

    # Approve with a narrowed scope: drop one territory (or channel), end a month early.
    narrowed_field = "territories" if len(requested.territories) > 1 else "channels"
    boxes = panel.territory_boxes if narrowed_field == "territories" else panel.channel_boxes
    dropped = list(boxes)[-1]
    boxes[dropped].setChecked(False)
    earlier = panel.until_edit.date().addMonths(-1)
    panel.until_edit.setDate(earlier)
    panel.conditions_edit.setText("No retouching of my face")
    _press(qtbot, window, Qt.Key.Key_A)
    assert panel.confirming
    assert "No retouching of my face" in panel.confirm_text.text()
    if panel.override_box.isVisible():
        panel.override_box.setChecked(True)
    with qtbot.waitSignal(panel.decision_recorded, timeout=10_000) as recorded:
        qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton)
    assert recorded.args == [target, "approved"]
    # After a decision the queue reloads and the next pending request opens.
    qtbot.waitUntil(lambda: window.queue.current_request_id() == other, timeout=10_000)

    # Reject the next one: a reason is required first.
    assert panel.details.request_id == other
    _press(qtbot, window, Qt.Key.Key_R)
    assert not panel.confirming and panel.error_label.text()
    panel.reason_edit.setPlainText("The brief shows me in swimwear; I never do swimwear.")
    _press(qtbot, window, Qt.Key.Key_R)
    assert panel.confirming
    qtbot.keyClick(panel.sign_button, Qt.Key.Key_Escape)  # Esc goes back, nothing signed
    assert not panel.confirming
    _press(qtbot, window, Qt.Key.Key_R)
    with qtbot.waitSignal(panel.decision_recorded, timeout=10_000):
        qtbot.keyClick(panel.sign_button, Qt.Key.Key_Return)  # Enter signs
    qtbot.waitUntil(lambda: not window._queue_runner.busy, timeout=10_000)

    # The store: statuses and the narrowed scope as signed.
    library = window.library
    status = {s.id: s.status for s in list_requests(library, talent_ids=[talent_id])}
    assert status[target] is RequestStatus.APPROVED
    assert status[other] is RequestStatus.REJECTED
    with library.reader.connect() as conn:
        rows = {r.request_id: r for r in conn.execute(
            sa.select(decisions).where(decisions.c.request_id.in_([target, other])))}
        chain_problem = audit.verify(conn)
        actions = [e.action for e in audit.entries(conn, subject=f"request:{target}")]
    approved_scope = rows[target].scope
    assert dropped not in approved_scope[narrowed_field]
    assert rows[target].approved_until == earlier.toPython()
    assert rows[target].conditions == "No retouching of my face"
    assert rows[other].reason.startswith("The brief shows me in swimwear")
    assert chain_problem is None
    assert "decision.recorded" in actions

    # The receipts verify offline with the talent's key, and carry what was shown.
    for request_id, verdict in ((target, "approved"), (other, "rejected")):
        out = tmp_path / f"{request_id}.json"
        assert cli_main(["--library", str(library.root), "receipt", request_id,
                         "--out", str(out)]) == 0
        receipt = json.loads(out.read_text())
        assert receipt["decision"]["verdict"] == verdict
        assert cli_main(["--library", str(library.root), "verify", str(out)]) == 0
    capsys.readouterr()


def test_an_agent_sees_the_queue_but_cannot_decide(make_main_window, demo_library_dir, qtbot):
    window = make_main_window(demo_library_dir, profile="Noor Haddad")
    window.queue.select(_pending_ids(window)[0])
    panel = window.decision_panel
    assert panel.stack.currentWidget() is panel.readonly_page
    assert "only the talent" in panel.readonly_label.text()
    window.actions_by_name["approve"].trigger()
    assert not panel.confirming
    with window.library.reader.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(decisions).where(
            decisions.c.decided_by == "Noor Haddad")).scalar() == 0


def test_passphrase_is_asked_again_after_idling(make_main_window, demo_library_dir, qtbot,
                                                monkeypatch):
    from reviewer.ui import main_window as main_window_module
    from reviewer.ui.sign_in_dialog import SignInDialog

    window = make_main_window(demo_library_dir, profile=TALENT)
    window.queue.select(_pending_ids(window)[0])
    window.activity.last_input -= main_window_module.IDLE_SECONDS + 1
    seen: list[SignInDialog] = []

    def answer(dialog: SignInDialog) -> int:
        # What the user does in the modal dialog: type the passphrase and press Enter.
        seen.append(dialog)
        dialog.show()
        dialog.windowHandle().requestActivate()
        qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
        qtbot.keyClicks(dialog.passphrase_edit, DEMO_PASSPHRASE)
        qtbot.keyClick(dialog.passphrase_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: dialog.session is not None, timeout=10_000)
        return 1

    monkeypatch.setattr(SignInDialog, "exec", answer)
    panel = window.decision_panel
    panel.begin("approved")
    with qtbot.waitSignal(panel.decision_recorded, timeout=10_000):
        if panel.override_box.isVisible():
            panel.override_box.setChecked(True)
        panel.sign()
    assert len(seen) == 1 and not seen[0].profile_box.isEnabled()

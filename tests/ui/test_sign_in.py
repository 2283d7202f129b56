"""Signing in: the passphrase is checked off the GUI thread, the profile is remembered, the
passphrase never."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from reviewer.services.demo_story import DEMO_PASSPHRASE
from reviewer.storage.library import Library
from reviewer.ui.sign_in_dialog import LAST_PROFILE_KEY, SignInDialog


def _choose(dialog: SignInDialog, name: str) -> None:
    dialog.profile_box.setCurrentIndex(dialog.profile_box.findData(name))


def test_wrong_then_right_passphrase(qtbot, demo_library_dir):
    library = Library.open(demo_library_dir)
    try:
        dialog = SignInDialog(library)
        qtbot.addWidget(dialog)
        _choose(dialog, "Lena Vogt")
        qtbot.keyClicks(dialog.passphrase_edit, "not the passphrase")
        qtbot.keyClick(dialog.passphrase_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(dialog.error_label.text()), timeout=10_000)
        assert dialog.session is None
        dialog.passphrase_edit.clear()
        qtbot.keyClicks(dialog.passphrase_edit, DEMO_PASSPHRASE)
        with qtbot.waitSignal(dialog.accepted, timeout=10_000):
            qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        assert dialog.session is not None and dialog.session.name == "Lena Vogt"
        assert dialog.passphrase_edit.text() == ""
        stored = {key: QSettings().value(key) for key in QSettings().allKeys()}
        assert stored.get(LAST_PROFILE_KEY) == "Lena Vogt"
        assert DEMO_PASSPHRASE not in repr(stored)
        again = SignInDialog(library)
        qtbot.addWidget(again)
        assert again.profile_box.currentData() == "Lena Vogt"
    finally:
        library.close()


def test_confirming_after_a_pause_is_for_the_same_profile_only(qtbot, demo_library_dir):
    library = Library.open(demo_library_dir)
    try:
        dialog = SignInDialog(library, only_profile="Amara Okafor")
        qtbot.addWidget(dialog)
        assert dialog.profile_box.count() == 1
        assert not dialog.profile_box.isEnabled()
    finally:
        library.close()

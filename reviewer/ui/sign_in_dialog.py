"""Who is reviewing: pick a profile, enter the passphrase. The last profile is remembered,
the passphrase never."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.services.profiles import Profile, ProfileService, Session
from reviewer.storage.library import Library
from reviewer.ui.workers import LatestOnlyRunner

LAST_PROFILE_KEY = "sign_in/last_profile"


class SignInDialog(QDialog):
    """Sign in, or (with *only_profile*) confirm the passphrase again after a pause."""

    def __init__(self, library: Library, parent: QWidget | None = None, *,
                 only_profile: str | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.session: Session | None = None
        self.setWindowTitle("Twin Reviewer — sign in")
        self.setModal(True)
        self.setMinimumWidth(420)
        order = {"talent": 0, "agent": 1, "director": 2}
        self.profiles: list[Profile] = sorted(ProfileService(library).list(),
                                              key=lambda p: (order[p.role.value], p.name))
        title = QLabel("Confirm it is you" if only_profile else "Who is reviewing?")
        title.setProperty("class", "heading")
        hint = QLabel(
            "You were away for a while. Enter your passphrase before the next decision."
            if only_profile else
            "Talents decide on their own twin; agents follow and flag; directors follow their "
            "organisation's requests."
        )
        hint.setProperty("class", "muted")
        hint.setWordWrap(True)
        self.profile_box = QComboBox()
        for profile in self.profiles:
            if only_profile is None or profile.name == only_profile:
                self.profile_box.addItem(f"{profile.name}  —  {_role_words(profile)}",
                                         profile.name)
        self.profile_box.setEnabled(only_profile is None)
        last = QSettings().value(LAST_PROFILE_KEY)
        index = self.profile_box.findData(only_profile or last)
        if index >= 0:
            self.profile_box.setCurrentIndex(index)
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setPlaceholderText("Passphrase")
        self.passphrase_edit.returnPressed.connect(self.try_sign_in)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #e07070;")
        self.error_label.setWordWrap(True)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.try_sign_in)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.sign_in_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.profile_box)
        layout.addWidget(self.passphrase_edit)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self._runner = LatestOnlyRunner(self)
        if not self.profiles:
            self.error_label.setText("This library has no profiles yet: add one with "
                                     "`reviewer profile add`.")
            self.sign_in_button.setEnabled(False)
        self.passphrase_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def try_sign_in(self) -> None:
        name = self.profile_box.currentData()
        passphrase = self.passphrase_edit.text()
        if not name or not passphrase or self._runner.busy:
            return
        self.error_label.clear()
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.setText("Checking…")
        service = ProfileService(self.library)
        # Argon2id is slow on purpose; check it off the GUI thread.
        self._runner.start(lambda: service.authenticate(name, passphrase), self._on_signed_in,
                           self._on_failed)

    def _on_signed_in(self, session: Session) -> None:
        self.session = session
        QSettings().setValue(LAST_PROFILE_KEY, session.name)
        self.passphrase_edit.clear()
        self.accept()

    def _on_failed(self, reason: str) -> None:
        self.sign_in_button.setEnabled(True)
        self.sign_in_button.setText("Sign in")
        self.passphrase_edit.selectAll()
        self.passphrase_edit.setFocus()
        self.error_label.setText(reason)



def _role_words(profile: Profile) -> str:
    if profile.role.value == "talent":
        return "talent, deciding on their own twin"
    if profile.role.value == "agent":
        count = len(profile.represents)
        return f"agent for {count} talent{'s' if count != 1 else ''}"
    return f"director at {profile.organisation}"

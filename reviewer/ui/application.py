"""The QApplication and its start-up: sign in, then the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def create_application(argv: list[str] | None = None):  # type: ignore[no-untyped-def]
    os.environ.setdefault("QT_API", "pyside6")
    from PySide6.QtWidgets import QApplication

    from reviewer import __version__
    from reviewer.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Twin Reviewer")
    app.setOrganizationName("twin-reviewer")
    app.setApplicationVersion(__version__)
    apply_theme(app)
    return app


def run_main_window(library_dir: Path) -> int:
    app = create_application()
    from reviewer.storage.library import Library
    from reviewer.ui.main_window import MainWindow
    from reviewer.ui.sign_in_dialog import SignInDialog

    library = Library.open(library_dir)
    try:
        while True:
            dialog = SignInDialog(library)
            if not dialog.exec() or dialog.session is None:
                return 0
            window = MainWindow(library, dialog.session)
            window.show()
            app.exec()
            if not getattr(window, "signed_out", False):
                return 0
    finally:
        library.close()

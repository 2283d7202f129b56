"""Starting the desktop app."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def run_app(library_dir: Path) -> int:
    """Open the main window on *library_dir*; create the demo library there if none exists."""
    os.environ.setdefault("QT_API", "pyside6")
    from reviewer.storage.library import Library

    if not Library.exists_at(library_dir):
        from reviewer.services.demo import build_demo_library

        print(f"No library at {library_dir}: creating the demo library…", file=sys.stderr)
        build_demo_library(library_dir, progress=lambda line: print(line, file=sys.stderr))

    from reviewer.ui.application import run_main_window

    return run_main_window(library_dir)

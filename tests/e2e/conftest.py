"""Widget fixtures: see tests/gui_fixtures.py."""

from gui_fixtures import _no_leaked_interactors, make_main_window  # noqa: F401 - by name

"""Compare mode: a window of its own for comparing looks, shapes, renders and revisions.

Open it with :func:`open_compare`. Four tabs share one toolbar:

- **Looks**: two to four looks in a grid of avatar views with linked cameras (:kbd:`L`
  unlinks), the same lighting and display mode, a synchronised turntable, a label per view.
- **Shape**: two looks in one view, overlaid or as a heat map of their distance in
  millimetres, after an alignment the window announces.
- **Renders**: two renders side by side, wiped, differenced, onion-skinned or flipped.
- **Revisions**: what changed between two revisions of a request, each changed file one
  double-click from the tabs above.

Everything here only reads. No control decides, and the main window's decision keys do not
reach this window (it is a window of its own, and Qt's shortcuts act in their own window).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QTabWidget,
    QToolBar,
    QToolButton,
    QWidget,
)

from reviewer.services.compare_sets import (
    AssetRef,
    CompareSet,
    check_readable,
    comparable_assets,
)
from reviewer.services.queries import asset_local_path
from reviewer.services.refusals import Refusal
from reviewer.ui.camera_link import CameraLink, read_camera, write_camera
from reviewer.ui.contact_sheet import ContactSheet, SheetTile, save_pdf, save_png
from reviewer.ui.image_compare_view import ImageCompareView, qimage_from_array
from reviewer.ui.look_grid import LookGrid
from reviewer.ui.mesh_compare_view import MeshCompareView
from reviewer.ui.revision_diff_view import RevisionDiffView
from reviewer.ui.windows import CloseWithParent

if TYPE_CHECKING:
    from reviewer.services.profiles import Session
    from reviewer.storage.library import Library
    from reviewer.ui.avatar_viewer import AvatarViewer

TABS = ("looks", "shape", "renders", "revisions")
TAB_LABELS = {"looks": "Looks", "shape": "Shape", "renders": "Renders", "revisions": "Revisions"}
VIEWS = (
    ("front", "Front", "Ctrl+1"),
    ("back", "Back", "Ctrl+2"),
    ("left", "Left", "Ctrl+3"),
    ("right", "Right", "Ctrl+4"),
    ("three_quarter", "¾", "Ctrl+5"),
)
_READ_ONLY_NOTE = "Read-only · comparing decides nothing"


class CompareWindow(QMainWindow):
    """Compare mode; see the module docstring. Build it with :func:`open_compare`."""

    compare_set_changed = Signal()
    exported = Signal(str)  # path of a contact sheet written

    def __init__(
        self,
        library: Library,
        session: Session,
        refs: Sequence[AssetRef],
        parent: QWidget | None = None,
    ) -> None:
        # Refuse before any 3D view exists: a refused comparison leaves nothing open.
        check_readable(library, session.actor, refs)
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        # Not deleted on close: a load still running on a worker thread reports to objects of
        # this window, which must outlive it. Closing frees the views and the meshes.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.library = library
        self.session = session
        self.compare_set = CompareSet()
        self.link = CameraLink(self)
        self.closed = False
        self._return_camera_to: AvatarViewer | None = None
        self._render_refs: list[AssetRef] = []

        self.grid = LookGrid(library, self.link, self)
        self.shape = MeshCompareView(self)
        self.link.add(self.shape.viewer)
        self.renders = ImageCompareView(self)
        self.revisions = RevisionDiffView(library, session.actor, self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        for name, widget in zip(
            TABS, (self.grid, self.shape, self.renders, self.revisions), strict=True
        ):
            self.tabs.addTab(widget, TAB_LABELS[name])
        self.setCentralWidget(self.tabs)

        self.actions_by_name: dict[str, QAction] = {}
        self._build_toolbar()
        self.grid.look_shown.connect(lambda _i: self._on_looks_changed())
        self.grid.all_shown.connect(self._on_looks_changed)
        self.shape.measured.connect(self._on_measured)
        self.revisions.compare_requested.connect(self.compare_versions)
        self.link.interaction_started.connect(self._stop_turntables)
        self.link.linked_changed.connect(self._on_linked_changed)
        self.tabs.currentChanged.connect(lambda _i: self._on_tab_changed())
        self.compare_set.subscribe(self._on_compare_set_changed)
        self.resize(1500, 920)
        self.set_refs(list(refs))

    # -- the set -------------------------------------------------------------------------------
    def set_refs(self, refs: list[AssetRef]) -> None:
        """Compare *refs*: avatars go to the grid and the shape tab, renders to the renders
        tab, and their requests to the revisions tab. Refused (and audited) when the profile
        may not read one of them."""
        check_readable(self.library, self.session.actor, refs)
        self.compare_set.set(refs)

    def _on_compare_set_changed(self) -> None:
        looks = list(self.compare_set.looks)
        self.grid.set_looks(looks)
        self.shape.set_looks([(ref.label, None) for ref in looks])
        renders = list(self.compare_set.renders)
        if len(renders) < 2:
            # Offer the renders of the requests compared, so that two can still be picked.
            ids = self.compare_set.request_ids
            renders = [
                r
                for r in comparable_assets(
                    self.library, self.session.actor, role="render", request_ids=ids
                )
                if r.revision == r.latest_revision or r in renders
            ] or renders
        self._render_refs = renders
        self.renders.set_choices(
            [(ref.caption, asset_local_path(self.library, ref.asset)) for ref in renders]
        )
        everything = comparable_assets(
            self.library, self.session.actor, request_ids=self.compare_set.request_ids
        )
        self.revisions.set_requests(
            everything, prefer=next(iter(self.compare_set.request_ids), None)
        )
        names = sorted({ref.talent_name for ref in (*looks, *renders)})
        self.setWindowTitle(f"Compare · {', '.join(names) or 'nothing yet'} — Twin Reviewer")
        first = "looks" if len(looks) >= 2 else "renders" if len(renders) >= 2 else "revisions"
        self.show_tab(first)
        self._update_actions()
        self.compare_set_changed.emit()

    def _on_looks_changed(self) -> None:
        avatars = self.grid.avatars()
        self.shape.set_looks(
            [
                (pane.ref.label, avatar)
                for pane, avatar in zip(self.grid.panes, avatars, strict=True)
            ]
        )
        self._update_actions()

    def compare_versions(self, older: AssetRef, newer: AssetRef) -> None:
        """Compare two versions of one asset (from the revisions tab): renders as images,
        avatars as a heat map of how the newer differs from the older."""
        older = _with_label(older, f"{older.label} (r{older.revision})")
        newer = _with_label(newer, f"{newer.label} (r{newer.revision})")
        if newer.role == "render":
            choices = [
                (ref.caption, asset_local_path(self.library, ref.asset)) for ref in (older, newer)
            ]
            self._render_refs = [older, newer]
            self.renders.set_choices(choices, 0, 1)
            self.show_tab("renders")
            return
        self.compare_set.set([newer, older, *self.compare_set.renders])
        self.shape.set_view("heat")
        self.show_tab("shape")

    # -- tabs and toolbar ------------------------------------------------------------------------
    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    @property
    def current_tab(self) -> str:
        return TABS[self.tabs.currentIndex()]

    def _build_toolbar(self) -> None:
        bar = QToolBar("Compare", self)
        bar.setObjectName("compareToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

        def action(
            name: str,
            text: str,
            keys: str | None,
            slot: Any,
            *,
            tip: str = "",
            checkable: bool = False,
            on_bar: bool = True,
        ) -> QAction:
            made = QAction(text, self)
            if keys:
                made.setShortcut(QKeySequence(keys))
            made.setToolTip(f"{tip or text}  ({keys})" if keys else (tip or text))
            made.setCheckable(checkable)
            made.triggered.connect(slot)
            self.addAction(made)
            if on_bar:
                bar.addAction(made)
            self.actions_by_name[name] = made
            return made

        for index, name in enumerate(TABS):
            action(
                f"tab_{name}",
                TAB_LABELS[name],
                f"Alt+{index + 1}",
                lambda _c=False, n=name: self.show_tab(n),
                on_bar=False,
            )
        for name, text, keys in VIEWS:
            action(
                f"view_{name}",
                text,
                keys,
                lambda _c=False, n=name: self.set_view(n),
                tip=f"{'Three-quarter' if name == 'three_quarter' else text} view",
            )
        action(
            "reset_view",
            "Reset",
            "F",
            lambda: self.set_view("front"),
            tip="Frame the figures from the front",
        )
        bar.addSeparator()
        action(
            "linked",
            "Linked",
            "L",
            self.link.set_linked,
            tip="Move every view together; untick to move each alone",
            checkable=True,
        )
        self.actions_by_name["linked"].setChecked(True)
        action(
            "turntable",
            "Turntable",
            "T",
            lambda _c=False: self.toggle_turntable(),
            tip="Turn every view slowly around its figure, in step",
            checkable=True,
        )
        self._lighting_button = self._choice_button(
            bar,
            "lighting",
            {"studio": "Studio", "soft": "Soft", "rim": "Rim"},
            self.set_lighting,
            "Lighting, the same in every view",
        )
        self._mode_button = self._choice_button(
            bar,
            "mode",
            {"textured": "Textured", "solid": "Solid", "wireframe": "Wireframe"},
            self.set_mode,
            "Display, the same in every view",
        )
        bar.addSeparator()
        action(
            "heat_map",
            "Heat map",
            "H",
            lambda _c=False: self._show_shape("heat"),
            tip="Distance from A to B in millimetres",
            on_bar=False,
        )
        action(
            "overlay",
            "Overlay",
            "O",
            lambda _c=False: self._show_shape("overlay"),
            tip="A and B in one view, B translucent",
            on_bar=False,
        )
        action(
            "edit",
            "Choose…",
            "Ctrl+K",
            lambda _c=False: self.choose(),
            tip="Choose the looks and renders to compare",
        )
        action(
            "export_png",
            "Contact sheet",
            "Ctrl+E",
            lambda _c=False: self.export_dialog(),
            tip="Export this comparison as a PNG contact sheet",
        )
        action(
            "export_pdf",
            "PDF",
            "Ctrl+Shift+E",
            lambda _c=False: self.export_dialog(pdf=True),
            tip="Export this comparison as a PDF contact sheet",
        )
        action("close", "Close", "Ctrl+W", lambda _c=False: self.close(), on_bar=False)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        note = QLabel(_READ_ONLY_NOTE, bar)
        note.setObjectName("compareReadOnly")
        note.setStyleSheet("color: #8d8f93; padding: 0 10px;")
        bar.addWidget(note)

    def _choice_button(
        self, bar: QToolBar, name: str, labels: dict[str, str], choose: Any, tip: str
    ) -> QToolButton:
        button = QToolButton(bar)
        button.setObjectName(f"compare-{name}")
        button.setText(next(iter(labels.values())))
        button.setToolTip(tip)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        group = QActionGroup(menu)
        for value, label in labels.items():
            item = QAction(label, menu)
            item.setCheckable(True)
            item.setChecked(label == button.text())
            item.triggered.connect(
                lambda _c=False, v=value, t=label, b=button: (b.setText(t), choose(v))
            )
            group.addAction(item)
            menu.addAction(item)
        button.setMenu(menu)
        bar.addWidget(button)
        return button

    def _update_actions(self) -> None:
        three_d = self.current_tab in ("looks", "shape")
        for name, made in self.actions_by_name.items():
            if name.startswith("view_") or name in ("reset_view", "turntable", "linked"):
                made.setEnabled(three_d)
        self._lighting_button.setEnabled(three_d)
        self._mode_button.setEnabled(self.current_tab == "looks")

    def _on_tab_changed(self) -> None:
        self.statusBar().clearMessage()  # an announcement belongs to the tab that made it
        self._update_actions()

    def _show_shape(self, view: str) -> None:
        self.shape.set_view(view)  # type: ignore[arg-type]
        self.show_tab("shape")

    # -- 3D views, all at once -------------------------------------------------------------------
    def _viewers_here(self) -> list[AvatarViewer]:
        if self.current_tab == "shape":
            return [self.shape.viewer]
        return self.grid.viewers

    def set_view(self, name: str) -> None:
        self._stop_turntables()
        if self.current_tab == "shape" and not self.link.linked:
            self.shape.viewer.set_view(name)  # type: ignore[arg-type]
            return
        self.grid.set_view(name)  # type: ignore[arg-type]
        if self.link.linked and not any(v.avatar for v in self.grid.viewers):
            self.shape.viewer.set_view(name)  # type: ignore[arg-type]

    def set_lighting(self, preset: str) -> None:
        self.grid.set_lighting(preset)  # type: ignore[arg-type]
        self.shape.viewer.set_lighting(preset)  # type: ignore[arg-type]

    def set_mode(self, mode: str) -> None:
        self.grid.set_mode(mode)  # type: ignore[arg-type]

    def toggle_turntable(self) -> None:
        if any(v.turntable_running for v in (*self.grid.viewers, self.shape.viewer)):
            self._stop_turntables()
            return
        shown = [v for v in self._viewers_here() if v.avatar is not None]
        # Linked, one view turns and the link turns the others in step; unlinked, each turns
        # at the same speed from where it is.
        for viewer in shown[:1] if self.link.linked else shown:
            viewer.start_turntable()
        self.actions_by_name["turntable"].setChecked(bool(shown))

    def _stop_turntables(self) -> None:
        for viewer in (*self.grid.viewers, self.shape.viewer):
            viewer.stop_turntable()
        self.actions_by_name["turntable"].setChecked(False)

    def _on_linked_changed(self, linked: bool) -> None:
        self.actions_by_name["linked"].setChecked(linked)
        self._stop_turntables()
        self.statusBar().showMessage(
            "Views linked: moving one moves all."
            if linked
            else "Views unlinked: each view moves on its own.",
            5000,
        )

    def _on_measured(self, result: Any) -> None:
        self.link.adopt(self.shape.viewer)
        a_label, b_label = self.shape.labels()
        sentence = result.comparison.alignment.describe(b_label, a_label)
        self.statusBar().showMessage(sentence, 12000)

    # -- camera hand-over with the main window ---------------------------------------------------
    def take_camera_from(self, viewer: AvatarViewer) -> None:
        """Start every view at *viewer*'s camera, and give the camera back to it on close."""
        self._return_camera_to = viewer
        if viewer.avatar is not None:
            self.link.apply(read_camera(viewer))

    # -- choosing and exporting ------------------------------------------------------------------
    def choose(self) -> None:
        from reviewer.ui.compare_picker import ComparePicker

        picker = ComparePicker(
            self.library,
            self.session.actor,
            checked=(*self.compare_set.looks, *self.compare_set.renders),
            parent=self,
        )
        if picker.exec():
            self.set_refs(picker.checked())

    def contact_sheet(self) -> ContactSheet:
        """The comparison on screen as a contact sheet."""
        tab = self.current_tab
        tiles: list[SheetTile] = []
        notes: list[str] = []
        if tab == "looks":
            for pane in self.grid.panes:
                if pane.viewer.avatar is None:
                    continue
                tiles.append(
                    SheetTile(
                        qimage_from_array(pane.viewer.grab_image()),
                        pane.ref.label,
                        _ref_lines(pane.ref),
                    )
                )
            title = f"{len(tiles)} looks compared"
            notes.append(
                "Linked views, one camera, the same lighting."
                if self.link.linked
                else "Views moved independently."
            )
        elif tab == "shape":
            result = self.shape.result
            a_label, b_label = self.shape.labels()
            refs = self.grid.refs
            image = qimage_from_array(self.shape.viewer.grab_image())
            scale = self.shape.scale_bar.grab().toImage()
            view = "Heat map" if self.shape.view == "heat" else "Overlay"
            lines = tuple(
                line
                for ref in refs
                if ref.label in (a_label, b_label)
                for line in (f"{ref.label}: {ref.where}, {ref.asset.sha256[:16]}",)
            )
            tiles.append(SheetTile(image, f"{view}: {a_label} to {b_label}", lines))
            if self.shape.view == "heat":
                tiles.append(SheetTile(scale, "Distance, mm"))
            title = f"Shape: {a_label} and {b_label}"
            if result is not None:
                notes.append(result.comparison.summary(a_label, b_label))
                notes.append(result.comparison.alignment.describe(b_label, a_label))
        elif tab == "renders":
            loaded = self.renders.loaded
            title = "Renders compared"
            if loaded is not None:
                refs = {ref.caption: ref for ref in self._render_refs}
                for label, array in (
                    (loaded.a_label, loaded.pair.a),
                    (loaded.b_label, loaded.pair.b),
                ):
                    ref = refs.get(label)
                    tiles.append(
                        SheetTile(qimage_from_array(array), label, _ref_lines(ref) if ref else ())
                    )
                mode = self.renders.mode.replace("_", " ")
                tiles.append(
                    SheetTile(
                        qimage_from_array(self.renders.composite()), f"{mode.capitalize()}", ()
                    )
                )
                notes.append(self.renders.info.text())
                title = f"Renders: {loaded.a_label} and {loaded.b_label}"
        else:
            diff = self.revisions.diff
            title = "Revisions compared"
            if diff is not None:
                title = f"{diff.request_id}: revision {diff.old_revision} → {diff.new_revision}"
                notes.append(diff.summary())
                notes.extend(f"{t.label}: {t.old} → {t.new}" for t in diff.changed_terms)
                notes.extend(
                    f"{c.status.capitalize()}: {c.path}"
                    + (
                        f" ({c.old.sha256[:12]} → {c.new.sha256[:12]})"
                        if c.old and c.new and c.old.sha256 != c.new.sha256
                        else ""
                    )
                    for c in diff.changed_assets
                )
        who = f"{self.session.actor.describe()}"
        return ContactSheet(
            title=f"Twin Reviewer · {title}", tiles=tuple(tiles), notes=tuple(notes), made_by=who
        )

    def export_contact_sheet(self, path: Path) -> Path:
        """Write the contact sheet to *path*: PDF for a .pdf name, else PNG."""
        sheet = self.contact_sheet()
        written = (
            save_pdf(sheet, path) if Path(path).suffix.lower() == ".pdf" else save_png(sheet, path)
        )
        self.statusBar().showMessage(f"Contact sheet written to {written}", 8000)
        self.exported.emit(str(written))
        return written

    def export_dialog(self, *, pdf: bool = False) -> Path | None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        suffix = ".pdf" if pdf else ".png"
        kind = "PDF document (*.pdf)" if pdf else "PNG image (*.png)"
        name, _ = QFileDialog.getSaveFileName(
            self, "Export contact sheet", f"comparison-{stamp}{suffix}", kind
        )
        if not name:
            return None
        path = Path(name if name.lower().endswith(suffix) else name + suffix)
        try:
            return self.export_contact_sheet(path)
        except OSError as exc:
            QMessageBox.warning(self, "Contact sheet", str(exc))
            return None

    # -- lifetime --------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_views()
        super().closeEvent(event)

    def close_views(self) -> None:
        """Close every 3D view (their render windows), handing the camera back first."""
        if self.closed:
            return
        self.closed = True
        viewer = self._return_camera_to
        state = self.link.camera()
        if viewer is not None and state is not None and viewer.avatar is not None:
            with contextlib.suppress(RuntimeError):  # the main window's view is already gone
                write_camera(viewer, state)
                # Applying its own lighting again makes the viewer treat the camera as moved:
                # a big avatar's full-detail frame is drawn anew from the new camera.
                viewer.set_lighting(viewer.lighting)
        self._stop_turntables()
        self.link.close()
        self.grid.close_viewers()
        self.shape.close_viewer()
        self.renders.close_view()


def _ref_lines(ref: AssetRef) -> tuple[str, ...]:
    latest = ", latest" if ref.revision == ref.latest_revision else ""
    return (
        f"{ref.request_id} · revision {ref.revision}{latest}",
        f"{ref.talent_name} · {ref.organisation}",
        f"sha256 {ref.asset.sha256[:16]}…",
    )


def _with_label(ref: AssetRef, label: str) -> AssetRef:
    from dataclasses import replace

    return replace(ref, asset=replace(ref.asset, label=label))


def refs_for_request(main_window: Any) -> list[AssetRef]:
    """The looks (at most four) and renders of the request the main window shows."""
    summary = getattr(main_window.request_view, "summary", None)
    if summary is None:
        return []
    refs = comparable_assets(
        main_window.library, main_window.session.actor, request_ids=[summary.id]
    )
    return [ref for ref in refs if ref.revision == ref.latest_revision]


def open_compare(
    main_window: Any, asset_refs: Sequence[AssetRef] | None = None
) -> CompareWindow | None:
    """Enter compare mode from *main_window* (a :class:`~reviewer.ui.main_window.MainWindow`).

    With *asset_refs*, compare those. Without, compare the looks and renders of the request
    on screen when it has two looks or more; otherwise ask which to compare. The compare
    window starts from the main window's 3D camera and gives it back on close; it closes
    with the main window. Returns the window, or None when nothing was chosen or reading
    was refused (said in the status bar). An open compare window is reused.
    """
    from reviewer.ui.compare_picker import ComparePicker

    library, session = main_window.library, main_window.session
    refs = list(asset_refs) if asset_refs is not None else refs_for_request(main_window)
    if asset_refs is None and sum(1 for r in refs if r.role == "avatar") < 2:
        picker = ComparePicker(library, session.actor, checked=refs, parent=main_window)
        if not picker.exec():
            return None
        refs = picker.checked()
    window = next((w for w in main_window.findChildren(CompareWindow) if not w.closed), None)
    for closed in main_window.findChildren(CompareWindow):
        if closed.closed:
            closed.deleteLater()
    try:
        if window is None:
            window = CompareWindow(library, session, refs, main_window)
            CloseWithParent(window, main_window)
            viewer = main_window.request_view.avatar_viewer
            window.take_camera_from(viewer)
        else:
            window.set_refs(refs)
    except Refusal as exc:
        main_window.statusBar().showMessage(str(exc), 8000)
        return None
    window.show()
    window.raise_()
    window.activateWindow()
    return window


__all__ = ["TABS", "CompareWindow", "open_compare", "refs_for_request"]

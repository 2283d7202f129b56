"""Two looks in one view: overlaid (the second translucent, in a second colour) or as a heat
map of the distance from look A to look B, with a colour bar in millimetres.

The measuring (:mod:`reviewer.render.mesh_compare`) runs on a worker thread; the view says
what it is doing, then how the looks were aligned and where they differ most. The looks come
from the grid's viewers (``AvatarViewer.avatar``), so an up axis chosen for a look there is
the one compared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.render.mesh_compare import (
    HEAT_STOPS,
    OVERLAY_COLOR,
    MeshComparison,
    nice_scale_max,
    scale_ticks,
)
from reviewer.ui.avatar_viewer import AvatarViewer
from reviewer.ui.look_grid import NO_PROXY, hide_viewer_bar
from reviewer.ui.workers import LatestOnlyRunner

if TYPE_CHECKING:
    from reviewer.assets.meshes import Avatar
    from reviewer.render.mesh_compare import AlignMethod

MeshView = Literal["heat", "overlay"]
ALIGN_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("auto", "Auto", "As the files place them when they share a frame, else by bounding box"),
    ("none", "As placed", "Exactly where the files put them"),
    ("bbox", "Bounding box", "Boxes centred over each other, feet on one floor"),
    ("icp", "Box + ICP", "Bounding box, then rigid ICP registration of B onto A"),
)
_MUTED = "color: #8d8f93;"


@dataclass(frozen=True)
class _Job:
    a: Avatar
    b: Avatar
    method: AlignMethod
    match_size: bool
    view: MeshView
    reuse: MeshComparison | None


@dataclass(frozen=True)
class MeshResult:
    comparison: MeshComparison
    display: Any
    view: MeshView
    scale_max_mm: float


def _measure(job: _Job) -> MeshResult:
    from reviewer.render.mesh_compare import compare_meshes, heat_map_avatar, overlay_avatar
    from reviewer.render.proxy import prepare_for_display

    comparison = job.reuse or compare_meshes(job.a, job.b, job.method, match_size=job.match_size)
    scale_max = nice_scale_max(comparison.max_mm)
    if job.view == "heat":
        avatar = heat_map_avatar(job.a, comparison, scale_max)
    else:
        avatar = overlay_avatar(job.a, comparison)
    return MeshResult(
        comparison,
        prepare_for_display(avatar, proxy_above=NO_PROXY, texture_size=NO_PROXY),
        job.view,
        scale_max,
    )


class HeatScaleBar(QWidget):
    """The heat map's colour bar: millimetres from 0 to the top of the scale, with a mark at
    the largest deviation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale_max_mm = 10.0
        self.max_mm: float | None = None
        self.setFixedWidth(96)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)

    def set_scale(self, scale_max_mm: float, max_mm: float | None) -> None:
        self.scale_max_mm = scale_max_mm
        self.max_mm = max_mm
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#141517"))
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        top, bottom = 34.0, self.height() - 22.0
        bar = QRectF(14.0, top, 16.0, max(bottom - top, 10.0))
        gradient = QLinearGradient(0, bar.bottom(), 0, bar.top())
        for stop, (r, g, b) in HEAT_STOPS:
            gradient.setColorAt(stop, QColor.fromRgbF(r, g, b))
        painter.fillRect(bar, gradient)
        painter.setPen(QPen(QColor("#3a3c40")))
        painter.drawRect(bar)
        painter.setPen(QColor("#a4a6aa"))
        painter.drawText(QRectF(4, 6, self.width() - 8, 20), Qt.AlignmentFlag.AlignLeft, "mm")
        for value in scale_ticks(self.scale_max_mm):
            y = bar.bottom() - bar.height() * value / self.scale_max_mm
            painter.drawLine(int(bar.right()), int(y), int(bar.right() + 4), int(y))
            text = f"{value:g}" if value else "0"
            if value >= self.scale_max_mm:
                text = f"≥ {value:g}"
            painter.drawText(
                QRectF(bar.right() + 7, y - 8, 60, 16),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
        if self.max_mm is not None and self.max_mm > 0:
            share = min(self.max_mm / self.scale_max_mm, 1.0)
            y = bar.bottom() - bar.height() * share
            painter.setPen(QPen(QColor("#f4f5f6"), 2))
            painter.drawLine(int(bar.left() - 5), int(y), int(bar.right() + 2), int(y))
            painter.drawText(
                QRectF(2, bar.bottom() + 4, self.width() - 4, 16),
                Qt.AlignmentFlag.AlignLeft,
                f"max {self.max_mm:.1f}",
            )
        painter.end()


class MeshCompareView(QWidget):
    """Overlay and heat map of a pair of looks (A and B) chosen from the comparison."""

    measured = Signal(object)  # MeshResult
    """A comparison is on screen; carries the :class:`MeshResult`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._looks: list[tuple[str, Avatar | None]] = []
        self._runner = LatestOnlyRunner(self)
        self._result: MeshResult | None = None
        self._shown: tuple[Any, ...] | None = None
        # Keyed by the avatars' ids; each entry holds the avatars so that no id is reused.
        self._cache: dict[tuple[int, int, str, bool], tuple[Any, Any, MeshComparison]] = {}

        self.a_choice = QComboBox(self)
        self.b_choice = QComboBox(self)
        for combo in (self.a_choice, self.b_choice):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._on_choice_changed)
        self.swap_button = QToolButton(self)
        self.swap_button.setText("⇄ Swap")
        self.swap_button.setToolTip("Measure B against A instead")
        self.swap_button.clicked.connect(self.swap)
        self.view_buttons = QButtonGroup(self)
        self.heat_button = QToolButton(self)
        self.heat_button.setText("Heat map")
        self.heat_button.setToolTip("Colour A by its distance to B, in millimetres  (H)")
        self.overlay_button = QToolButton(self)
        self.overlay_button.setText("Overlay")
        self.overlay_button.setToolTip("A as it is, B over it, translucent blue  (O)")
        for index, button in enumerate((self.heat_button, self.overlay_button)):
            button.setCheckable(True)
            self.view_buttons.addButton(button, index)
        self.heat_button.setChecked(True)
        self.view_buttons.idClicked.connect(lambda _i: self._remeasure())
        self.align_choice = QComboBox(self)
        for value, label, tip in ALIGN_CHOICES:
            self.align_choice.addItem(label, value)
            self.align_choice.setItemData(
                self.align_choice.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.align_choice.setToolTip("How B is aligned to A before measuring")
        self.align_choice.currentIndexChanged.connect(lambda _i: self._remeasure())
        self.match_size = QCheckBox("Match height", self)
        self.match_size.setToolTip(
            "Scale B to A's height first: right for a file exported at another scale, "
            "wrong for a figure that really is taller"
        )
        self.match_size.toggled.connect(lambda _on: self._remeasure())

        controls = QHBoxLayout()
        controls.setContentsMargins(10, 6, 10, 6)
        controls.setSpacing(6)
        controls.addWidget(_label("A", self))
        controls.addWidget(self.a_choice)
        controls.addWidget(_label("to B", self))
        controls.addWidget(self.b_choice)
        controls.addWidget(self.swap_button)
        controls.addSpacing(16)
        controls.addWidget(self.heat_button)
        controls.addWidget(self.overlay_button)
        controls.addSpacing(16)
        controls.addWidget(_label("Align", self))
        controls.addWidget(self.align_choice)
        controls.addWidget(self.match_size)
        controls.addStretch(1)

        self.viewer = AvatarViewer(
            self, proxy_above=NO_PROXY, proxy_texture_size=NO_PROXY, warm_up=False
        )
        hide_viewer_bar(self.viewer)
        self.scale_bar = HeatScaleBar(self)
        self.legend = QLabel(self)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        r, g, b = (round(c * 255) for c in OVERLAY_COLOR)
        self.legend.setText(
            "<span style='color:#d9dadc'>■</span> A as it is &nbsp;&nbsp;"
            f"<span style='color:rgb({r},{g},{b})'>■</span> B, translucent"
        )
        self.legend.setStyleSheet("color: #a4a6aa; background: #141517; padding: 6px 10px;")
        middle = QHBoxLayout()
        middle.setContentsMargins(0, 0, 0, 0)
        middle.setSpacing(0)
        middle.addWidget(self.viewer, 1)
        middle.addWidget(self.scale_bar)

        self.info = QLabel(self)
        self.info.setObjectName("meshCompareInfo")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setStyleSheet("color: #c9cacc; background: #18191b; padding: 8px 12px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(controls)
        layout.addLayout(middle, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.info)
        self._update_chrome()
        self.viewer.show_message("Pick two looks to compare their shape.")

    # -- what is compared ------------------------------------------------------------------------
    @property
    def result(self) -> MeshResult | None:
        return self._result

    @property
    def view(self) -> MeshView:
        return "heat" if self.heat_button.isChecked() else "overlay"

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def set_looks(self, looks: list[tuple[str, Avatar | None]]) -> None:
        """The looks to choose from, as (label, avatar or None while it loads)."""
        current = (self.a_choice.currentIndex(), self.b_choice.currentIndex())
        self._looks = looks
        for combo in (self.a_choice, self.b_choice):
            combo.blockSignals(True)
            combo.clear()
            for label, _avatar in looks:
                combo.addItem(label)
        a, b = current
        if not (0 <= a < len(looks)):
            a = 0
        if not (0 <= b < len(looks)) or b == a:
            b = 1 if len(looks) > 1 and a != 1 else 0
        self.a_choice.setCurrentIndex(a)
        self.b_choice.setCurrentIndex(b)
        for combo in (self.a_choice, self.b_choice):
            combo.blockSignals(False)
        self._remeasure()

    def set_pair(self, a: int, b: int) -> None:
        for combo, index in ((self.a_choice, a), (self.b_choice, b)):
            combo.blockSignals(True)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
        self._remeasure()

    def set_view(self, view: MeshView) -> None:
        (self.heat_button if view == "heat" else self.overlay_button).setChecked(True)
        self._remeasure()

    def set_alignment(self, method: AlignMethod, *, match_size: bool = False) -> None:
        self.align_choice.blockSignals(True)
        self.match_size.blockSignals(True)
        self.align_choice.setCurrentIndex(self.align_choice.findData(method))
        self.match_size.setChecked(match_size)
        self.align_choice.blockSignals(False)
        self.match_size.blockSignals(False)
        self._remeasure()

    def swap(self) -> None:
        a, b = self.a_choice.currentIndex(), self.b_choice.currentIndex()
        self.set_pair(b, a)

    def labels(self) -> tuple[str, str]:
        return self.a_choice.currentText(), self.b_choice.currentText()

    # -- measuring -------------------------------------------------------------------------------
    def _on_choice_changed(self, _index: int) -> None:
        self._remeasure()

    def _remeasure(self) -> None:
        """Show the chosen pair, measuring it unless a comparison of the same looks with the
        same alignment was made before (switching overlay and heat map measures nothing)."""
        self._update_chrome()
        a_index, b_index = self.a_choice.currentIndex(), self.b_choice.currentIndex()
        if len(self._looks) < 2 or a_index < 0 or b_index < 0:
            return
        if a_index == b_index:
            self._runner.cancel()
            self.viewer.show_message("Pick two different looks for A and B.")
            self.info.setText("")
            return
        (a_label, a), (b_label, b) = self._looks[a_index], self._looks[b_index]
        if a is None or b is None:
            self.viewer.show_loading("Waiting for the looks to load…")
            return
        method: AlignMethod = self.align_choice.currentData()
        match = self.match_size.isChecked()
        key = (id(a), id(b), method, match)
        shown = (key, self.view, a_label, b_label)
        if shown == self._shown and self.viewer.avatar is not None and not self.busy:
            return  # e.g. another look of the grid arrived: this pair is on screen already
        cached = self._cache.get(key)
        reuse = cached[2] if cached is not None else None
        self.viewer.show_loading(
            f"Measuring {a_label} against {b_label}…" if reuse is None else "Building the view…"
        )
        self.info.setText("")
        job = _Job(a, b, method, match, self.view, reuse)
        self._shown = None
        self._runner.start(
            lambda: _measure(job),
            lambda result: self._on_measured(result, key, (a, b), shown),
            lambda reason: self.viewer.show_message(f"Cannot compare these looks: {reason}"),
        )

    def _on_measured(
        self,
        result: MeshResult,
        key: tuple[int, int, str, bool],
        pair: tuple[Any, Any],
        shown: tuple[Any, ...],
    ) -> None:
        a_label, b_label = shown[2], shown[3]
        self._cache[key] = (*pair, result.comparison)
        self._shown = shown
        self._result = result
        # Keep the camera where it was: the link (if any) gives this view the shared camera.
        self.viewer.show_avatar(result.display, mode="textured")
        comparison = result.comparison
        self.scale_bar.set_scale(result.scale_max_mm, comparison.max_mm)
        self.info.setText(
            f"<b>{comparison.summary(a_label, b_label)}</b><br>"
            f"<span style='{_MUTED}'>{comparison.alignment.describe(b_label, a_label)} "
            f"Measured {len(comparison.distances_mm):,} points of A against "
            f"{comparison.other.triangles:,} triangles of B in {comparison.seconds:.1f} s."
            "</span>"
        )
        self._update_chrome()
        self.measured.emit(result)

    def _update_chrome(self) -> None:
        heat = self.view == "heat"
        self.scale_bar.setVisible(heat)
        self.legend.setVisible(not heat)

    def close_viewer(self) -> None:
        self._runner.cancel()
        self._cache.clear()
        self._result = None
        self._shown = None
        self._looks = []
        self.viewer.close_interactor()


def _label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet(_MUTED)
    return label


__all__ = ["ALIGN_CHOICES", "HeatScaleBar", "MeshCompareView", "MeshResult"]

"""Comparing two renders: side by side with one zoom and pan, a wipe with a draggable split,
the difference (absolute, amplified or thresholded, with the changed area), onion skin, and a
flip book. Space swaps A and B in every mode.

The images are fitted to one frame on a worker thread
(:func:`reviewer.assets.image_compare.fit_to_common_frame`); every canvas here draws that
frame, so a frame pixel is the same place of the picture in A and in B. Canvases paint in
logical pixels and let Qt scale to the screen's device pixels; the split of the wipe falls on
an image-pixel boundary, the same one :func:`~reviewer.assets.image_compare.wipe` uses for the
contact sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.assets.image_compare import (
    DEFAULT_THRESHOLD,
    FittedPair,
    PairDifference,
    onion_skin,
    split_index,
    wipe,
)
from reviewer.ui.workers import LatestOnlyRunner

if TYPE_CHECKING:
    from reviewer.assets.image_compare import DifferenceStyle, Orientation

CompareMode = Literal["side_by_side", "wipe", "difference", "onion", "flip"]
MODE_LABELS: dict[str, tuple[str, str]] = {
    "side_by_side": ("Side by side", "A and B next to each other, zoomed and panned together"),
    "wipe": ("Wipe", "A on one side of a line you drag, B on the other"),
    "difference": ("Difference", "Where and how much A and B differ"),
    "onion": ("Onion skin", "B laid over A, as transparent as the slider says"),
    "flip": ("A/B", "One image at a time; Space flips between them"),
}
STYLE_LABELS: dict[str, str] = {
    "threshold": "Highlight over threshold",
    "amplified": "Amplified",
    "absolute": "Absolute",
}
MAX_SIDE = 4096  # larger renders are compared at this size on screen
MIN_ZOOM, MAX_ZOOM = 0.02, 64.0
_GRAB_DISTANCE = 10.0  # logical pixels: how near the split line a press grabs it
_BACKDROP = QColor("#121315")


def qimage_from_array(array: np.ndarray) -> QImage:
    """A QImage owning a copy of an (H, W, 3) uint8 array."""
    pixels = np.ascontiguousarray(array, dtype=np.uint8)
    height, width = pixels.shape[:2]
    return QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class ViewState(QObject):
    """Zoom and pan shared by every canvas that shows the same frame.

    ``zoom`` is logical pixels per frame pixel, or None to fit the frame in the canvas;
    ``centre`` is the frame point shown at the middle of the canvas.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.zoom: float | None = None
        self.centre: QPointF | None = None
        self.canvases: list[CompareCanvas] = []

    def fit_zoom(self) -> float:
        """The zoom that fits the frame in every visible canvas: side by side, both halves
        show the picture at the same size even when they differ by a pixel."""
        fits = [c.own_fit_zoom() for c in self.canvases if c.isVisible() and c.frame_size]
        return min(fits) if fits else 1.0

    def fit(self) -> None:
        self.zoom = None
        self.centre = None
        self.changed.emit()

    def set(self, zoom: float, centre: QPointF) -> None:
        self.zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        self.centre = QPointF(centre)
        self.changed.emit()


class CompareCanvas(QWidget):
    """Draws one frame-sized picture, or two with a split between them (the wipe).

    Wheel: zoom about the cursor. Drag: pan, or move the split when pressed near it.
    Double-click: fit.
    """

    split_moved = Signal(float)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        state.canvases.append(self)
        state.changed.connect(self.update)
        self.frame_size: tuple[int, int] | None = None
        self.first: QImage | None = None
        self.second: QImage | None = None
        self.second_opacity = 1.0
        self.split: float | None = None  # None: no wipe
        self.orientation: Orientation = "vertical"
        self.tags: tuple[str, str] = ("", "")
        self.message = ""
        self._drag: tuple[str, QPointF, QPointF] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(160, 120)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # -- what is drawn ---------------------------------------------------------------------------
    def show_single(self, image: QImage | None, tag: str = "") -> None:
        self.first, self.second, self.split = image, None, None
        self.tags = (tag, "")
        self._set_frame(image)

    def show_wipe(
        self,
        first: QImage,
        second: QImage,
        split: float,
        orientation: Orientation,
        tags: tuple[str, str],
    ) -> None:
        self.first, self.second = first, second
        self.second_opacity = 1.0
        self.split = split
        self.orientation = orientation
        self.tags = tags
        self._set_frame(first)

    def show_overlay(
        self, first: QImage, second: QImage, opacity: float, tags: tuple[str, str]
    ) -> None:
        self.first, self.second, self.split = first, second, None
        self.second_opacity = opacity
        self.tags = tags
        self._set_frame(first)

    def show_message(self, text: str) -> None:
        self.first = self.second = None
        self.frame_size = None
        self.message = text
        self.update()

    def _set_frame(self, image: QImage | None) -> None:
        self.frame_size = None if image is None else (image.width(), image.height())
        self.message = ""
        self.update()

    # -- frame and widget coordinates ------------------------------------------------------------
    def zoom(self) -> float:
        """Logical pixels per frame pixel, as drawn now."""
        if self.state.zoom is not None:
            return self.state.zoom
        return self.fit_zoom()

    def fit_zoom(self) -> float:
        """The zoom at which the frame fits (in every canvas sharing the view state)."""
        if self.frame_size is None:
            return 1.0
        return self.state.fit_zoom() if self.isVisible() else self.own_fit_zoom()

    def own_fit_zoom(self) -> float:
        if self.frame_size is None:
            return 1.0
        width, height = self.frame_size
        return max(min(self.width() / width, self.height() / height), 1e-6)

    def centre(self) -> QPointF:
        if self.state.centre is not None and self.state.zoom is not None:
            return self.state.centre
        if self.frame_size is None:
            return QPointF(0, 0)
        return QPointF(self.frame_size[0] / 2, self.frame_size[1] / 2)

    def to_frame(self, point: QPointF) -> QPointF:
        """The frame point under *point* (logical widget coordinates, as mouse events give)."""
        zoom, centre = self.zoom(), self.centre()
        return QPointF(
            centre.x() + (point.x() - self.width() / 2) / zoom,
            centre.y() + (point.y() - self.height() / 2) / zoom,
        )

    def to_widget(self, point: QPointF) -> QPointF:
        zoom, centre = self.zoom(), self.centre()
        return QPointF(
            self.width() / 2 + (point.x() - centre.x()) * zoom,
            self.height() / 2 + (point.y() - centre.y()) * zoom,
        )

    def frame_rect(self) -> QRectF:
        """Where the whole frame is drawn, in logical widget coordinates."""
        if self.frame_size is None:
            return QRectF()
        top_left = self.to_widget(QPointF(0, 0))
        zoom = self.zoom()
        return QRectF(
            top_left.x(), top_left.y(), self.frame_size[0] * zoom, self.frame_size[1] * zoom
        )

    def split_in_widget(self) -> float | None:
        """The split line's position in logical widget coordinates (x for a vertical split,
        y for a horizontal one), on the image-pixel boundary the frame is split at."""
        if self.split is None or self.frame_size is None:
            return None
        if self.orientation == "vertical":
            index = split_index(self.split, self.frame_size[0])
            return self.to_widget(QPointF(index, 0)).x()
        index = split_index(self.split, self.frame_size[1])
        return self.to_widget(QPointF(0, index)).y()

    def split_for(self, point: QPointF) -> float:
        """The split position (0-1) that puts the line under *point*."""
        assert self.frame_size is not None
        frame = self.to_frame(point)
        if self.orientation == "vertical":
            return float(np.clip(frame.x() / self.frame_size[0], 0.0, 1.0))
        return float(np.clip(frame.y() / self.frame_size[1], 0.0, 1.0))

    # -- painting --------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKDROP)
        if self.first is None or self.frame_size is None:
            painter.setPen(QColor("#8d8f93"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            painter.end()
            return
        # Magnified past 2×, show pixels as pixels; below, smooth.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom() < 2.0)
        target = self.frame_rect()
        source = QRectF(0, 0, *self.frame_size)
        if self.split is None:
            painter.drawImage(target, self.first, source)
            if self.second is not None:
                painter.setOpacity(self.second_opacity)
                painter.drawImage(target, self.second, source)
                painter.setOpacity(1.0)
        else:
            self._paint_wipe(painter, target, source)
        self._paint_tags(painter)
        painter.end()

    def _paint_wipe(self, painter: QPainter, target: QRectF, source: QRectF) -> None:
        assert self.first is not None and self.second is not None
        line = self.split_in_widget()
        assert line is not None
        if self.orientation == "vertical":
            first_clip = QRectF(target.left(), target.top(), line - target.left(), target.height())
            second_clip = QRectF(line, target.top(), target.right() - line, target.height())
        else:
            first_clip = QRectF(target.left(), target.top(), target.width(), line - target.top())
            second_clip = QRectF(target.left(), line, target.width(), target.bottom() - line)
        for clip, image in ((first_clip, self.first), (second_clip, self.second)):
            if clip.width() > 0 and clip.height() > 0:
                painter.save()
                painter.setClipRect(clip)
                painter.drawImage(target, image, source)
                painter.restore()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(QPen(QColor(236, 237, 239, 200), 1))
        if self.orientation == "vertical":
            painter.drawLine(QPointF(line, target.top()), QPointF(line, target.bottom()))
            handle = QRectF(line - 5, target.center().y() - 18, 10, 36)
        else:
            painter.drawLine(QPointF(target.left(), line), QPointF(target.right(), line))
            handle = QRectF(target.center().x() - 18, line - 5, 36, 10)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QColor(236, 237, 239, 210))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(handle, 4, 4)

    def _paint_tags(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSizeF(9)
        font.setBold(True)
        painter.setFont(font)
        first, second = self.tags
        corners = [(first, Qt.AlignmentFlag.AlignLeft)]
        if second:
            corners.append((second, Qt.AlignmentFlag.AlignRight))
        for text, side in corners:
            if not text:
                continue
            metrics = painter.fontMetrics()
            width = metrics.horizontalAdvance(text) + 14
            x = 10 if side == Qt.AlignmentFlag.AlignLeft else self.width() - width - 10
            if self.split is not None and self.orientation == "horizontal" and text == second:
                x, y = 10, self.height() - 32
            else:
                y = 10
            chip = QRectF(x, y, width, 22)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(20, 21, 23, 200))
            painter.drawRoundedRect(chip, 4, 4)
            painter.setPen(QColor("#e4e5e7"))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)

    # -- interaction -----------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if not steps or self.frame_size is None:
            return
        anchor = event.position()
        under = self.to_frame(anchor)
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * 1.25**steps))
        # Keep the frame point under the cursor where it is.
        centre = QPointF(
            under.x() - (anchor.x() - self.width() / 2) / zoom,
            under.y() - (anchor.y() - self.height() / 2) / zoom,
        )
        self.state.set(zoom, centre)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.frame_size is None:
            return
        position = event.position()
        line = self.split_in_widget()
        along = position.x() if self.orientation == "vertical" else position.y()
        if line is not None and abs(along - line) <= _GRAB_DISTANCE:
            self._drag = ("split", position, QPointF())
        else:
            self._drag = ("pan", position, self.centre())
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position()
        if self._drag is None:
            line = self.split_in_widget()
            along = position.x() if self.orientation == "vertical" else position.y()
            near = line is not None and abs(along - line) <= _GRAB_DISTANCE
            shape = (
                Qt.CursorShape.SplitHCursor
                if self.orientation == "vertical"
                else Qt.CursorShape.SplitVCursor
            )
            self.setCursor(shape if near else Qt.CursorShape.ArrowCursor)
            return
        kind, start, centre = self._drag
        if kind == "split":
            self.split = self.split_for(position)
            self.update()
            self.split_moved.emit(self.split)
        else:
            zoom = self.zoom()
            self.state.set(
                zoom,
                QPointF(
                    centre.x() - (position.x() - start.x()) / zoom,
                    centre.y() - (position.y() - start.y()) / zoom,
                ),
            )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.state.fit()


@dataclass(frozen=True)
class LoadedPair:
    pair: FittedPair
    difference: PairDifference
    a_label: str
    b_label: str


def _load_pair(a: Path, b: Path, a_label: str, b_label: str) -> LoadedPair:
    from reviewer.assets.image_compare import fit_to_common_frame
    from reviewer.assets.images import open_display_image

    pair = fit_to_common_frame(open_display_image(a), open_display_image(b), max_side=MAX_SIDE)
    return LoadedPair(pair, PairDifference(pair), a_label, b_label)


class ImageCompareView(QWidget):
    """Two renders compared five ways; see the module docstring."""

    pair_shown = Signal()
    swapped_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loaded: LoadedPair | None = None
        self._qimages: dict[str, QImage] = {}
        self._runner = LatestOnlyRunner(self)
        self.mode: CompareMode = "side_by_side"
        self.swapped = False
        self.split = 0.5
        self.orientation: Orientation = "vertical"
        self.state = ViewState(self)

        self.left = CompareCanvas(self.state, self)
        self.right = CompareCanvas(self.state, self)
        self.left.split_moved.connect(self._on_split_moved)
        pair_row = QWidget(self)
        row = QHBoxLayout(pair_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        row.addWidget(self.left, 1)
        row.addWidget(self.right, 1)

        self.a_choice = QComboBox(self)
        self.b_choice = QComboBox(self)
        for combo in (self.a_choice, self.b_choice):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(lambda _i: self._load_chosen())
        self._choices: list[tuple[str, Path]] = []

        self.mode_buttons = QButtonGroup(self)
        modes = QHBoxLayout()
        modes.setSpacing(2)
        self._mode_ids: dict[str, int] = {}
        for index, (name, (text, tip)) in enumerate(MODE_LABELS.items()):
            button = QToolButton(self)
            button.setText(text)
            button.setToolTip(f"{tip}  ({index + 1})")
            button.setCheckable(True)
            button.setObjectName(f"imageMode-{name}")
            self.mode_buttons.addButton(button, index)
            self._mode_ids[name] = index
            modes.addWidget(button)
        self.mode_buttons.button(0).setChecked(True)
        self.mode_buttons.idClicked.connect(
            lambda i: self.set_mode(list(MODE_LABELS)[i])  # type: ignore[arg-type]
        )

        # Mode-specific controls, one page each.
        self.options = QStackedWidget(self)
        self.orientation_button = QToolButton(self)
        self.orientation_button.setText("Split: vertical")
        self.orientation_button.setToolTip("Split left and right, or top and bottom")
        self.orientation_button.clicked.connect(self.toggle_orientation)
        self.style_choice = QComboBox(self)
        for value, text in STYLE_LABELS.items():
            self.style_choice.addItem(text, value)
        self.style_choice.currentIndexChanged.connect(lambda _i: self._refresh())
        self.gain = QSpinBox(self)
        self.gain.setRange(2, 64)
        self.gain.setValue(8)
        self.gain.setPrefix("×")
        self.gain.setToolTip("How much small differences are amplified")
        self.gain.valueChanged.connect(lambda _v: self._refresh())
        self.threshold = QSlider(Qt.Orientation.Horizontal, self)
        self.threshold.setRange(0, 128)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setFixedWidth(140)
        self.threshold.setToolTip(
            "Differences up to this (of 255) are taken for noise, e.g. from JPEG compression"
        )
        self.threshold.valueChanged.connect(lambda _v: self._refresh())
        self.threshold_label = QLabel(self)
        self.opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(160)
        self.opacity.setToolTip("How much of B shows over A")
        self.opacity.valueChanged.connect(lambda _v: self._refresh())
        self.opacity_label = QLabel(self)
        self.options.addWidget(QWidget(self))  # side by side, flip: nothing to set
        self.options.addWidget(_row(self, [self.orientation_button]))
        self.options.addWidget(
            _row(
                self,
                [
                    self.style_choice,
                    self.gain,
                    _muted("Threshold", self),
                    self.threshold,
                    self.threshold_label,
                ],
            )
        )
        self.options.addWidget(
            _row(self, [_muted("B over A", self), self.opacity, self.opacity_label])
        )

        fit = QToolButton(self)
        fit.setText("Fit")
        fit.setToolTip("Fit the images in the view  (double-click)")
        fit.clicked.connect(self.state.fit)
        actual = QToolButton(self)
        actual.setText("1:1")
        actual.setToolTip("One image pixel per screen pixel")
        actual.clicked.connect(self.actual_size)
        swap = QToolButton(self)
        swap.setText("⇄ Swap A/B")
        swap.setToolTip("Swap A and B in every mode  (Space)")
        swap.clicked.connect(self.toggle_ab)

        top = QHBoxLayout()
        top.setContentsMargins(10, 6, 10, 2)
        top.setSpacing(6)
        self._choice_widgets = [_muted("A", self), self.a_choice, _muted("B", self), self.b_choice]
        for widget in self._choice_widgets:
            top.addWidget(widget)
        top.addWidget(swap)
        top.addStretch(1)
        top.addWidget(fit)
        top.addWidget(actual)
        second = QHBoxLayout()
        second.setContentsMargins(10, 2, 10, 6)
        second.setSpacing(6)
        second.addLayout(modes)
        second.addSpacing(12)
        second.addWidget(self.options)
        second.addStretch(1)

        self.info = QLabel(self)
        self.info.setObjectName("imageCompareInfo")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #c9cacc; background: #18191b; padding: 8px 12px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(pair_row, 1)
        layout.addWidget(self.info)

        for key, slot in (("Space", self.toggle_ab),):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        for index, name in enumerate(MODE_LABELS):
            shortcut = QShortcut(QKeySequence(str(index + 1)), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda n=name: self.set_mode(n))
        self.left.show_message("Pick two renders to compare.")
        self._refresh()

    # -- what is compared ------------------------------------------------------------------------
    @property
    def loaded(self) -> LoadedPair | None:
        return self._loaded

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def set_choices(self, choices: list[tuple[str, Path]], a: int = 0, b: int = 1) -> None:
        """The renders to choose from, as (label, path); shows *a* against *b*."""
        self._choices = choices
        for combo, index in ((self.a_choice, a), (self.b_choice, b)):
            combo.blockSignals(True)
            combo.clear()
            for label, _path in choices:
                combo.addItem(label)
            combo.setCurrentIndex(min(index, len(choices) - 1))
            combo.blockSignals(False)
        self._load_chosen()

    def set_pair_images(self, a: Any, b: Any, a_label: str = "A", b_label: str = "B") -> None:
        """Compare two images given directly (Pillow images or arrays), e.g. in tests."""
        from reviewer.assets.image_compare import fit_to_common_frame

        pair = fit_to_common_frame(a, b, max_side=MAX_SIDE)
        self._on_loaded(LoadedPair(pair, PairDifference(pair), a_label, b_label))

    def show_pair(self, loaded: LoadedPair) -> None:
        """Compare a pair made elsewhere, e.g. a found image laid onto a render
        (:func:`reviewer.assets.image_compare.register_found`)."""
        self._runner.cancel()
        self._on_loaded(loaded)

    def show_choices(self, visible: bool) -> None:
        """Show or hide the A and B pickers (hidden when the caller chooses the pair)."""
        for widget in self._choice_widgets:
            widget.setVisible(visible)

    def show_waiting(self, text: str) -> None:
        """Nothing to compare (yet): *text* where the images go."""
        self._runner.cancel()
        self._loaded = None
        self._qimages = {}
        self.left.show_message(text)
        self.right.show_message("")
        self._refresh()

    def _load_chosen(self) -> None:
        a, b = self.a_choice.currentIndex(), self.b_choice.currentIndex()
        if not self._choices or a < 0 or b < 0:
            self.left.show_message("No renders to compare.")
            self.right.show_message("")
            return
        if a == b:
            self.left.show_message("Pick two different renders for A and B.")
            self.right.show_message("")
            self._loaded = None
            self._refresh()
            return
        (a_label, a_path), (b_label, b_path) = self._choices[a], self._choices[b]
        self.left.show_message("Loading…")
        self.right.show_message("")
        self._runner.start(
            lambda: _load_pair(a_path, b_path, a_label, b_label),
            self._on_loaded,
            lambda reason: self.left.show_message(f"Cannot compare these renders: {reason}"),
        )

    def _on_loaded(self, loaded: LoadedPair) -> None:
        self._loaded = loaded
        self._qimages = {
            "a": qimage_from_array(loaded.pair.a),
            "b": qimage_from_array(loaded.pair.b),
        }
        self.state.fit()
        self._refresh()
        self.pair_shown.emit()

    # -- modes -----------------------------------------------------------------------------------
    def set_mode(self, mode: CompareMode) -> None:
        self.mode = mode
        button = self.mode_buttons.button(self._mode_ids[mode])
        if button is not None and not button.isChecked():
            button.setChecked(True)
        self._refresh()

    def toggle_ab(self) -> None:
        """Swap A and B: flip the flip book, swap the wipe's sides and the onion's layers."""
        self.swapped = not self.swapped
        self._refresh()
        self.swapped_changed.emit(self.swapped)

    def toggle_orientation(self) -> None:
        self.orientation = "horizontal" if self.orientation == "vertical" else "vertical"
        self._refresh()

    def set_split(self, position: float) -> None:
        self.split = float(np.clip(position, 0.0, 1.0))
        self._refresh()

    def actual_size(self) -> None:
        """One frame pixel per device pixel of the screen."""
        ratio = self.left.devicePixelRatioF()
        self.state.set(1.0 / ratio, self.left.centre())

    def _on_split_moved(self, position: float) -> None:
        self.split = position

    def ordered(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """((key, label) of the first image, (key, label) of the second), after any swap."""
        loaded = self._loaded
        a_label = loaded.a_label if loaded else "A"
        b_label = loaded.b_label if loaded else "B"
        first, second = ("a", f"A · {a_label}"), ("b", f"B · {b_label}")
        return (second, first) if self.swapped else (first, second)

    def _refresh(self) -> None:
        mode = self.mode
        self.options.setCurrentIndex(
            {"side_by_side": 0, "flip": 0, "wipe": 1, "difference": 2, "onion": 3}[mode]
        )
        self.orientation_button.setText(
            "Split: vertical" if self.orientation == "vertical" else "Split: horizontal"
        )
        self.gain.setVisible(self.style_choice.currentData() == "amplified")
        self.threshold_label.setText(f"{self.threshold.value()}")
        self.opacity_label.setText(f"{self.opacity.value()} %")
        self.right.setVisible(mode == "side_by_side")
        loaded = self._loaded
        if loaded is None:
            self.info.setText("")
            return
        (first_key, first_tag), (second_key, second_tag) = self.ordered()
        first, second = self._qimages[first_key], self._qimages[second_key]
        if mode == "side_by_side":
            self.left.show_single(first, first_tag)
            self.right.show_single(second, second_tag)
        elif mode == "wipe":
            self.left.show_wipe(
                first, second, self.split, self.orientation, (first_tag, second_tag)
            )
        elif mode == "onion":
            self.left.show_overlay(
                first,
                second,
                self.opacity.value() / 100.0,
                (first_tag, f"{second_tag} · {self.opacity.value()} %"),
            )
        elif mode == "flip":
            self.left.show_single(first, first_tag)
        else:
            self.left.show_single(self._difference_qimage(), self._difference_tag())
        self.info.setText(self._info_text())

    def _difference_qimage(self) -> QImage:
        key = self._difference_key()
        if key not in self._qimages:
            self._qimages = {k: v for k, v in self._qimages.items() if k in ("a", "b")}
            self._qimages[key] = qimage_from_array(self.composite())
        return self._qimages[key]

    def _difference_key(self) -> str:
        style = self.style_choice.currentData()
        return f"diff:{style}:{self.gain.value()}:{self.threshold.value()}:{self.swapped}"

    def _difference_tag(self) -> str:
        style = self.style_choice.currentData()
        if style == "amplified":
            return f"|A − B| × {self.gain.value()}"
        if style == "absolute":
            return "|A − B|"
        return f"Changed over {self.threshold.value()}"

    def composite(self) -> np.ndarray:
        """The frame as the current mode shows it, at full size: for the contact sheet."""
        loaded = self._loaded
        if loaded is None:
            raise RuntimeError("no pair of renders is loaded")
        pair = loaded.pair
        if self.swapped:
            pair = FittedPair(
                pair.b,
                pair.a,
                pair.b_box,
                pair.a_box,
                pair.b_scale,
                pair.a_scale,
                pair.b_size,
                pair.a_size,
            )
        if self.mode == "wipe":
            return wipe(pair, self.split, self.orientation)
        if self.mode == "onion":
            return onion_skin(pair, self.opacity.value() / 100.0)
        if self.mode == "difference":
            style: DifferenceStyle = self.style_choice.currentData()
            difference = loaded.difference
            if style == "threshold":
                from reviewer.assets.image_compare import highlighted

                return highlighted(pair.a, difference.changed(self.threshold.value()))
            return difference.image(style, gain=self.gain.value())
        return pair.a

    def _info_text(self) -> str:
        loaded = self._loaded
        assert loaded is not None
        stats = loaded.difference.stats(self.threshold.value())
        note = loaded.pair.note("A", "B")
        parts = [stats.describe()]
        if note:
            parts.append(note)
        if self.mode == "flip":
            parts.append("Space flips between A and B.")
        return "  ".join(parts)

    def close_view(self) -> None:
        self._runner.cancel()
        self._loaded = None
        self._qimages = {}


def _row(parent: QWidget, widgets: list[QWidget]) -> QWidget:
    holder = QWidget(parent)
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(6)
    for widget in widgets:
        layout.addWidget(widget)
    return holder


def _muted(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("color: #8d8f93;")
    return label


__all__ = [
    "MODE_LABELS",
    "CompareCanvas",
    "CompareMode",
    "ImageCompareView",
    "ViewState",
    "qimage_from_array",
]

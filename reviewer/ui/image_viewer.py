"""Viewing a render: fit or 1:1, wheel zoom about the cursor, drag to pan."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
    QStackedLayout,
    QWidget,
)

MIN_ZOOM, MAX_ZOOM = 0.02, 32.0


def pil_to_qimage(img: Image.Image) -> QImage:
    """A QImage that owns a copy of *img*'s pixels (safe to build in a worker thread)."""
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    fmt = QImage.Format.Format_RGBA8888 if img.mode == "RGBA" else QImage.Format.Format_RGB888
    data = img.tobytes()
    bytes_per_line = img.width * (4 if img.mode == "RGBA" else 3)
    return QImage(data, img.width, img.height, bytes_per_line, fmt).copy()


class _ZoomView(QGraphicsView):
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setBackgroundBrush(Qt.GlobalColor.transparent)
        self.setStyleSheet("background: #121315;")
        self.fit_mode = True

    def zoom(self) -> float:
        return self.transform().m11()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if not steps:
            return
        factor = 1.25**steps
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        factor = target / self.zoom()
        self.fit_mode = False
        self.scale(factor, factor)
        self.zoom_changed.emit(self.zoom())

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()

    def fit(self) -> None:
        self.fit_mode = True
        rect = self.sceneRect()
        if not rect.isEmpty():
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
            self.zoom_changed.emit(self.zoom())

    def actual_size(self) -> None:
        self.fit_mode = False
        # 1:1 means one image pixel per physical screen pixel, also on HiDPI screens.
        ratio = 1.0 / self.devicePixelRatioF()
        self.resetTransform()
        self.scale(ratio, ratio)
        self.zoom_changed.emit(self.zoom())


class ImageViewer(QWidget):
    """Shows one image; an inline message takes its place when it cannot be shown."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._item)
        self.view = _ZoomView(self)
        self.view.setScene(self._scene)
        self.view.zoom_changed.connect(self.zoom_changed)
        self._message = QLabel(self)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setProperty("class", "message")
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.view)
        self._stack.addWidget(self._message)
        self.image_size: tuple[int, int] | None = None
        self.show_message("No render selected")

    def show_image(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image)
        self._item.setPixmap(pixmap)
        self._scene.setSceneRect(QRectF(pixmap.rect()))
        self.image_size = (image.width(), image.height())
        self._stack.setCurrentWidget(self.view)
        self.view.fit()

    def show_message(self, text: str) -> None:
        self._item.setPixmap(QPixmap())
        self.image_size = None
        self._message.setText(text)
        self._stack.setCurrentWidget(self._message)

    def message(self) -> str | None:
        return self._message.text() if self._stack.currentWidget() is self._message else None

    def fit(self) -> None:
        self.view.fit()

    def actual_size(self) -> None:
        self.view.actual_size()

    def zoom(self) -> float:
        return self.view.zoom()

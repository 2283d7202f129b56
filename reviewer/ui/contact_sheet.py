"""A contact sheet of a comparison, to share with a team: PNG, and PDF through Qt's writer.

One painting routine lays out both: a heading (what was compared, when, by whom, and that it
is a read-only comparison and not a decision), a row of tiles (each picture with its label,
request id, revision and content hash) and the notes the comparison produced (alignment,
largest deviation, changed area). Sizes are fractions of the page width, so the PNG and the
PDF look alike at any resolution. The PNG is dark like the app; the PDF is light, for paper.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
)

PNG_WIDTH = 2400
PDF_RESOLUTION = 200  # dots per inch: sharp enough for print, small enough to mail


@dataclass(frozen=True)
class SheetTile:
    image: QImage
    title: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactSheet:
    title: str
    tiles: tuple[SheetTile, ...]
    notes: tuple[str, ...] = ()
    made_by: str = ""
    made_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().astimezone())

    @property
    def subtitle(self) -> str:
        when = self.made_at.strftime("%d %b %Y, %H:%M %Z").strip().rstrip(",")
        who = f" by {self.made_by}" if self.made_by else ""
        return f"Exported {when}{who} · a read-only comparison, not a decision"


@dataclass(frozen=True)
class _Palette:
    paper: QColor
    text: QColor
    muted: QColor
    rule: QColor
    well: QColor


DARK = _Palette(
    QColor("#1c1d1f"), QColor("#e6e7e9"), QColor("#8d8f93"), QColor("#2c2e31"), QColor("#141517")
)
LIGHT = _Palette(
    QColor("#ffffff"), QColor("#1c1d1f"), QColor("#6a6c70"), QColor("#d8d9db"), QColor("#f1f1f2")
)


def paint_sheet(
    painter: QPainter, sheet: ContactSheet, page: QRectF, palette: _Palette = DARK
) -> None:
    """Lay *sheet* out in *page* (device coordinates of the painter)."""
    unit = page.width() / 100.0  # one hundredth of the page width
    painter.fillRect(page, palette.paper)
    margin = 3.0 * unit
    area = page.marginsRemoved(QMarginsF(margin, margin, margin, margin))

    y = area.top()
    y = _text(
        painter,
        sheet.title,
        area.left(),
        y,
        area.width(),
        size=1.9 * unit,
        colour=palette.text,
        bold=True,
    )
    y = _text(
        painter,
        sheet.subtitle,
        area.left(),
        y + 0.4 * unit,
        area.width(),
        size=1.0 * unit,
        colour=palette.muted,
    )
    y += 1.2 * unit
    painter.fillRect(QRectF(area.left(), y, area.width(), max(unit * 0.08, 1.0)), palette.rule)
    y += 1.4 * unit

    notes_height = _notes_height(sheet.notes, unit)
    tiles = sheet.tiles
    columns = max(1, min(len(tiles), 4))
    rows = max(1, -(-len(tiles) // columns))
    gap = 1.6 * unit
    caption = 1.2 * unit * 1.5 + 0.95 * unit * 1.45 * max((len(t.lines) for t in tiles), default=0)
    cell_width = (area.width() - gap * (columns - 1)) / columns
    available = area.bottom() - y - notes_height - gap * rows
    cell_height = max(available / rows - caption, 4 * unit)
    for index, tile in enumerate(tiles):
        column, row = index % columns, index // columns
        x = area.left() + column * (cell_width + gap)
        top = y + row * (cell_height + caption + gap)
        well = QRectF(x, top, cell_width, cell_height)
        painter.fillRect(well, palette.well)
        _draw_fitted(painter, tile.image, well)
        line_y = _text(
            painter,
            tile.title,
            x,
            well.bottom() + 0.6 * unit,
            cell_width,
            size=1.2 * unit,
            colour=palette.text,
            bold=True,
        )
        for line in tile.lines:
            line_y = _text(
                painter, line, x, line_y, cell_width, size=0.95 * unit, colour=palette.muted
            )
    notes_top = area.bottom() - notes_height
    for note in sheet.notes:
        notes_top = _text(
            painter,
            note,
            area.left(),
            notes_top,
            area.width(),
            size=1.0 * unit,
            colour=palette.text,
            wrap=True,
        )


def _notes_height(notes: tuple[str, ...], unit: float) -> float:
    # Each note takes up to two lines of 1.0-unit text at 1.45 line spacing.
    return sum(2 * 1.45 * unit if len(n) > 150 else 1.45 * unit for n in notes)


def _text(
    painter: QPainter,
    text: str,
    x: float,
    y: float,
    width: float,
    *,
    size: float,
    colour: QColor,
    bold: bool = False,
    wrap: bool = False,
) -> float:
    """Draw one line (or, with *wrap*, a paragraph) of *text* with its top at *y*; return the
    *y* under it."""
    font = QFont(painter.font())
    font.setPixelSize(max(1, round(size)))
    font.setBold(bold)
    painter.setFont(font)
    painter.setPen(colour)
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
    if wrap:
        bounds = painter.boundingRect(
            QRectF(x, y, width, 10 * size), flags | Qt.TextFlag.TextWordWrap, text
        )
        painter.drawText(
            QRectF(x, y, width, bounds.height()), flags | Qt.TextFlag.TextWordWrap, text
        )
        return y + bounds.height() + 0.3 * size
    elided = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(width))
    painter.drawText(QRectF(x, y, width, size * 1.45), flags, elided)
    return y + size * 1.45


def _draw_fitted(painter: QPainter, image: QImage, well: QRectF) -> None:
    if image.isNull():
        return
    scale = min(well.width() / image.width(), well.height() / image.height())
    size = QSizeF(image.width() * scale, image.height() * scale)
    target = QRectF(
        well.center().x() - size.width() / 2,
        well.center().y() - size.height() / 2,
        size.width(),
        size.height(),
    )
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.drawImage(target, image)


def save_png(sheet: ContactSheet, path: Path, *, width: int = PNG_WIDTH) -> Path:
    """Write *sheet* as a PNG *width* pixels wide (A4 landscape proportions)."""
    height = round(width / 2**0.5)
    image = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    paint_sheet(painter, sheet, QRectF(0, 0, width, height), DARK)
    painter.end()
    path = Path(path)
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path


def save_pdf(sheet: ContactSheet, path: Path) -> Path:
    """Write *sheet* as a one-page A4 landscape PDF with Qt's own PDF writer."""
    path = Path(path)
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_RESOLUTION)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(0, 0, 0, 0),
        )
    )
    writer.setTitle(sheet.title)
    writer.setCreator("Twin Reviewer")
    painter = QPainter(writer)
    if not painter.isActive():
        raise OSError(f"could not write {path}")
    page = QRectF(writer.pageLayout().fullRectPixels(writer.resolution()))
    paint_sheet(painter, sheet, page, LIGHT)
    painter.end()
    return path


__all__ = ["ContactSheet", "SheetTile", "paint_sheet", "save_pdf", "save_png"]

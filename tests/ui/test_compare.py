"""Compare mode: linked 3D views, the shape heat map, image comparison, revisions, the contact
sheet, and that a comparison never decides. Screenshots of each mode are written under the
test's temporary folder and copied to /tmp/compare_shots/ for the issue's closing note."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from compare_revisions import REQUEST_ID, RETOUCH_BOX, import_second_revision
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QImage, QPixmap
from PySide6.QtWidgets import QAbstractButton, QWidget

from reviewer.assets.image_compare import split_index
from reviewer.domain.roles import Role
from reviewer.services.compare_sets import AssetRef, comparable_assets
from reviewer.ui.camera_link import read_camera
from reviewer.ui.compare_window import CompareWindow, open_compare
from reviewer.ui.image_compare_view import ImageCompareView

SHOTS = Path("/tmp/compare_shots")
DIRECTOR = "Mara Lind"
TALENT = "Inês Duarte"


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _settled_workers(qtbot):
    """After each test (and after its windows are closed), let every load and measurement
    still running on a worker thread finish, and carry out pending deletions: nothing of a
    comparison outlives its test, least of all a worker thread at interpreter exit."""
    yield
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool

    QThreadPool.globalInstance().waitForDone(60_000)
    qtbot.wait(10)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def shoot(tmp_path: Path) -> Callable[[QWidget, str], Path]:
    folder = tmp_path / "shots"
    folder.mkdir()

    def shoot(widget: QWidget, name: str) -> Path:
        path = folder / f"{name}.png"
        assert widget.grab().save(str(path))
        SHOTS.mkdir(exist_ok=True)
        shutil.copyfile(path, SHOTS / path.name)
        return path

    return shoot


@pytest.fixture(scope="module")
def revised_library_template(demo_library_template: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("revised") / "library"
    shutil.copytree(demo_library_template, root)
    import_second_revision(root, root.parent)
    return root


@pytest.fixture
def revised_library_dir(revised_library_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "revised-library"
    shutil.copytree(revised_library_template, target)
    return target


@pytest.fixture
def open_window(qtbot):
    """Build a compare window straight on a library, as *profile*, and close it after."""
    from reviewer.services.demo_story import DEMO_PASSPHRASE
    from reviewer.services.profiles import ProfileService
    from reviewer.storage.library import Library
    from reviewer.ui.application import create_application

    create_application([])
    libraries: list[Library] = []

    def make(
        library_dir: Path, pick: Callable[[list[AssetRef]], list[AssetRef]], profile: str = TALENT
    ) -> CompareWindow:
        library = Library.open(library_dir)
        libraries.append(library)
        session = ProfileService(library).authenticate(profile, DEMO_PASSPHRASE)
        refs = pick(comparable_assets(library, session.actor))
        window = CompareWindow(library, session, refs)
        qtbot.addWidget(window)
        window.resize(1400, 860)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    # Loads still running on worker threads report to the window; let them land before the
    # window goes (qtbot deletes it after this fixture).
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(60_000)
    qtbot.wait(10)
    for library in libraries:
        library.close()


def _wait_for_looks(qtbot, window: CompareWindow) -> None:
    qtbot.waitUntil(
        lambda: (
            window.grid.viewers
            and not window.grid.loading
            and all(v.avatar is not None for v in window.grid.viewers)
        ),
        timeout=30_000,
    )


def _wait_for_shape(qtbot, window: CompareWindow) -> None:
    qtbot.waitUntil(
        lambda: (
            window.shape.result is not None
            and not window.shape.busy
            and window.shape.viewer.avatar is not None
        ),
        timeout=30_000,
    )


def _cameras(window: CompareWindow) -> list:  # type: ignore[type-arg]
    return [
        read_camera(v) for v in (*window.grid.viewers, window.shape.viewer) if v.avatar is not None
    ]


def _all_equal(cameras: list) -> bool:  # type: ignore[type-arg]
    return all(c.close_to(cameras[0]) for c in cameras[1:])


def _drag(qtbot, widget: QWidget, start: QPoint, end: QPoint, steps: int = 8) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        qtbot.mouseMove(widget, point)
        qtbot.wait(15)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def _four_looks_of_three_requests(refs: list[AssetRef]) -> list[AssetRef]:
    wanted = [
        ("ss27-denim-0042", "twin/wide.glb"),
        ("ss27-denim-0042", "twin/denim.glb"),
        ("aure-nuit-0007", "twin/slip.glb"),
        ("ss26-capsule-0077", "twin/breton.glb"),
    ]
    by_key = {(r.request_id, r.asset.path): r for r in refs if r.role == "avatar"}
    return [by_key[key] for key in wanted]


# -- linked cameras -----------------------------------------------------------------------------


def test_linked_cameras_follow_a_programmatic_and_a_mouse_orbit(
    qtbot, open_window, demo_library_dir, shoot
) -> None:
    window = open_window(demo_library_dir, _four_looks_of_three_requests)
    _wait_for_looks(qtbot, window)
    _wait_for_shape(qtbot, window)
    assert len(window.grid.viewers) == 4
    titles = [pane.title.text() for pane in window.grid.panes]
    assert titles[2] == "Look 1: Champagne slip dress"
    assert "aure-nuit-0007 · revision 1" in window.grid.panes[2].subtitle.text()

    before = read_camera(window.grid.viewers[0])
    window.link.orbit(35.0, 10.0)  # programmatic
    cameras = _cameras(window)
    assert len(cameras) == 5 and _all_equal(cameras)
    assert not cameras[0].close_to(before)

    # Mouse-driven: drag in the third view; every other view (and the shape view) follows.
    source = window.grid.viewers[2].plotter
    moved_from = read_camera(window.grid.viewers[0])
    middle = QPoint(source.width() // 2, source.height() // 2)
    _drag(qtbot, source, middle, middle + QPoint(140, 30))
    qtbot.waitUntil(
        lambda: not read_camera(window.grid.viewers[0]).close_to(moved_from), timeout=5_000
    )
    qtbot.waitUntil(lambda: _all_equal(_cameras(window)), timeout=5_000)
    shoot(window, "compare-looks-linked")

    # Unlinked (L), a view moves alone.
    window.actions_by_name["linked"].trigger()
    assert not window.link.linked
    alone = read_camera(window.grid.viewers[1])
    target = window.grid.viewers[0].plotter
    _drag(qtbot, target, middle, middle + QPoint(-160, 0))
    qtbot.waitUntil(lambda: not read_camera(window.grid.viewers[0]).close_to(alone), timeout=5_000)
    qtbot.wait(100)
    assert read_camera(window.grid.viewers[1]).close_to(alone)
    # Linking again brings every view to the first view's camera.
    window.actions_by_name["linked"].trigger()
    assert _all_equal(_cameras(window))


def test_turntable_turns_every_view_in_step(qtbot, open_window, demo_library_dir) -> None:
    window = open_window(demo_library_dir, lambda refs: _four_looks_of_three_requests(refs)[:2])
    _wait_for_looks(qtbot, window)
    start = read_camera(window.grid.viewers[1])
    window.actions_by_name["turntable"].trigger()
    assert window.grid.viewers[0].turntable_running
    qtbot.waitUntil(lambda: not read_camera(window.grid.viewers[1]).close_to(start), timeout=5_000)
    window.actions_by_name["turntable"].trigger()
    assert not any(v.turntable_running for v in window.grid.viewers)
    qtbot.waitUntil(lambda: _all_equal(_cameras(window)), timeout=5_000)
    # The same lighting everywhere.
    window.set_lighting("rim")
    assert {v.lighting for v in window.grid.viewers} == {"rim"}
    assert window.shape.viewer.lighting == "rim"


# -- the shape of two revisions: heat map and overlay -------------------------------------------


def test_heat_map_finds_the_reshaped_hips_of_a_new_revision(
    qtbot, open_window, revised_library_dir, shoot
) -> None:
    window = open_window(
        revised_library_dir,
        lambda refs: [r for r in refs if r.request_id == REQUEST_ID and r.revision == 2],
    )
    _wait_for_looks(qtbot, window)
    window.show_tab("revisions")
    view = window.revisions
    assert view.diff is not None
    statuses = {(c.status, c.path) for c in view.diff.changed_assets}
    assert statuses == {
        ("changed", "twin/denim.glb"),
        ("changed", "renders/wide-front.jpg"),
        ("removed", "renders/wide-three-quarter.jpg"),
    }
    assert {t.name for t in view.diff.changed_terms} == {"channels", "end", "fee"}
    shoot(window, "compare-revisions")

    # One double-click from the changed avatar to the heat map.
    row = next(i for i, c in enumerate(view.diff.assets) if c.path == "twin/denim.glb")
    item = view.assets_table.item(row, 1)
    qtbot.waitUntil(view.assets_table.viewport().isVisible, timeout=5_000)
    qtbot.wait(50)  # laid out
    rect = view.assets_table.visualItemRect(item)
    # Qt's item views act on a double-click only over the item the press went to.
    qtbot.mouseClick(view.assets_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.assets_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.current_tab == "shape"
    _wait_for_looks(qtbot, window)
    qtbot.waitUntil(lambda: window.shape.labels()[0].endswith("(r2)"), timeout=5_000)
    _wait_for_shape(qtbot, window)
    comparison = window.shape.result.comparison
    assert window.shape.labels() == ("Look 2: Denim on denim (r2)", "Look 2: Denim on denim (r1)")
    assert 4.0 < comparison.max_mm < 12.0  # hips 10 % wider: several millimetres
    assert 0.85 < comparison.max_point[1] < 1.15  # at hip height, not elsewhere
    assert comparison.share_over(2.0) < 0.1  # the rest of the figure is unchanged
    assert comparison.alignment.method == "none"
    assert "share a frame" in window.shape.info.text()
    assert "Largest deviation" in window.shape.info.text()
    assert window.shape.scale_bar.isVisible()
    shoot(window, "compare-shape-heatmap")

    window.actions_by_name["overlay"].trigger()
    qtbot.waitUntil(
        lambda: window.shape.result.view == "overlay" and not window.shape.busy, timeout=30_000
    )
    assert not window.shape.scale_bar.isVisible()
    shoot(window, "compare-shape-overlay")

    # Asking for ICP says so.
    window.shape.set_alignment("icp")
    qtbot.waitUntil(
        lambda: window.shape.result.comparison.alignment.method == "icp", timeout=30_000
    )
    assert "ICP" in window.shape.info.text()


def test_renders_of_two_revisions_show_the_retouch(
    qtbot, open_window, revised_library_dir, shoot
) -> None:
    window = open_window(
        revised_library_dir,
        lambda refs: [r for r in refs if r.request_id == REQUEST_ID and r.revision == 2],
    )
    window.show_tab("revisions")
    view = window.revisions
    row = next(i for i, c in enumerate(view.diff.assets) if c.path == "renders/wide-front.jpg")
    view.assets_table.selectRow(row)
    view.compare_button.click()
    assert window.current_tab == "renders"
    renders = window.renders
    qtbot.waitUntil(lambda: renders.loaded is not None and not renders.busy, timeout=20_000)
    stats = renders.loaded.difference.stats(renders.threshold.value())
    changed = renders.loaded.difference.changed(renders.threshold.value())
    x, y, width, height = RETOUCH_BOX
    inside = int(changed[y - 2 : y + height + 2, x - 2 : x + width + 2].sum())
    assert inside >= 0.95 * stats.changed_pixels  # the change found is the retouch
    assert inside > 0.5 * width * height
    assert 0.0 < stats.percent < 1.0
    for mode in ("side_by_side", "wipe", "difference", "onion", "flip"):
        renders.set_mode(mode)  # type: ignore[arg-type]
        qtbot.wait(60)  # laid out: the second canvas shows only side by side
        shoot(window, f"compare-renders-{mode.replace('_', '-')}")
    renders.set_mode("difference")
    renders.style_choice.setCurrentIndex(renders.style_choice.findData("amplified"))
    qtbot.wait(60)
    shoot(window, "compare-renders-difference-amplified")


# -- image comparison: zoom and pan together, A/B, the wipe at 1× and 2× ------------------------


def _halves(size: tuple[int, int] = (400, 300)) -> tuple[np.ndarray, np.ndarray]:
    width, height = size
    a = np.zeros((height, width, 3), dtype=np.uint8)
    a[:] = (30, 60, 90)
    b = np.full((height, width, 3), 235, dtype=np.uint8)
    return a, b


def test_side_by_side_zooms_and_pans_together_and_space_swaps(qtbot) -> None:
    view = ImageCompareView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    a, b = _halves()
    b[100:160, 40:120] = (250, 30, 30)
    view.set_pair_images(a, b, "left", "right")
    assert view.loaded.difference.stats(16).changed_pixels == 400 * 300
    left, right = view.left, view.right
    assert left.zoom() == pytest.approx(right.zoom())
    qtbot.mouseMove(left, QPoint(200, 200))
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    wheel = QWheelEvent(
        QPointF(200, 200),
        QPointF(left.mapToGlobal(QPoint(200, 200))),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    left.wheelEvent(wheel)
    assert left.zoom() == pytest.approx(right.zoom()) and left.zoom() > left.fit_zoom()
    _drag(qtbot, left, QPoint(300, 300), QPoint(220, 260))
    assert left.centre() == right.centre()
    assert left.tags[0].startswith("A") and right.tags[0].startswith("B")
    # Xvfb has no window manager to activate windows; shortcuts need an active window.
    view.windowHandle().requestActivate()
    qtbot.waitUntil(view.isActiveWindow, timeout=5_000)
    left.setFocus()
    qtbot.keyClick(left, Qt.Key.Key_Space)
    assert view.swapped and left.tags[0].startswith("B")
    qtbot.keyClick(left, Qt.Key.Key_5)  # the fifth mode: the flip book
    assert view.mode == "flip"
    qtbot.keyClick(left, Qt.Key.Key_Space)
    assert not view.swapped and left.tags[0].startswith("A")


def _first_column_of(
    image: QImage, row: int, colour: tuple[int, int, int], start: int, stop: int
) -> int | None:
    for x in range(start, stop):
        pixel = image.pixelColor(x, row)
        if (
            abs(pixel.red() - colour[0])
            + abs(pixel.green() - colour[1])
            + abs(pixel.blue() - colour[2])
            < 12
        ):
            return x
    return None


def test_wipe_split_maps_to_the_right_pixels_at_1x_and_2x(qtbot) -> None:
    view = ImageCompareView()
    qtbot.addWidget(view)
    view.resize(900, 560)
    view.show()
    qtbot.waitExposed(view)
    a, b = _halves()
    view.set_pair_images(a, b)
    view.set_mode("wipe")
    canvas = view.left
    qtbot.waitUntil(lambda: canvas.width() > view.width() * 0.9, timeout=2_000)  # laid out
    frame = canvas.frame_rect()
    row = round(frame.center().y())
    # Drag the split from the middle to 30 % of the image.
    start = QPoint(round(canvas.split_in_widget()), row)
    end = QPoint(round(frame.left() + 0.3 * frame.width()), row)
    _drag(qtbot, canvas, start, end)
    assert view.split == pytest.approx(0.3, abs=1.0 / (canvas.zoom() * 400) + 1e-3)
    column = split_index(view.split, 400)  # the first image column of B
    line = canvas.split_in_widget()
    assert line == pytest.approx(frame.left() + column * canvas.zoom(), abs=1e-6)

    for ratio in (1, 2):
        pixmap = QPixmap(canvas.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.black)
        canvas.render(pixmap)
        image = pixmap.toImage()
        assert image.width() == canvas.width() * ratio
        device_row = row * ratio + 40 * ratio  # below the line's handle
        left_edge = round(frame.left() * ratio) + 2
        first_b = _first_column_of(image, device_row, (235, 235, 235), left_edge, image.width())
        assert first_b is not None
        # B starts where the split line is drawn (the 1-logical-pixel line may cover it).
        assert abs(first_b - line * ratio) <= ratio + 1, (ratio, first_b, line)
        # Just left of the line, A; the frame column there is the last of A's.
        pixel = image.pixelColor(round(line * ratio) - ratio - 1, device_row)
        # Within a step of a 16-bit screen's colour depth (pytest-xvfb's default).
        assert abs(pixel.red() - 30) + abs(pixel.green() - 60) + abs(pixel.blue() - 90) < 12
        under = canvas.to_frame(QPoint(round(line) - 1, row).toPointF())
        assert int(under.x()) == column - 1


def test_wipe_at_a_real_2x_device_pixel_ratio(tmp_path: Path) -> None:
    """The same wipe in a process whose screen really is at 2× (QT_SCALE_FACTOR=2): mouse
    positions are logical, the grab is in device pixels, and 1:1 shows one image pixel per
    device pixel."""
    script = textwrap.dedent(
        """
        import json, numpy as np
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtGui import QImage
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from reviewer.assets.image_compare import split_index
        from reviewer.ui.image_compare_view import ImageCompareView
        view = ImageCompareView(); view.resize(900, 560); view.show()
        QTest.qWaitForWindowExposed(view)
        a = np.zeros((300, 400, 3), np.uint8); a[:] = (30, 60, 90)
        b = np.full((300, 400, 3), 235, np.uint8)
        view.set_pair_images(a, b); view.set_mode("wipe")
        for _ in range(20):
            QTest.qWait(10)  # laid out: B's canvas hidden, A's canvas widened
        canvas = view.left
        frame = canvas.frame_rect(); row = round(frame.center().y())
        start = QPoint(round(canvas.split_in_widget()), row)
        end = QPoint(round(frame.left() + 0.3 * frame.width()), row)
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
        QTest.mouseMove(canvas, end)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
        # Painted at the widget's own ratio into a 32-bit image (a grab on a 16-bit X screen
        # at a scale factor comes back empty).
        ratio = canvas.devicePixelRatioF()
        image = QImage(canvas.size() * ratio, QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(ratio)
        canvas.render(image)
        device_row = int((row + 40) * ratio)
        first_b = next(x for x in range(int(frame.left() * ratio) + 2, image.width())
                       if image.pixelColor(x, device_row).red() > 200)
        line = canvas.split_in_widget()
        view.actual_size()
        print(json.dumps({"ratio": ratio, "split": view.split,
                          "column": split_index(view.split, 400),
                          "line": line, "first_b": first_b,
                          "grab_width": image.width(), "canvas_width": canvas.width(),
                          "zoom_at_1_to_1": canvas.zoom()}))
        """
    )
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_API="pyside6")
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ratio"] == 2.0
    assert result["grab_width"] == 2 * result["canvas_width"]
    assert result["split"] == pytest.approx(0.3, abs=0.01)
    assert abs(result["first_b"] - 2 * result["line"]) <= 3
    assert result["zoom_at_1_to_1"] == pytest.approx(0.5)  # one image pixel per device pixel


# -- the contact sheet ---------------------------------------------------------------------------


def test_contact_sheet_png_and_pdf(qtbot, open_window, demo_library_dir, tmp_path) -> None:
    window = open_window(demo_library_dir, lambda refs: _four_looks_of_three_requests(refs)[:3])
    _wait_for_looks(qtbot, window)
    sheet = window.contact_sheet()
    assert len(sheet.tiles) == 3
    assert sheet.tiles[0].title == "Look 1: White tee, wide-leg denim"
    assert any("ss27-denim-0042 · revision 1" in line for line in sheet.tiles[0].lines)
    assert "not a decision" in sheet.subtitle and TALENT in sheet.subtitle
    png = window.export_contact_sheet(tmp_path / "sheet.png")
    pdf = window.export_contact_sheet(tmp_path / "sheet.pdf")
    image = QImage(str(png))
    assert (image.width(), image.height()) == (2400, 1697)
    corner = image.pixelColor(5, 5)
    assert corner.red() < 40  # the dark sheet
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000
    SHOTS.mkdir(exist_ok=True)
    shutil.copyfile(png, SHOTS / "compare-contact-sheet.png")
    shutil.copyfile(pdf, SHOTS / "compare-contact-sheet.pdf")


# -- from the main window; directors; read-only ---------------------------------------------


def test_compare_from_the_main_window_keeps_the_camera(
    qtbot, make_main_window, demo_library_dir
) -> None:
    main = make_main_window(demo_library_dir)
    main.queue.select("ss27-denim-0042")
    qtbot.waitUntil(lambda: main.request_view.avatar_viewer.avatar is not None, timeout=30_000)
    viewer = main.request_view.avatar_viewer
    viewer.set_view("three_quarter")
    before = read_camera(viewer)
    window = open_compare(main)  # the request on screen has two looks: no question asked
    assert window is not None
    _wait_for_looks(qtbot, window)
    assert all(read_camera(v).close_to(before) for v in window.grid.viewers)
    window.link.orbit(-50.0)
    moved = read_camera(window.grid.viewers[0])
    window.close()
    qtbot.waitUntil(lambda: read_camera(viewer).close_to(moved), timeout=5_000)


def test_a_director_compares_across_the_organisation_and_cannot_decide(
    qtbot, make_main_window, demo_library_dir
) -> None:
    main = make_main_window(demo_library_dir, profile=DIRECTOR)
    assert main.session.role is Role.DIRECTOR
    refs = comparable_assets(main.library, main.session.actor, role="avatar")
    across = [r for r in refs if r.request_id == "ss27-denim-0042"][:1] + [
        r for r in refs if r.request_id == "ss27-denim-0043"
    ][:1]
    assert {r.talent_id for r in across} == {"ines-duarte", "amara-okafor"}
    window = open_compare(main, across)
    assert window is not None
    _wait_for_looks(qtbot, window)
    # No control in compare mode decides anything.
    words = ("approve", "reject", "changes", "revoke", "decide", "release")
    texts = [a.text().casefold() for a in window.findChildren(QAction)]
    texts += [w.text().casefold() for w in window.findChildren(QAbstractButton)]
    assert len(texts) > 20
    assert not any(word in text for text in texts for word in words)
    assert window.findChild(QWidget, "compareReadOnly").text().startswith("Read-only")
    # The main window's decision keys do not reach the compare window.
    fired: list[bool] = []
    main.actions_by_name["approve"].triggered.connect(lambda *_: fired.append(True))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(window, Qt.Key.Key_A)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert fired == []

    # Another organisation's request cannot be put in a comparison: refused and audited.
    from reviewer.domain.roles import Actor
    from reviewer.storage import audit

    everything = comparable_assets(
        main.library, Actor("x", Role.AGENT, represents=("ines-duarte",))
    )
    foreign = [r for r in everything if r.organisation != "Brand Studio" and r.role == "avatar"]
    assert foreign
    assert open_compare(main, foreign[:2]) is None
    assert "may not" in main.statusBar().currentMessage()
    with main.library.reader.connect() as conn:
        refused = audit.entries(conn, subject=f"request:{foreign[0].request_id}")
    assert any(entry.action == "permission.refused" for entry in refused)


def test_the_picker_offers_every_revision_and_counts_what_is_ticked(
    qtbot, revised_library_dir, shoot
) -> None:
    from reviewer.services.demo_story import DEMO_PASSPHRASE
    from reviewer.services.profiles import ProfileService
    from reviewer.storage.library import Library
    from reviewer.ui.application import create_application
    from reviewer.ui.compare_picker import ComparePicker

    create_application([])  # the app's theme, for the screenshot
    library = Library.open(revised_library_dir)
    try:
        session = ProfileService(library).authenticate(TALENT, DEMO_PASSPHRASE)
        refs = comparable_assets(library, session.actor)
        looks = [r for r in refs if r.request_id == REQUEST_ID and r.role == "avatar"]
        assert {r.revision for r in looks} == {1, 2}
        picker = ComparePicker(library, session.actor, checked=looks[:1])
        qtbot.addWidget(picker)
        picker.show()
        qtbot.waitExposed(picker)
        assert picker.problem() is not None  # one look is not a comparison
        picker.check(looks[:3])
        assert [r.key for r in picker.checked()] == [r.key for r in looks[:3]]
        assert picker.problem() is None
        shoot(picker, "compare-picker")
        picker.check(looks + [r for r in refs if r.role == "avatar"][:3])
        assert "at most 4" in (picker.problem() or "")
        picker.filter.setText("aure")
        visible = [picker.tree.topLevelItem(i) for i in range(picker.tree.topLevelItemCount())]
        assert [item.text(0).split(" ·")[0] for item in visible if not item.isHidden()] == [
            "aure-nuit-0007"
        ]
        picker.close()
    finally:
        library.close()

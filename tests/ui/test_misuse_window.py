"""The agent's misuse window, driven through its widgets: drop an image found in the wild on
the main window, see the verdict beside the matched render, record where it was seen, flag it
and find the flag; the roles' limits; unreadable and unknown images."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageOps
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from reviewer.domain.misuse import FlagStatus
from reviewer.services.flags import FlagService
from reviewer.storage.schema import assets, audit_log, revisions
from reviewer.ui.misuse_window import MisuseWindow

AGENT = "Noor Haddad"
DIRECTOR = "Mara Lind"
TALENT = "Inês Duarte"


@pytest.fixture(autouse=True)
def _settled_workers(qtbot):  # type: ignore[no-untyped-def]
    """Let every check and comparison still running on a worker finish before the next test."""
    yield
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(60_000)
    qtbot.wait(10)


def _render(library: object, request_id: str) -> tuple[Image.Image, str]:
    """The first render of *request_id*, and its SHA-256, read from the store directly."""
    with library.engine.connect() as conn:  # type: ignore[attr-defined]
        sha = conn.execute(
            sa.select(assets.c.sha256)
            .where(assets.c.request_id == request_id, assets.c.role == "render")
            .order_by(assets.c.position)
        ).first()[0]
    return Image.open(library.objects.path_for(sha)).convert("RGB"), sha  # type: ignore[attr-defined]


def _organisation(library: object, request_id: str) -> str:
    with library.engine.connect() as conn:  # type: ignore[attr-defined]
        return conn.execute(
            sa.select(revisions.c.requester_organisation).where(
                revisions.c.request_id == request_id)
        ).scalar_one()


def _screenshot_of(image: Image.Image) -> Image.Image:
    """As someone would capture it: in a window with a title bar, then saved as JPEG."""
    w, h = image.size
    out = Image.new("RGB", (w + 80, h + 120), (38, 38, 42))
    ImageDraw.Draw(out).rectangle((0, 0, out.width, 40), fill=(225, 225, 228))
    out.paste(image, (40, 80))
    data = io.BytesIO()
    out.save(data, "JPEG", quality=60)
    return Image.open(io.BytesIO(data.getvalue()))


def _drop(widget: object, *paths: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    point = QPointF(widget.width() / 2, widget.height() / 2)  # type: ignore[attr-defined]
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)


def _misuse_window(main_window: object) -> MisuseWindow:
    found = [w for w in main_window.findChildren(MisuseWindow) if w.isVisible()]  # type: ignore[attr-defined]
    assert len(found) == 1
    return found[0]


def _wait_checked(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: panel.current is not None and not panel.busy.isVisible(),
                    timeout=60_000)


def _check_saved(qtbot, main, image: Image.Image, path: Path, **save):  # type: ignore[no-untyped-def]
    """Save *image* to *path*, open the check on it from *main*, wait for the verdict."""
    image.save(path, **save)
    panel = main.open_misuse(path).check_panel
    _wait_checked(qtbot, panel)
    return panel


def test_agent_drops_an_image_sees_the_verdict_flags_it_and_finds_the_flag(
    make_main_window, demo_library_dir: Path, tmp_path: Path, qtbot
) -> None:
    main = make_main_window(demo_library_dir, profile=AGENT)
    library = main.library
    request_id = "resort27-lookbook-0120"  # approved once, then revoked by the talent
    render, render_sha = _render(library, request_id)
    seen = tmp_path / "seen on a shop page.jpg"
    _screenshot_of(render).save(seen, quality=92)

    _drop(main, seen)
    window = _misuse_window(main)
    panel = window.check_panel
    _wait_checked(qtbot, panel)

    # The verdict, and the render it matched, laid side by side with what was found.
    assert window.tabs.currentWidget() is panel
    best = panel.current.result.best
    assert best is not None and best.request_id == request_id
    assert best.asset_sha256 == render_sha
    assert "REVOKED" in panel.banner.text() and request_id in panel.banner.text()
    assert panel.banner.property("tone") == "bad"
    assert panel.matches.count() >= 1 and request_id in panel.matches.item(0).text()
    qtbot.waitUntil(lambda: panel.compare.loaded is not None, timeout=30_000)
    pair = panel.compare.loaded.pair
    # The found image was laid back onto the render: where both cover, they agree.
    difference = np.abs(pair.a.astype(np.int16) - pair.b.astype(np.int16)).max(axis=2)
    assert np.median(difference[pair.valid]) < 12
    assert "cut off" in (pair.note() or "")

    # Where it was seen, typed in; the check runs again with it.
    qtbot.keyClicks(panel.seen_at, "https://shop.example/new-in")
    panel.channel.setCurrentIndex(panel.channel.findData("ecommerce"))
    panel.territory.setEditText("US")
    qtbot.waitUntil(lambda: panel.current.result.sighting.territory == "US", timeout=30_000)
    assert panel.current.result.sighting.seen_at == "https://shop.example/new-in"

    # Flag it from the keyboard.
    qtbot.keyClicks(panel.notes, "Still on sale after the revocation")
    with qtbot.waitSignal(panel.flagged, timeout=60_000) as flagged:
        qtbot.keyClick(panel.notes, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    record = flagged.args[0]

    # Find it: in the Flags tab, selected, and in the store with its evidence and audit entry.
    assert window.flags_panel.current_flag_id() == record.id
    assert window.tabs.tabText(1) == "Flags (1 open)"
    window.tabs.setCurrentWidget(window.flags_panel)
    table = window.flags_panel.table
    texts = [table.item(0, c).text() for c in range(table.columnCount())]
    assert texts[0] == str(record.id) and texts[1] == "open" and request_id in texts[5]
    stored = FlagService(library).list()
    assert [f.id for f in stored] == [record.id]
    flag = stored[0]
    assert flag.evidence_sha256 == hashlib.sha256(seen.read_bytes()).hexdigest()
    assert library.objects.path_for(flag.evidence_sha256).read_bytes() == seen.read_bytes()
    assert (flag.request_id, flag.asset_sha256, flag.verdict) == (request_id, render_sha,
                                                                  "revoked")
    assert flag.sighting.territory == "US" and flag.sighting.channel == "ecommerce"
    assert flag.notes == "Still on sale after the revocation"
    assert flag.created_by == AGENT
    with library.engine.connect() as conn:
        actions = [r.action for r in conn.execute(
            sa.select(audit_log.c.action).where(audit_log.c.subject == f"flag:{flag.id}"))]
    assert actions == ["flag.created"]

    # Send it to the brand, and export the evidence pack.
    panel_flags = window.flags_panel
    assert not panel_flags.status_buttons[FlagStatus.ANSWERED].isVisible()
    qtbot.mouseClick(panel_flags.status_buttons[FlagStatus.SENT_TO_BRAND],
                     Qt.MouseButton.LeftButton)
    assert FlagService(library).get(flag.id).status is FlagStatus.SENT_TO_BRAND
    assert panel_flags.table.item(0, 1).text() == "sent to brand"
    out = tmp_path / "pack.zip"
    panel_flags.export(flag.id, out)
    qtbot.waitUntil(lambda: out.is_file() and not panel_flags.export_busy.isVisible(),
                    timeout=60_000)
    with zipfile.ZipFile(out) as pack:
        assert seen.read_bytes() in [pack.read(n) for n in pack.namelist()]


def test_an_approved_use_is_green_within_scope_and_amber_outside_it(
    make_main_window, demo_library_dir: Path, tmp_path: Path, qtbot
) -> None:
    main = make_main_window(demo_library_dir, profile=AGENT)
    render, _sha = _render(main.library, "ss27-denim-0043")
    # A mirrored repost.
    panel = _check_saved(qtbot, main, ImageOps.mirror(render), tmp_path / "post.jpg",
                         quality=70)
    result = panel.current.result
    assert result.best.request_id == "ss27-denim-0043" and result.best.alignment.mirrored
    scope = result.best.verdict.scope_check
    # Which territory the approval covers is read from the approval itself.
    from reviewer.services.consent_records import decision_in_force
    with main.library.engine.connect() as conn:
        approved = decision_in_force(conn, "ss27-denim-0043", 1).scope
    inside = approved.territories[0]
    panel.territory.setEditText(inside)
    qtbot.waitUntil(lambda: panel.current.result.sighting.territory == inside, timeout=30_000)
    assert panel.current.result.verdict.kind.value == "approved_in_scope", scope
    assert panel.banner.property("tone") == "good"
    panel.territory.setEditText("JP")
    qtbot.waitUntil(lambda: panel.current.result.sighting.territory == "JP", timeout=30_000)
    assert panel.current.result.verdict.kind.value == "out_of_scope"
    assert panel.banner.property("tone") == "warn"
    assert "outside scope" in panel.scope_line.text()
    # The comparison kept showing the same render through the rechecks, flipped back.
    qtbot.waitUntil(lambda: panel.compare.loaded is not None, timeout=30_000)
    assert "flipped back" in (panel.compare.loaded.pair.note() or "")


def test_a_bad_sighting_is_said_inline_and_nothing_is_flagged(
    make_main_window, demo_library_dir: Path, tmp_path: Path, qtbot
) -> None:
    main = make_main_window(demo_library_dir, profile=AGENT)
    render, _sha = _render(main.library, "fjord-aw27-0008")
    panel = _check_saved(qtbot, main, render, tmp_path / "found.png")
    panel.territory.setEditText("Narnia")
    qtbot.mouseClick(panel.flag_button, Qt.MouseButton.LeftButton)
    assert panel.error.isVisible() and "Narnia".upper() in panel.error.text()
    assert FlagService(main.library).list() == []


def test_an_unreadable_image_names_the_file_and_the_window_keeps_working(
    make_main_window, demo_library_dir: Path, tmp_path: Path, qtbot
) -> None:
    main = make_main_window(demo_library_dir, profile=AGENT)
    render, _sha = _render(main.library, "fjord-aw27-0008")
    good = tmp_path / "good.jpg"
    render.save(good, quality=80)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(good.read_bytes()[:300])
    panel = main.open_misuse(broken).check_panel
    qtbot.waitUntil(panel.error.isVisible, timeout=30_000)
    assert "broken.jpg" in panel.error.text()
    assert panel.current is None and not panel.flag_button.isEnabled()
    _drop(panel, good)
    _wait_checked(qtbot, panel)
    assert not panel.error.isVisible()
    assert panel.current.result.best.request_id == "fjord-aw27-0008"


def test_an_image_of_no_known_render_is_possible_misuse_and_the_agent_says_whose(
    make_main_window, demo_library_dir: Path, tmp_path: Path, qtbot
) -> None:
    main = make_main_window(demo_library_dir, profile=AGENT)
    rng = np.random.default_rng(7)
    stranger = Image.fromarray(rng.integers(0, 255, (400, 300, 3), dtype=np.uint8))
    panel = _check_saved(qtbot, main, stranger, tmp_path / "stranger.png")
    assert panel.current.result.best is None
    assert "possible misuse" in panel.banner.text()
    assert panel.centre_stack.currentWidget() is panel.found_view
    assert panel.talent_choice.isVisible()  # the agent represents several talents
    panel.talent_choice.setCurrentIndex(panel.talent_choice.findData("lena-vogt"))
    with qtbot.waitSignal(panel.flagged, timeout=60_000) as flagged:
        qtbot.mouseClick(panel.flag_button, Qt.MouseButton.LeftButton)
    record = flagged.args[0]
    assert (record.talent_id, record.request_id, record.verdict) == ("lena-vogt", None,
                                                                      "no_match")


def test_a_pasted_image_is_checked(
    make_main_window, demo_library_dir: Path, qtbot
) -> None:
    main = make_main_window(demo_library_dir, profile=AGENT)
    render, _sha = _render(main.library, "vista-sun-0020")
    array = np.ascontiguousarray(np.asarray(render.resize((render.width // 4,
                                                           render.height // 4))))
    image = QImage(array.data, array.shape[1], array.shape[0], 3 * array.shape[1],
                   QImage.Format.Format_RGB888).copy()
    QGuiApplication.clipboard().setImage(image)
    window = main.open_misuse()
    panel = window.check_panel
    window.activateWindow()
    panel.paste()
    _wait_checked(qtbot, panel)
    assert panel.current.result.best.request_id == "vista-sun-0020"
    assert panel.current.result.image.name == "pasted image.png"


def test_a_director_cannot_flag_but_answers_flags_on_their_organisations_requests(
    make_main_window, demo_library_dir: Path, tmp_path: Path, qtbot
) -> None:
    from reviewer.services.demo_story import DEMO_PASSPHRASE
    from reviewer.services.profiles import ProfileService
    from reviewer.storage.library import Library

    request_id = "ss27-denim-0043"
    with Library.open(demo_library_dir) as library:
        organisation = _organisation(library, request_id)
        render, _sha = _render(library, request_id)
        found = tmp_path / "billboard.jpg"
        render.save(found, quality=75)
        agent = ProfileService(library).authenticate(AGENT, DEMO_PASSPHRASE)
        flag = FlagService(library).flag(agent, found, notes="seen in Tokyo")
    main = make_main_window(demo_library_dir, profile=DIRECTOR)
    assert main.session.actor.organisation == organisation
    window = main.open_misuse(found)
    panel = window.check_panel
    _wait_checked(qtbot, panel)
    assert panel.current.result.best.request_id == request_id
    assert not panel.flag_button.isEnabled()
    assert panel.flag_section.isHidden() and not panel.director_note.isHidden()

    window.show_flags()
    flags = window.flags_panel
    assert flags.current_flag_id() == flag.id
    visible = {s for s, b in flags.status_buttons.items() if not b.isHidden()}
    assert visible == {FlagStatus.ANSWERED}
    qtbot.keyClicks(flags.note, "Taken down on the 29th")
    qtbot.mouseClick(flags.status_buttons[FlagStatus.ANSWERED], Qt.MouseButton.LeftButton)
    stored = FlagService(main.library).get(flag.id)
    assert stored.status is FlagStatus.ANSWERED
    assert stored.history[-1].note == "Taken down on the 29th"
    assert stored.history[-1].actor == DIRECTOR


def test_a_talent_sees_only_their_own_flags(
    make_main_window, demo_library_dir: Path, tmp_path: Path, qtbot
) -> None:
    from reviewer.services.demo_story import DEMO_PASSPHRASE
    from reviewer.services.profiles import ProfileService
    from reviewer.storage.library import Library

    with Library.open(demo_library_dir) as library:
        agent = ProfileService(library).authenticate(AGENT, DEMO_PASSPHRASE)
        flagged = {}
        for request_id in ("fjord-aw27-0008", "aure-nuit-0007"):  # Lena's, Inês's
            render, _sha = _render(library, request_id)
            path = tmp_path / f"{request_id}.png"
            render.save(path)
            flagged[request_id] = FlagService(library).flag(agent, path)
    main = make_main_window(demo_library_dir, profile=TALENT)
    window = main.open_misuse(flags=True)
    assert [r.id for r in window.flags_panel.records] == [flagged["aure-nuit-0007"].id]
    assert window.flags_panel.table.rowCount() == 1


def test_the_misuse_window_closes_with_the_main_window(
    make_main_window, demo_library_dir: Path, qtbot
) -> None:
    main = make_main_window(demo_library_dir, profile=AGENT)
    main.actions_by_name["check_image"].trigger()
    window = _misuse_window(main)
    assert window.check_panel.empty.isVisible()
    main.close()
    assert not window.isVisible()



def test_dropping_a_package_and_an_image_imports_the_one_and_checks_the_other(
    make_main_window, demo_library_dir: Path, tmp_path: Path, qtbot
) -> None:
    from package_factory import base_manifest, make_package, zip_folder

    main = make_main_window(demo_library_dir, profile=AGENT)
    manifest = base_manifest(id="ss27-denim-0099")
    package = zip_folder(make_package(tmp_path / "pkg", manifest), tmp_path / "pkg.zip")
    render, _sha = _render(main.library, "fjord-aw27-0008")
    image = tmp_path / "found.webp"
    render.save(image, quality=80)
    _drop(main, package, image)
    panel = _misuse_window(main).check_panel
    _wait_checked(qtbot, panel)
    assert panel.current.result.best.request_id == "fjord-aw27-0008"
    qtbot.waitUntil(lambda: main.queue.model.row_of("ss27-denim-0099") is not None,
                    timeout=60_000)

"""``reviewer demo``: a library that shows the product at its best, built offline."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from reviewer.services.imports import ImportOutcome, ImportService
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import requests, talents

DEMO_ACTOR = "demo"


@dataclass
class DemoReport:
    library: Path
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def text(self) -> str:
        lines = [f"Demo library: {self.library}"]
        if self.imported:
            lines.append(f"  imported {len(self.imported)} requests")
        if self.unchanged:
            lines.append(f"  {len(self.unchanged)} requests were already there, unchanged")
        lines += [f"  {note}" for note in self.notes]
        lines.append(f"  ready in {self.seconds:.1f} s")
        return "\n".join(lines)


def build_demo_library(root: Path, progress: Callable[[str], None] | None = None) -> DemoReport:
    """Create or complete the demo library at *root*; running it again changes nothing."""
    from reviewer.services.demo_content import DEMO_REQUEST_PLAN, DEMO_TALENTS

    started = time.perf_counter()
    report = DemoReport(root)
    say = progress or (lambda _line: None)
    with Library.open(root) as library:
        _register_talents(library, DEMO_TALENTS)
        wanted = [request_id for request_id, _status in DEMO_REQUEST_PLAN]
        with library.reader.connect() as conn:
            present = set(
                conn.execute(sa.select(requests.c.id).where(requests.c.id.in_(wanted))).scalars()
            )
        if present == set(wanted):
            report.unchanged = wanted
        else:
            _import_demo_packages(library, report, say)
        report.notes += apply_demo_story(library)
    report.seconds = time.perf_counter() - started
    return report


def _register_talents(library: Library, demo_talents: list[tuple[str, str]]) -> None:
    with library.engine.begin() as conn:
        known = set(conn.execute(sa.select(talents.c.id)).scalars())
        for talent_id, name in demo_talents:
            if talent_id in known:
                continue
            now = audit.utc_now()
            conn.execute(talents.insert().values(id=talent_id, display_name=name, created_at=now))
            audit.append(
                conn,
                actor=DEMO_ACTOR,
                action="talent.registered",
                subject=f"talent:{talent_id}",
                at=now,
                details={"display_name": name},
            )


def _import_demo_packages(library: Library, report: DemoReport, say: Callable[[str], None]) -> None:
    from reviewer.services.demo_content import write_demo_packages

    say("Generating demo avatars and renders…")
    with tempfile.TemporaryDirectory(prefix="reviewer-demo-") as tmp:
        packages = write_demo_packages(Path(tmp))
        service = ImportService(library)
        for package in packages:
            result = service.import_package(package, actor=DEMO_ACTOR)
            if result.outcome is ImportOutcome.ALREADY_IMPORTED:
                report.unchanged.append(result.request_id)
            else:
                report.imported.append(result.request_id)


def apply_demo_story(library: Library) -> list[str]:
    """Decisions, profiles and releases that make every state visible (consent features).

    Idempotent: it only adds what is missing.
    """
    from reviewer.services import demo_content
    from reviewer.services.demo_story import apply_story

    reasons = getattr(demo_content, "DEMO_DECISION_NOTES", {})
    return apply_story(
        library, list(demo_content.DEMO_TALENTS), list(demo_content.DEMO_REQUEST_PLAN), reasons
    )

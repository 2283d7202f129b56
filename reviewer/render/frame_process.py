"""Full-detail frames of a big avatar, rendered off screen in a process of their own.

The same job as :class:`reviewer.render.full_frame.FullFrameRenderer`, with the same interface,
but the render loop runs in a child process (started with ``spawn``, never ``fork``: the
parent has Qt and OpenGL state that a forked child must not inherit). Rendering with VTK on a
second *thread* beside Qt's on-screen GL context corrupted the heap on Mesa llvmpipe; a
process has its own GL state, its own heap and its own GIL, so it can neither corrupt the GUI
process nor hold it up.

- An avatar read from a stored avatar file (:mod:`reviewer.assets.stored_avatar`: every
  avatar of a library) goes across as the file's name: the child maps the same file, so the
  arrays are neither copied nor sent, and the child reads them from the page cache.
- Any other avatar goes across in shared memory, in the same layout: a helper thread of the
  parent (no GL, no VTK rendering) copies the meshes' arrays and textures into one block
  (:mod:`multiprocessing.shared_memory`) and sends a small descriptor over the pipe; the child
  wraps the block's arrays in VTK objects without copying them again. The parent unlinks the
  block as soon as the child has mapped it (the mapping lives on until the child lets go).
- Frames come back over the pipe as raw bytes; a reader thread of the parent calls
  ``on_frame(token, image)`` with each one.
- The child ends when :meth:`FrameProcess.close` is called, and by itself when the pipe closes
  (the parent died); it is a daemon process, so a parent that exits normally ends it too.

Qt-free, like the rest of :mod:`reviewer.render`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import multiprocessing
import os
import queue
import sys
import threading
import types
from collections import deque
from collections.abc import Iterator
from multiprocessing import shared_memory
from typing import TYPE_CHECKING, Any

import numpy as np

from reviewer.render.full_frame import FrameCallback, FrameRequest

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from reviewer.render.proxy import DisplayAvatar

PROCESS_NAME = "reviewer-frame-renderer"
"""The name of every render child process (tests look for leftovers by it)."""
_CLOSE_GRACE_S = 0.3  # how long close() lets the child end by itself before terminating it
_SHM_SPARE = 16 << 20  # left free in /dev/shm for others


class FrameProcess:
    """Renders full-detail frames of one avatar off screen, in a child process it owns.

    Same interface as :class:`~reviewer.render.full_frame.FullFrameRenderer`: ``on_frame(token,
    image)`` is called on a reader thread with each finished frame, an (H, W, 3) uint8 array,
    top row first. *on_failure* (optional) is called on that thread once if the child fails or
    dies. The child starts at once and pays pyvista's import and VTK's set-up in the
    background. Call :meth:`close` when done.
    """

    def __init__(
        self,
        on_frame: FrameCallback,
        *,
        floor: bool = True,
        show_height: bool = True,
        on_failure: Any = None,
    ) -> None:
        self._on_frame = on_frame
        self._on_failure = on_failure
        self._failure: BaseException | None = None
        self._closing = False
        self._lock = threading.Lock()
        self._waiters: dict[int, tuple[threading.Event, list[np.ndarray]]] = {}
        self._blocks: dict[int, shared_memory.SharedMemory] = {}  # by show key, until mapped
        self._keys = itertools.count(1)
        self._shown_parts: object = None
        self._shown_key = 0
        self._outbox: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self.ready = threading.Event()
        """Set once the child has set VTK up (or has failed to)."""
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe(duplex=True)
        self._conn: Connection = parent_end
        self._process = context.Process(
            target=_child_main,
            args=(child_end, floor, show_height),
            name=PROCESS_NAME,
            daemon=True,
        )
        try:
            with _main_module_hidden():
                self._process.start()
        except BaseException as error:
            self._failure = error
            self.ready.set()
            parent_end.close()
            child_end.close()
            self._sender = self._reader = None
            return
        child_end.close()  # the child's end lives in the child only: its death reads as EOF
        self._sender: threading.Thread | None = threading.Thread(
            target=self._send_loop, name="frame-process-sender", daemon=True
        )
        self._reader: threading.Thread | None = threading.Thread(
            target=self._read_loop, name="frame-process-reader", daemon=True
        )
        self._sender.start()
        self._reader.start()

    @property
    def failure(self) -> BaseException | None:
        """What stopped the render process, if something did (then no frame will come)."""
        return self._failure

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def show(self, display: DisplayAvatar | None) -> None:
        """Render *display* from now on (None: nothing). Pending requests are dropped.

        Returns at once: the arrays are copied for the child on a helper thread.
        """
        key = next(self._keys)
        self._shown_parts = None if display is None else display.avatar.parts
        self._shown_key = key
        self._outbox.put(("show", key, display))

    def request(self, request: FrameRequest) -> None:
        """Render *request* when the child is free; replaces any request still waiting."""
        self._outbox.put(("request", self._describe(request), False))

    def render_now(self, request: FrameRequest, timeout: float = 60.0) -> np.ndarray:
        """Render *request* and wait for the image (for a screenshot)."""
        done = threading.Event()
        box: list[np.ndarray] = []
        with self._lock:
            self._waiters[request.token] = (done, box)
        if self._failure is not None:
            done.set()
        else:
            self._outbox.put(("request", self._describe(request), True))
        if not done.wait(timeout) or not box:
            with self._lock:
                self._waiters.pop(request.token, None)
            raise RuntimeError(f"no full-detail frame within {timeout:.0f} s ({self._failure})")
        return box[0]

    def warm_up(self, sample: DisplayAvatar) -> None:
        """Draw *sample* once, small, in the child: compiles the shaders before the first real
        frame is wanted. Does not call ``on_frame``."""
        self._outbox.put(("warm_up", 0, sample))

    def close(self) -> None:
        """End the child (after the frame it is drawing, or at once if that takes long) and
        the helper threads; safe twice."""
        if self._closing:
            return
        self._closing = True
        self._outbox.put(None)
        if self._sender is not None:
            self._sender.join(_CLOSE_GRACE_S)  # it may be copying an avatar, or blocked
        process = self._process
        if process.pid is not None:
            process.join(_CLOSE_GRACE_S)
            if process.is_alive():
                process.terminate()
                process.join(5.0)
            if process.is_alive():
                process.kill()
                process.join()
        if self._sender is not None:
            self._sender.join()  # unblocked: the child's end of the pipe is closed
        if self._reader is not None:
            self._reader.join()
        self._conn.close()
        with self._lock:
            blocks = list(self._blocks.values())
            self._blocks.clear()
        for block in blocks:
            _release(block)
        self._wake_waiters()
        if process.pid is not None:
            process.close()

    # -- parent side: the helper threads ---------------------------------------------------
    def _describe(self, request: FrameRequest) -> tuple[Any, ...]:
        key = self._shown_key if request.avatar.parts is self._shown_parts else -1
        avatar = request.avatar
        return (
            request.token,
            key,
            avatar.up_axis,
            np.asarray(avatar.upright_transform),
            avatar.units,
            tuple(request.size),
            request.camera,
            request.mode,
            request.lighting,
        )

    def _send_loop(self) -> None:
        try:
            while True:
                item = self._outbox.get()
                if item is None:
                    self._conn.send(("close",))
                    return
                kind = item[0]
                if kind in ("show", "warm_up"):
                    _, key, display = item
                    description = None
                    if display is not None:
                        if kind == "show" and key != self._shown_key:
                            continue  # already replaced by a newer avatar: do not copy it
                        description, block = _encode(display)
                        if block is not None:
                            with self._lock:
                                self._blocks[key] = block
                    self._conn.send((kind, key, description))
                else:
                    self._conn.send(item)
        except (OSError, ValueError):
            pass  # the child is gone: the reader reports it
        except BaseException as error:  # e.g. a mesh it cannot describe: nothing more is sent
            if self._failure is None:
                self._failure = error
            with contextlib.suppress(OSError, ValueError):
                self._process.kill()  # the reader sees the pipe close and reports the failure

    def _read_loop(self) -> None:
        conn = self._conn
        try:
            while True:
                message = conn.recv()
                kind = message[0]
                if kind == "frame":
                    _, token, shape = message
                    pixels = bytearray(int(np.prod(shape)))
                    conn.recv_bytes_into(pixels)
                    image = np.frombuffer(pixels, dtype=np.uint8).reshape(shape)
                    with self._lock:
                        waiter = self._waiters.pop(token, None)
                    if waiter is not None:
                        waiter[1].append(image)
                        waiter[0].set()
                    else:
                        self._on_frame(token, image)
                elif kind == "dropped":
                    with self._lock:
                        waiter = self._waiters.pop(message[1], None)
                    if waiter is not None:
                        waiter[0].set()
                elif kind == "mapped":
                    with self._lock:
                        block = self._blocks.pop(message[1], None)
                    if block is not None:
                        _release(block)
                elif kind == "ready":
                    self.ready.set()
                elif kind == "failed":
                    self._failure = RuntimeError(f"the render process failed: {message[1]}")
        except (EOFError, OSError):
            pass
        finally:
            if not self._closing and self._failure is None:
                self._process.join(1.0)
                code = self._process.exitcode
                self._failure = RuntimeError(f"the render process ended (exit code {code})")
            self.ready.set()
            self._wake_waiters()
            if self._failure is not None and not self._closing and self._on_failure is not None:
                self._on_failure()

    def _wake_waiters(self) -> None:
        with self._lock:
            waiters = list(self._waiters.values())
            self._waiters.clear()
        for done, _box in waiters:
            done.set()


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a spawned child without the parent's main module.

    ``spawn`` runs the parent's main script again in the child (as ``__mp_main__``) unless it
    is a package's ``__main__``; a script without an ``if __name__ == "__main__"`` guard would
    open its windows again there. The render process needs nothing from it: while the child is
    launched, ``__main__`` is a bare module, so the child imports only what its target needs.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


# -- getting an avatar across ----------------------------------------------------------------


def _encode(
    display: DisplayAvatar,
) -> tuple[dict[str, Any], shared_memory.SharedMemory | None]:
    """A picklable description of *display*'s avatar for the child, and the shared-memory
    block it refers to. An avatar read from a stored avatar file goes as the file's name (the
    child maps the file itself: nothing is copied); any other is copied into a new block, in
    the same layout (:mod:`reviewer.assets.stored_avatar`)."""
    from reviewer.assets.stored_avatar import describe, layout

    avatar = display.avatar
    if avatar.stored is not None:
        return {"file": str(avatar.stored)}, None
    # VTK's (bottom-row-first) copy of each texture, if the caller prepared one already.
    flipped = {
        key: np.asarray(data.point_data[data.point_data.active_scalars_name])
        for key, data in display.texture_data.items()
    }
    description, arrays = describe(avatar, flipped=flipped)
    specs, size = layout(arrays)
    _check_room(size)
    block = shared_memory.SharedMemory(create=True, size=max(size, 1))
    try:
        for array, spec in zip(arrays, specs, strict=True):
            target = np.ndarray(array.shape, array.dtype, buffer=block.buf, offset=spec.offset)
            np.copyto(target, array)  # numpy lets go of the GIL for a plain copy
            del target
    except BaseException:
        _release(block)
        raise
    description["block"] = block.name
    description["arrays"] = specs
    return description, block


def _check_room(size: int) -> None:
    """Refuse a block the shared-memory file system has no room for: writing past its end
    would kill this process with SIGBUS (containers often give /dev/shm only 64 MB). The
    sender's failure makes the viewer draw on screen instead."""
    try:
        stats = os.statvfs("/dev/shm")
    except (OSError, AttributeError):
        return  # not Linux: shared memory is not a size-limited file system there
    if stats.f_bavail * stats.f_frsize < size + _SHM_SPARE:
        raise MemoryError(f"/dev/shm has no room for the avatar ({size >> 20} MB)")


def _release(block: shared_memory.SharedMemory) -> None:
    with contextlib.suppress(BufferError):
        block.close()
    with contextlib.suppress(FileNotFoundError):
        block.unlink()


def _decode(description: dict[str, Any], block: shared_memory.SharedMemory | None) -> DisplayAvatar:
    """The child's side of :func:`_encode`: the avatar on the block's (or the mapped file's)
    memory, not copied; its textures made into VTK image data on that memory too."""
    from pathlib import Path

    from reviewer.assets.stored_avatar import read_stored, rebuild
    from reviewer.render.proxy import DisplayAvatar, textures_for_vtk

    if "file" in description:
        # Checked by the parent when it read the file.
        avatar = read_stored(Path(description["file"]), check=False)
    else:
        assert block is not None
        avatar = rebuild(description, description["arrays"], block.buf)
    # Views of the textures' bottom-row-first arrays: no copy.
    return DisplayAvatar(avatar, None, 0.0, textures_for_vtk(avatar.parts))


# -- the child -------------------------------------------------------------------------------


def _child_main(conn: Connection, floor: bool, show_height: bool) -> None:
    """The render process: builds scenes and renders frames until told to stop or until the
    pipe closes."""
    import traceback

    from reviewer.render.full_frame import FrameScene

    frames = None
    # The block of the avatar shown, if it came in one (not as a stored avatar file).
    held: dict[str, shared_memory.SharedMemory] = {}
    try:
        frames = FrameScene(floor=floor, show_height=show_height)
        conn.send(("ready",))
        shown_key = 0
        pending: tuple[Any, ...] | None = None
        inbox: deque[tuple[Any, ...]] = deque()
        while True:
            if not inbox and pending is None:
                inbox.append(conn.recv())
            while conn.poll():
                inbox.append(conn.recv())
            while inbox:
                message = inbox.popleft()
                kind = message[0]
                if kind == "close":
                    return
                if kind in ("show", "warm_up"):
                    _, key, description = message
                    display = None
                    mapped = None
                    if description is not None:
                        if "block" in description:
                            mapped = shared_memory.SharedMemory(name=description["block"])
                            conn.send(("mapped", key))
                        display = _decode(description, mapped)
                    if kind == "warm_up":
                        if display is not None:
                            frames.warm_up(display)
                        del display
                        _unmap(mapped)
                        continue
                    if pending is not None:
                        conn.send(("dropped", pending[0]))
                        pending = None
                    frames.show(display)  # the scene of the last avatar is gone after this
                    shown_key = key
                    del display
                    _unmap(held.pop("show", None))
                    if mapped is not None:
                        held["show"] = mapped
                elif kind == "request":
                    _, described, wait = message
                    if wait:
                        _send_frame(conn, frames, shown_key, described)
                    else:
                        if pending is not None:
                            conn.send(("dropped", pending[0]))
                        pending = described
            if pending is not None:
                described, pending = pending, None
                _send_frame(conn, frames, shown_key, described)
    except (EOFError, OSError, KeyboardInterrupt):
        pass  # the parent went away: end quietly
    except BaseException:
        with contextlib.suppress(OSError, ValueError):
            conn.send(("failed", traceback.format_exc(limit=8)))
    finally:
        if frames is not None:
            frames.close()
        conn.close()
        # The process ends now: unmapping could only race VTK objects still being freed.
        held.clear()


def _unmap(block: shared_memory.SharedMemory | None) -> None:
    """Unmap a block whose scene is gone. Only when nothing on it can be drawn again."""
    if block is None:
        return
    # If an array on it is still referenced somewhere, it stays mapped.
    with contextlib.suppress(BufferError):
        block.close()


def _send_frame(conn: Connection, frames: Any, shown_key: int, described: tuple[Any, ...]) -> None:
    token, key, up_axis, transform, units, size, camera, mode, lighting = described
    shown = frames.shown
    image = None
    if key == shown_key and shown is not None:
        avatar = shown
        if up_axis != shown.up_axis or not np.array_equal(transform, shown.upright_transform):
            avatar = dataclasses.replace(
                shown, up_axis=up_axis, upright_transform=transform, units=units
            )
        image = frames.render(
            FrameRequest(
                token=token,
                avatar=avatar,
                size=size,
                camera=camera,
                mode=mode,
                lighting=lighting,
            )
        )
    if image is None:
        conn.send(("dropped", token))
        return
    conn.send(("frame", token, image.shape))
    conn.send_bytes(memoryview(np.ascontiguousarray(image)).cast("B"))


__all__ = ["PROCESS_NAME", "FrameProcess"]

"""Reading one step ahead: the items of an iterator made by a thread of their own, so that
the next chunk is read (or inflated) while the caller works on this one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import TypeVar

T = TypeVar("T")


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of `items`, made by a reader thread up to `depth` ahead. An exception of
    the reader is raised again in the caller's thread; a caller that stops early stops the
    reader (it does not block on a full queue)."""
    made: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item: object) -> None:
        while not stop.is_set():
            with suppress(queue.Full):
                made.put(item, timeout=0.2)
                return

    def run() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                offer(item)
        except BaseException as error:  # raised again in the caller's thread
            offer(error)
        finally:
            offer(done)

    reader = threading.Thread(target=run, daemon=True)
    reader.start()
    try:
        while (item := made.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()

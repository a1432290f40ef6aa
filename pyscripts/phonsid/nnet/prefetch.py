"""A background thread that prepares the next minibatches while the current one trains."""

from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, Iterator


class Prefetcher:
    """Runs ``produce(item)`` for each item on a background thread, keeping up to ``depth`` results ready.

    Iterating yields the results in order; an exception in ``produce`` is re-raised in the consumer. ``close()``
    (or leaving a ``with`` block) stops the thread early. numpy's memmap gathers and dtype conversions, and torch's
    pinning, release the GIL, so the thread overlaps with the training step.
    """

    _DONE = object()

    def __init__(self, items: Iterable, produce: Callable, depth: int = 4) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(iter(items), produce), daemon=True)
        self._thread.start()

    def _run(self, items: Iterator, produce: Callable) -> None:
        try:
            for item in items:
                if self._stop.is_set():
                    return
                self._put((True, produce(item)))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            self._put((False, e))
            return
        self._put((True, self._DONE))

    def _put(self, item) -> None:
        """Waits for room in the queue unless the consumer closed us meanwhile."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self):
        while True:
            ok, value = self._queue.get()
            if not ok:
                self.close()
                raise value
            if value is self._DONE:
                return
            yield value

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Prefetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

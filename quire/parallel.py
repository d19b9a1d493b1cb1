"""Work spread over forked processes: they inherit the build's state, so only indexes and
results cross process boundaries. Small batches stay in this process (forking costs more)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from multiprocessing.reduction import ForkingPickler
from types import MappingProxyType

PARALLEL_MIN = 50  # fewer bodies to render than this: forking workers costs more than it saves


# Records hold read-only mappings, which pickle cannot send back from a worker as they are.
def _read_only(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


ForkingPickler.register(MappingProxyType, lambda m: (_read_only, (dict(m),)))

# Set once in each forked worker by _start_worker: tasks then carry only an index.
_WORKER_STATE: list[tuple[Callable, object]] = []


def _start_worker(work: Callable, state: object) -> None:
    gc.freeze()  # what the worker inherited stays out of its collections (and unshared)
    parent = multiprocessing.parent_process()
    child_of(parent.pid if parent is not None else None)
    _WORKER_STATE.append((work, state))


def child_of(parent_pid: int | None) -> None:
    """In a forked child of the build. Ctrl-C is the parent's to handle, and SIGTERM ends
    it quietly, not through the inherited handler (a KeyboardInterrupt traceback per child).
    A build killed with SIGKILL left its children to write into a closed pipe (a
    BrokenPipeError traceback each): on Linux the kernel now kills them with it; elsewhere
    (or if the parent already died) a child whose parent is gone exits quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(0)


def _work_in_worker(index: int):
    work, state = _WORKER_STATE[0]
    return work(state, index)


def forks(count: int, jobs: int, minimum: int = PARALLEL_MIN) -> bool:
    """Whether parallel_map will fork workers for `count` items (else it works in process:
    then nothing needs preparing for workers, such as templates compiled ahead)."""
    return jobs > 1 and count > minimum and "fork" in multiprocessing.get_all_start_methods()


def parallel_map(
    work: Callable[[object, int], object],
    state: object,
    count: int,
    jobs: int,
    progress: bool = False,
    desc: str = "Rendering",
    minimum: int = PARALLEL_MIN,
    meanwhile: Callable[[], object] | None = None,
) -> Iterator:
    """Yields work(state, i) for i in range(count), in order: from `jobs` forked processes
    when there is enough work (they inherit `state`, only indexes and results cross
    process boundaries), else from this one. The results are the same either way.
    `minimum`: fewer items than this stay in this process (images: each is worth a fork).
    `meanwhile`: called in this process once the workers have started, else first."""
    bar = None
    if progress and count:
        from tqdm import tqdm

        bar = tqdm(total=count, desc=desc, file=sys.stderr, leave=False)
    try:
        if forks(count, jobs, minimum):
            pool_ctx = multiprocessing.get_context("fork")
            chunk = max(1, min(16, count // (jobs * 8)))
            jobs = min(jobs, count)
            # The workers share the parent's memory until they write to it; a garbage
            # collection in a worker would write to every object's header and copy it all.
            frozen = gc.get_freeze_count()  # the build's own freeze stays as it is
            gc.freeze()
            try:
                pool = pool_ctx.Pool(jobs, initializer=_start_worker, initargs=(work, state))
            finally:
                if not frozen:
                    gc.unfreeze()
            with pool:
                results = pool.imap(_work_in_worker, range(count), chunksize=chunk)
                if meanwhile is not None:
                    meanwhile()
                for result in results:
                    if bar is not None:
                        bar.update()
                    yield result
            return
        if meanwhile is not None:
            meanwhile()
        for i in range(count):
            result = work(state, i)
            if bar is not None:
                bar.update()
            yield result
    finally:
        if bar is not None:
            bar.close()

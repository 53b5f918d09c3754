"""Run one call in a child process held to a memory, processor-time and wall-clock limit.

A user's report template is checked as it runs (core/reports.py counts what it builds and
looks at the clock between steps), but one call into C can outrun those checks: a quadratic
string search, a dict of colliding keys, an allocation that the counters did not foresee.
The child is the backstop: whatever the template does, it cannot take more than its share of
the machine, and the officer gets dat's message instead of a frozen terminal or a killed
process.

The child is a ``fork`` of the caller, so it needs nothing pickled on the way in and starts
in a few milliseconds; only the result comes back (pickled, through a pipe). It never touches
the caller's database connections, files or terminal, and it leaves with ``os._exit`` so no
exit handler of the caller runs twice. Where ``fork`` is not available the call runs in
process, checked by the in-process limits alone.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

#: how much more address space than the caller's own the child may map
DEFAULT_MEMORY = 1 << 30


@dataclass(frozen=True)
class Stopped(Exception):
    """The child went past a limit, or died: ``why`` says which, in an officer's words."""

    why: str

    def __str__(self) -> str:
        return self.why


class Failed(Exception):
    """The child's call raised something that does not survive pickling: its type and text."""


def _address_space() -> int:
    """This process's mapped address space in bytes (0 when it cannot be read)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _limit_child(memory: int, cpu: float) -> None:
    import resource

    base = _address_space()
    if base and memory:
        want = base + memory
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    if cpu:
        seconds = max(1, int(cpu + 0.999))
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            seconds = min(seconds, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, hard))


def _child(write_fd: int, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
           memory: int, cpu: float) -> None:
    code = 0
    try:
        # ctrl+c reaches the whole process group: the caller deals with it and ends the child
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        import faulthandler

        faulthandler.disable()  # a child that runs out of memory dies quietly: the caller tells
        _limit_child(memory, cpu)
        try:
            payload = pickle.dumps(("ok", fn(*args, **kwargs)), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", None))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            try:
                payload = pickle.dumps(("raised", exc), protocol=pickle.HIGHEST_PROTOCOL)
                pickle.loads(payload)  # an exception that cannot be rebuilt goes back as text
            except Exception:
                payload = pickle.dumps(("failed", (type(exc).__name__, str(exc)[:2000])))
        view = memoryview(payload)
        while view:
            written = os.write(write_fd, view[:1 << 16])
            view = view[written:]
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        code = 1
    finally:
        os._exit(code)


def run_limited(fn: Callable[..., T], args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, *,
                memory: int = DEFAULT_MEMORY, cpu: float = 60.0, wall: float = 60.0) -> T:
    """``fn(*args, **kwargs)`` in a forked child whose address space may grow by ``memory``
    bytes, which may use ``cpu`` seconds of processor time and which is killed after ``wall``
    seconds. Its result (or the exception it raised) comes back as if it ran here; a child
    that went past a limit or died raises :class:`Stopped`."""
    kwargs = kwargs or {}
    if not hasattr(os, "fork"):
        return fn(*args, **kwargs)
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():  # Python 3.12 warns about fork with threads (the TUI's)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its work is seen through the pipe
        os.close(read_fd)
        _child(write_fd, fn, args, kwargs, memory, cpu)
    os.close(write_fd)
    chunks: list[bytes] = []
    timed_out = finished = False
    try:
        deadline = time.monotonic() + wall
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    finished = True
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        if not finished:  # past the deadline, or the caller was interrupted (ctrl+c)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise Stopped(f"it was still running after {wall:g} s")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            raise Stopped(f"it used more than {cpu:g} s of processor time")
        if sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGKILL):
            raise Stopped(f"it ran out of memory (at most {_bytes(memory)} more than dat's own)")
        raise Stopped(f"it was stopped by signal {signal.Signals(sig).name}")
    try:
        kind, value = pickle.loads(b"".join(chunks))
    except Exception:
        raise Stopped("it ended without a result (out of memory, or killed)") from None
    if kind == "ok":
        return value
    if kind == "memory":
        raise Stopped(f"it ran out of memory (at most {_bytes(memory)} more than dat's own)")
    if kind == "raised":
        raise value
    name, text = value
    raise Failed(f"{name}: {text}")


def _bytes(n: int) -> str:
    if n >= 1 << 30 and n % (1 << 30) == 0:
        return f"{n >> 30} GiB"
    return f"{n >> 20} MiB"

"""The Dask cluster a Runner (runs.py) can send runs to: connecting to its scheduler, the messages
when it cannot, and the little of Dask's interface the Runner uses.

    Cluster(address)           the scheduler at address (e.g. tcp://host:8786), as a client of it;
                               SchedulerUnreachable, saying how to start one, if it does not answer
                               within CONNECT_TIMEOUT seconds
    cluster.submit(f, *args)   f(*args) on one of its workers: a Dask future (a long text among
                               args is sent to the cluster once, not with each job)
    lost(error)                why a job that gave no result was lost, unless it raised error itself
    unfix_mmap_threshold()     in a worker: undoes what Dask's nanny does to memory allocation

Dask (`distributed`) is imported only once a Cluster is made: local runs never load it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from pathlib import Path

CONNECT_TIMEOUT = 10  # seconds a Dask scheduler has to answer


class SchedulerUnreachable(ConnectionError):
    """No Dask scheduler answered at the address given."""


class Cluster:
    """A client of the Dask scheduler at address; close() when done."""

    def __init__(self, address: str):
        self.client = _connect(address)
        self._scattered = {}  # long text -> its Dask future (the text, on the cluster)

    def submit(self, function, *args):
        return self.client.submit(function, *(self._on_cluster(arg) for arg in args), pure=False)

    def _on_cluster(self, arg):
        """A long text is sent to the cluster once, and each job gets its Dask future instead."""
        if not (isinstance(arg, str) and len(arg) > 100_000):
            return arg
        if arg not in self._scattered:
            self._scattered[arg] = self.client.scatter(arg, hash=True)
        return self._scattered[arg]

    def close(self) -> None:
        self.client.close()


def lost(error: BaseException | None) -> str | None:
    """Why a job that did not finish on the cluster gave no result, given its error (None: it has
    none, the cluster dropped it); None when error is the job's own, raised by it."""
    from distributed.scheduler import KilledWorker
    if error is None or isinstance(error, KilledWorker):
        return f"{error or 'the cluster dropped it'} (the Dask scheduler gives up on a job whose workers keep dying)"
    return None


def unfix_mmap_threshold():
    """Dask's nanny starts its workers with MALLOC_TRIM_THRESHOLD_ set, and setting it fixes glibc's
    mmap threshold at 128 KiB: every array the size of the parameters (220 kB at m = 100), made
    each update, is then mapped and unmapped, and a run at m = 100 takes about 1.6 times as long.
    Let arrays of up to 32 MiB (glibc's own ceiling) come from the heap again."""
    if "MALLOC_TRIM_THRESHOLD_" in os.environ and sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL("libc.so.6").mallopt(-3, 32 * 2**20)  # -3: M_MMAP_THRESHOLD


def _connect(address: str):
    from distributed import Client
    from distributed.security import Security
    if address.startswith("tls://") and Security().get_connection_args("client")["ssl_context"] is None:
        # refused now: Client would fail with a TypeError, then hang 20 s in its cleanup
        raise SchedulerUnreachable(
            f"{address} is a TLS address, and this client has no certificate: give the files in Dask's "
            f"configuration, e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT "
            f"and DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY (README.md, \"On a Dask cluster\")")
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError, TypeError) as err:  # refused, timed out, or not an address at all
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {address} within {CONNECT_TIMEOUT} s ({type(err).__name__}): "
            f"check the address, or start one and its workers: {_start_commands(address)} (README.md, "
            f"\"On a Dask cluster\")") from None


def _start_commands(address: str) -> str:
    """The commands that start a scheduler at address and its workers, with the `dask` of this Python's
    environment (not on PATH unless it is activated), as the user would type it from here."""
    dask = Path(sys.executable).with_name("dask")
    with contextlib.suppress(ValueError):
        dask = dask.relative_to(Path.cwd())
    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    if scheme in ("", "tcp") and host in ("127.0.0.1", "localhost"):  # this machine alone: nothing listens beyond it
        return (f"`{dask} scheduler --host {host} --port {port} --dashboard-address {host}:8787`, then "
                f"`{dask} worker {address} --nthreads 1 --host {host} --dashboard-address {host}:0`")
    return (f"`{dask} scheduler` on that machine, then `{dask} worker {address} --nthreads 1` on each, on a "
            f"network you trust")

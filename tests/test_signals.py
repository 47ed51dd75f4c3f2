"""`python3 run.py serve` stops on a signal to run.py's process id and leaves nothing running:
run.py has become the server itself, and Voilà takes the kernel of the page view down with it."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads processes from /proc")


def stat(pid):
    """(parent pid, state, start time) of a process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), fields[0], fields[19]


def descendants(pid):
    """{pid: start time} of every process below pid, kernels in their own sessions included."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := stat(entry.name)):
            children.setdefault(info[0], []).append(int(entry.name))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if info := stat(child):
                found[child] = info[2]
                todo.append(child)
    return found


def alive(pid, started):
    """The same process (not a later one given the pid again) still exists and is no zombie."""
    info = stat(pid)
    return info is not None and info[2] == started and info[1] != "Z"


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def kernels(pid):
    return [child for child in descendants(pid) if any("ipykernel" in arg for arg in cmdline(child))]


def answers(port) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def wait_for(condition, timeout, what, log):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout} s; the server's output:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_to_run_py_serve_stops_the_server_and_its_kernels(tmp_path, serving_env, free_port, signum):
    port, log_path = free_port, tmp_path / "serve.log"
    # The signal's default action for the server, whatever this process inherited: a background
    # job starts with SIGINT ignored, nohup with SIGHUP, and the server would inherit that.
    inherited = signal.signal(signum, signal.SIG_DFL)
    try:
        with open(log_path, "wb") as log:
            server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", f"--port={port}"],
                                      env=serving_env, stdout=log, stderr=subprocess.STDOUT)
    finally:
        signal.signal(signum, inherited)
    below = {}
    try:
        wait_for(lambda: answers(port) or server.poll() is not None, 60, "the port answering", log_path)
        assert server.poll() is None, log_path.read_text(errors="replace")
        command = cmdline(server.pid)
        # exec, no child: run.py has become serve.py, which runs Voilà in its own process
        assert any(arg.endswith("serve.py") for arg in command) and not any(arg.endswith("run.py") for arg in command)

        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60).read()  # a page view starts a kernel
        wait_for(lambda: kernels(server.pid), 60, "a kernel for the page view", log_path)
        below = descendants(server.pid)

        server.send_signal(signum)
        wait_for(lambda: server.poll() is not None, 30, "the server's exit", log_path)
        wait_for(lambda: not any(alive(pid, started) for pid, started in below.items()), 30,
                 f"the end of every process below the server ({sorted(below)})", log_path)
        assert not answers(port)
    finally:  # after a failure, leave no server or kernel running
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid, started in below.items():
            if alive(pid, started):
                os.kill(pid, signal.SIGKILL)

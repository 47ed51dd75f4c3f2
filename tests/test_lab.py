"""`python3 run.py lab` (scripts/lab.py) as `serve` runs Voilà: its kernels talk over Unix sockets,
the project's notebooks open trusted, and its terminal says nothing the user cannot act on, through
opening a notebook, starting its kernel and running a cell over the kernel's websocket."""

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest

from browser import stop_server

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "a-token-for-the-test"
# What a user could not act on, and what the kernel's TCP transport says about itself.
NOISE = ("[W ", "WARNING", "not trusted", "eavesdropping", "websocket_ping", "Skipped non-installed",
         "DeprecationWarning", "Traceback")


def api(url, method="GET", body=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


async def run_cell(url, kernel, code):
    """code run in the kernel through its websocket, as JupyterLab's page runs a cell: the text it printed."""
    from tornado.websocket import websocket_connect

    session, msg_id, printed = uuid.uuid4().hex, uuid.uuid4().hex, []
    socket = await websocket_connect(f"ws://{url.split('://', 1)[1]}api/kernels/{kernel}/channels?token={TOKEN}"
                                     f"&session_id={session}")
    socket.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session, "username": "test",
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    while True:
        message = json.loads(await asyncio.wait_for(socket.read_message(), timeout=60))
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        if message["msg_type"] == "execute_reply":
            socket.close()
            return "".join(printed)


@pytest.fixture
def lab(tmp_path, free_port):
    """scripts/lab.py on a free loopback port, with Jupyter's folders under tmp_path: (URL, process, log)."""
    log_path = tmp_path / "lab.log"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"))
    root = ["--allow-root"] if os.geteuid() == 0 else []  # Jupyter refuses root without it
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "lab.py"), "--no-browser",
                                   f"--port={free_port}", "--ServerApp.port_retries=0",
                                   f"--IdentityProvider.token={TOKEN}", *root],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{free_port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            try:
                api(url + "api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        yield url, server, log_path
    finally:
        stop_server(server, timeout=20)


def test_lab_runs_kernels_over_unix_sockets_trusts_the_notebooks_and_keeps_its_terminal_quiet(lab):
    url, server, log_path = lab
    notebook = api(url + "api/contents/2_training.ipynb?content=1")["content"]
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["metadata"].get("trusted") for cell in code)  # its saved outputs show as they are

    session = api(url + "api/sessions", "POST", {"path": "2_training.ipynb", "type": "notebook", "name": "",
                                                 "kernel": {"name": "python3"}})
    said = asyncio.run(run_cell(url, session["kernel"]["id"], "import rnnlib; print(rnnlib.M)"))
    assert said == "100\n"
    (kernel,) = [child for child in psutil.Process(server.pid).children(recursive=True)
                 if any("ipykernel" in arg for arg in child.cmdline())]
    # its five channels are Unix sockets, named after its connection file; no TCP beyond this machine
    channels = sorted({Path(c.laddr).name for c in kernel.net_connections(kind="unix")
                       if f"kernel-{session['kernel']['id']}-ipc-" in c.laddr})
    assert channels == [f"kernel-{session['kernel']['id']}-ipc-{n}" for n in range(1, 6)]
    assert all(c.laddr.ip == "127.0.0.1" for c in kernel.net_connections(kind="inet"))  # the debugger's, if any
    time.sleep(3)  # a few seconds more of the terminal
    stop_server(server, timeout=20)

    log = log_path.read_text()
    assert "Kernel started" in log and "Kernel shutdown" in log
    assert not [line for line in log.splitlines() if any(word in line for word in NOISE)], log

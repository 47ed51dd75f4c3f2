"""Serve the synthesis notebook as a web page with Voilà, on this machine only (127.0.0.1).

Run it with `python3 run.py serve [--port N]`.  The page uses the last finished training run
(results/model.npz, written when `python3 run.py report` trains to the end; a stopped run never
replaces it); without one for the current corpus it says so and stops, rather than train for
minutes behind a blank page.  Voilà runs in this process, so a signal to it stops the server and
its kernels; each page view has a kernel, shut down once its page has been closed for a while.
The page is rendered with Voilà's lab template less what it would fetch from the network
(scripts/jupyter/voila/templates/lab-offline): it needs nothing from outside this machine.
"""

import argparse
import errno
import logging
import os
import re
import socket
import sys
import tempfile
import time
from pathlib import Path

import rnnlib

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "3_synthesis.ipynb"
# A Jupyter data folder of this project's, holding its Voilà template (TEMPLATE).
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"
TEMPLATE = "lab-offline"
# A kernel idle and without a page for this long is shut down: Voilà cannot shut down the kernel of a
# closed tab itself (its request is refused for want of an _xsrf token, voila-dashboards/voila#1458).
RECLAIM_AFTER = 45


def check_model(corpus) -> str | None:
    """Why the page cannot show a model for this corpus, or None if it can."""
    path = rnnlib.MODEL_PATH
    make = f"run `python3 run.py report` first ({training_estimate(corpus)}), then this again"
    if not path.is_file():
        return f"No finished model yet ({rnnlib.display_path(path)} is missing): {make}."
    try:
        checkpoint = rnnlib.load_checkpoint(path)
    except ValueError as err:
        return f"{err}\nTo make a new one, {make}."
    if not checkpoint.trained_on(corpus):
        return (f"The model in {rnnlib.display_path(path)} was trained on {checkpoint.source}, but the "
                f"corpus now is {corpus.source}: {make}.")
    return None


def training_estimate(corpus, epochs: int = 4, measured: int = 300) -> str:
    """How long training the report's model takes on this machine, from `measured` updates timed now."""
    start = time.perf_counter()
    rnnlib.train(rnnlib.RNN.init(corpus.K, m=100), corpus, updates=measured, sample_every=None, progress=False)
    seconds = (time.perf_counter() - start) / measured
    updates = epochs * rnnlib.updates_per_epoch(len(corpus.data), 25)
    return (f"its training, {updates:,} updates at {seconds * 1e3:.2f} ms each as measured just now, takes "
            f"about {max(1, round(updates * seconds / 60))} min here, and its other notebooks a few more")


# A markdown link [text](target), not an image; the target's first character.
LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
NAVIGATION_WORDS = {"next", "previous", "back", "up"}


def without_local_links(markdown: str) -> str:
    """markdown with links to other files of the project (other notebooks, the README) turned
    into their text, and lines that only navigate between them dropped: served alone, the page
    has no such files, and Voilà answers 403.  Web links and #anchors stay."""
    def local(match):
        return not re.match(r"[a-z][a-z0-9+.-]*:|#", match.group(2), re.I)

    lines = []
    for line in markdown.split("\n"):
        rest = LINK.sub(lambda m: "" if local(m) else m.group(0), line)
        if any(local(m) for m in LINK.finditer(line)) and set(re.findall(r"\w+", rest.lower())) <= NAVIGATION_WORDS:
            continue
        lines.append(LINK.sub(lambda m: m.group(1) if local(m) else m.group(0), line))
    return "\n".join(lines)


def strip_local_links(handler, notebook, cwd):
    """Voilà's prelaunch hook: the page's markdown without links that lead nowhere."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = without_local_links(cell.source)
    return notebook


class QuietLog(logging.Filter):
    """Keeps a Jupyter server's terminal (Voilà's here, JupyterLab's in lab.py) free of lines that ask
    nothing of the user.  Dropped: Jupyter's "Notebook ... is not trusted" (trust concerns the outputs
    saved in a notebook, and Voilà shows none of them: it runs the notebook afresh; lab.py signs the
    project's), tornado's note that jupyter_server's websocket ping timeout is longer than the
    interval (their two ping schemes disagree; the connection is fine), and the language-server
    extension's list of the ~20 servers that are not installed (none is, and none is needed).  The
    shutdown of a closed page's kernel is information, not a warning."""

    def filter(self, record):
        message = record.getMessage()
        if ("is not trusted" in message or message.startswith("The websocket_ping_timeout")
                or message.startswith("Skipped non-installed server(s)")):
            return False
        if message.startswith("Culling 'idle' kernel"):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def connection_root() -> str:
    """Where Voilà keeps its kernels' connection files and sockets.  A Unix socket's path has at
    most about 104 bytes, and Voilà names them <folder>/voila_XXXXXXXX/kernel-<36-character id>-ipc-N:
    the temporary folder if that fits (on Linux, /tmp), else /tmp (macOS's own is too long)."""
    root = tempfile.gettempdir()
    if len(root) + len("/voila_XXXXXXXX/kernel--ipc-NN") + 36 > 100 and os.path.isdir("/tmp"):
        return "/tmp"
    return root


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as err:
            return err.errno == errno.EADDRINUSE
    return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8866, help="the port on 127.0.0.1 (default 8866)")
    parser.add_argument("--reclaim-after", type=int, default=RECLAIM_AFTER, metavar="SECONDS",
                        help="shut down the kernel of a closed page after this many idle seconds "
                             "(default %(default)s)")
    args = parser.parse_args(argv)
    problem = check_model(rnnlib.load_corpus())
    if problem:
        print(problem, file=sys.stderr)
        return 1
    if port_in_use(args.port):
        print(f"Port {args.port} on 127.0.0.1 is in use (another server?): give another with --port N.",
              file=sys.stderr)
        return 1
    print(f"Serving the temperature slider at http://127.0.0.1:{args.port}/ (Ctrl-C stops it)", flush=True)

    from traitlets.config import Config
    from voila.app import Voila

    config = Config()
    config.VoilaConfiguration.prelaunch_hook = strip_local_links
    # Voilà finds templates in Jupyter's data folders, which JUPYTER_PATH adds to (before the others).
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(JUPYTER_DATA), os.environ.get("JUPYTER_PATH")]))
    config.VoilaConfiguration.template = TEMPLATE
    # Notebook 7's JupyterLab extension (its "open in Notebook" buttons) means nothing on this page, and
    # built for a newer JupyterLab than Voilà's page, it fails to load there, with an error in the console.
    config.VoilaConfiguration.extension_denylist = ["@jupyter-notebook/lab-extension"]
    # Kernels talk to the server over Unix sockets, like `run.py report`'s: nothing on TCP to eavesdrop.
    config.KernelManager.transport = "ipc"
    # A page's kernel is kept while the page is open (connected), and shut down once it has been idle
    # and without a page for reclaim_after seconds, checked every few seconds.
    config.MappingKernelManager.cull_idle_timeout = args.reclaim_after
    config.MappingKernelManager.cull_connected = False
    config.MappingKernelManager.cull_interval = max(1, min(10, args.reclaim_after // 4))
    config.Voila.connection_dir_root = connection_root()
    for name in ("Voila", "tornado.general"):
        logging.getLogger(name).addFilter(QuietLog())
    # port_retries=0: the port printed above, or none (Voilà would otherwise move to the next one).
    Voila.launch_instance([str(NOTEBOOK), "--no-browser", f"--port={args.port}", "--Voila.ip=127.0.0.1",
                           "--Voila.port_retries=0"], config=config)
    return 0


if __name__ == "__main__":
    sys.exit(main())

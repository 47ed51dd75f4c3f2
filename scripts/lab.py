"""`python3 run.py lab [JupyterLab's options]`: JupyterLab on the notebooks folder, set up as `serve`
sets up Voilà: kernels over Unix sockets (nothing on TCP to eavesdrop on), the project's notebooks
trusted, and a terminal without the warnings that ask nothing of the user.

    trust_notebooks     sign the notebooks in a folder as trusted, as opening them in JupyterLab
                        and saving would: their saved outputs (HTML, widgets) show as they are
    LabKernels          JupyterLab's kernel manager, with each kernel's sockets in a short folder

Options after `lab` go to JupyterLab (e.g. --port 8889, --no-browser, --allow-root).  The log
filter (serve.QuietLog) and the sockets' folder (serve.connection_root) are serve's.
"""

import atexit
import logging
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import nbformat
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from serve import QuietLog, connection_root
from traitlets import Unicode

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def trust_notebooks(folder: Path):
    """Sign each notebook in folder (in the user's Jupyter data folder, as JupyterLab does when it saves
    one), unless it is signed already: they are this project's, which the user runs anyway."""
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if not notary.check_signature(notebook):
            notary.sign(notebook)


class LabKernels(AsyncMappingKernelManager):
    """JupyterLab's kernel manager, with each kernel's connection file, and so its Unix sockets, in the
    folder `sockets` (JupyterLab's runtime folder, the default, may be too long a path for a socket)."""

    sockets = Unicode(config=True, help="the folder of the kernels' connection files and sockets")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.connection_dir = self.sockets


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    trust_notebooks(NOTEBOOKS)
    sockets = tempfile.mkdtemp(prefix="lab_", dir=connection_root())  # this user's only (mode 0700)
    atexit.register(shutil.rmtree, sockets, ignore_errors=True)

    import voila  # noqa: F401  (its server extension's package: imported now, so that the filter below comes after its own)
    from jupyterlab.labapp import LabApp

    for name in ("ServerApp", "LabApp", "tornado.general"):
        logging.getLogger(name).addFilter(QuietLog())
    # Importing voila turns on the DeprecationWarnings that traitlets raises about Jupyter's own code (an
    # extension reads ServerApp.token, an old name): nothing the user can change, so off again, as by default.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="traitlets")
    # As options, before the user's: JupyterLab's launch_instance passes no other config to its server.
    LabApp.launch_instance([str(NOTEBOOKS), f"--ServerApp.kernel_manager_class={__name__}.LabKernels",
                            f"--LabKernels.sockets={sockets}", "--KernelManager.transport=ipc", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())

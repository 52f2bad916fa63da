"""Record the files this Python process opens, for `workflow cache audit`.

Loaded by `site` at start-up because workflow put this directory first on PYTHONPATH.
When `WORKFLOW_AUDIT_LOG` names a file, an audit hook (PEP 578) appends one line per
event to it: `r<TAB>path` for a file opened for reading (imports included), `w<TAB>path`
for one opened for writing, `x<TAB>program` for a program started. Paths are made
absolute with the process's working directory at the time. Lines are short single
`write`s to a file opened for appending, so processes writing at once never mix them.
Then the `sitecustomize` that would have run without this one (a virtualenv's, the
system's) is run in its place. Standard library only; nothing here may fail the process.
"""

import os
import sys

_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_STARTS = frozenset({"subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"})


def _install() -> None:
    target = os.environ.get("WORKFLOW_AUDIT_LOG")
    if not target:
        return
    try:
        log = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return

    def hook(event: str, args: tuple[object, ...]) -> None:
        # A hook that raises would fail the very open it watches: nothing may escape it.
        try:
            line = _line(event, args)
            if line:
                os.write(log, line.encode("utf-8", "surrogateescape"))
        except Exception:
            return

    sys.addaudithook(hook)


def _line(event: str, args: tuple[object, ...]) -> str:
    if event == "open":
        path, mode, flags = args
        if path is None or isinstance(path, int):
            return ""
        text = os.fsdecode(path)  # type: ignore[arg-type]
        if not text.startswith("/"):
            text = os.path.join(os.getcwd(), text)
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITING != 0
        )
        return f"{'w' if writing else 'r'}\t{text}\n"
    if event in _STARTS and args:
        program = args[0]
        if isinstance(program, str | bytes):
            return f"x\t{os.fsdecode(program)}\n"
    return ""


def _chain() -> None:
    """Run the next `sitecustomize` on sys.path, as `site` would have without this one."""
    import importlib.machinery  # noqa: PLC0415 - recorded like any other import
    import importlib.util  # noqa: PLC0415

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_install()
_chain()

"""Running a model's program, which nobody has read, where it can do no harm.

The program runs in its own process under the distribution's isolation tool — bubblewrap, else util-linux's
`unshare` — with no network, a private temporary directory on a size-capped tmpfs, only the interpreter's
files bound read-only (never the project, the store or the office's keys), and rlimits on CPU time, memory,
processes, file size and open files. A wall clock kills the whole process group. Where no tool works, code is
refused unless the operator says, knowingly, to run it unsandboxed.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HOME = "/sandbox"  # the program's private directory inside the sandbox
NOBODY = 65534


class SandboxError(ValueError):
    """Code cannot be run safely here; one line saying why and what to do."""


@dataclass(frozen=True)
class Limits:
    """What one program may use; a suite may tighten or loosen these (`code.limits`)."""

    cpu_s: float = 10.0
    wall_s: float = 20.0
    memory_mb: int = 1024
    processes: int = 64
    output_bytes: int = 1_000_000
    disk_mb: int = 32


@dataclass(frozen=True)
class Execution:
    """How a program ended: `status` is "exited", "timeout" or "killed" (by a signal: a limit, or its own doing)."""

    status: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass(frozen=True)
class Sandbox:
    """The isolation tool in use (`tool` is what a run's settings record) and the interpreter it runs."""

    tool: str
    path: str | None = None

    def run(self, program: str, stdin: str = "", limits: Limits = Limits()) -> Execution:
        with tempfile.TemporaryDirectory(prefix="dokja-code-") as scratch:
            box = Path(scratch)
            (box / "program.py").write_text(program, encoding="utf-8")
            (box / "stdin").write_text(stdin, encoding="utf-8")
            (box / "work").mkdir()
            _hand_over(box)
            return _execute(self._command(box, limits), box, limits)

    def _command(self, box: Path, limits: Limits) -> list[str]:
        python = [interpreter(), "-I", "-S"]
        if self.tool == "bubblewrap":
            return [self.path, *_bwrap_args(box, limits), *_drop(), *python, f"{HOME}/program.py"]
        if self.tool == "unshare":
            spaces = [] if _as_root() else ["--user", "--map-root-user"]
            return [self.path, *spaces, "--net", "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts",
                    "sh", "-c", _unshare_script(box, limits), "sh", *_drop(), *python]
        return [*python, str(box / "program.py")]  # unsafe: the operator asked for it


def _as_root() -> bool:
    return os.geteuid() == 0


def _drop() -> list[str]:
    """The last step before the program: no capability, no way to gain one, and, when the office runs as root,
    the user nobody (the kernel exempts root's own processes from the process limit, even in a namespace)."""
    who = ["--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"] if _as_root() else []
    return ["setpriv", *who, "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]


def interpreter() -> str:
    """The base Python (never the project's virtual environment), run isolated and without site-packages."""
    return str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())


def _system_dirs() -> list[str]:
    """What the interpreter needs to start: the system's libraries and its own installation."""
    prefix = str(Path(sys.base_prefix).resolve())
    dirs = ["/usr"] + [d for d in ("/lib", "/lib64", "/bin") if Path(d).is_dir() and not Path(d).is_symlink()]
    if not any(prefix == d or prefix.startswith(d + "/") for d in dirs):
        dirs.append(prefix)
    return dirs


def _links() -> list[tuple[str, str]]:
    return [(os.readlink(d), d) for d in ("/lib", "/lib64", "/bin") if Path(d).is_symlink()]


def _bwrap_args(box: Path, limits: Limits) -> list[str]:
    spaces = (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
              if _as_root() else ["--unshare-all", "--unshare-user"])
    args = [*spaces, "--die-with-parent", "--new-session", "--clearenv", "--setenv", "HOME", HOME,
            "--setenv", "PATH", "/usr/bin:/bin", "--proc", "/proc", "--dev", "/dev"]
    for d in _system_dirs():
        args += ["--ro-bind", d, d]
    for target, link in _links():
        args += ["--symlink", target, link]
    size = str(limits.disk_mb * 2**20)
    args += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp", "--perms", "1777", "--size", size,
             "--tmpfs", HOME, "--ro-bind", str(box / "program.py"), f"{HOME}/program.py", "--chdir", HOME]
    return args


def _unshare_script(box: Path, limits: Limits) -> str:
    """Inside new namespaces: a fresh root on a tmpfs, the system bound read-only, then the program without any
    capability (so nothing can be remounted) and with no way to gain privileges."""
    root = box / "work" / "root"
    lines = ["set -e", f"mkdir -p {root}", f"mount -t tmpfs -o size={limits.disk_mb}m tmpfs {root}",
             f"mkdir -p {root}/tmp {root}{HOME} {root}/proc {root}/dev", f"mount -t proc proc {root}/proc",
             f"cp {box / 'program.py'} {root}{HOME}/program.py"]
    for d in _system_dirs():
        lines += [f"mkdir -p {root}{d}", f"mount --rbind {d} {root}{d}", f"mount -o remount,bind,ro {root}{d}"]
    for target, link in _links():
        lines.append(f"ln -s {target} {root}{link}")
    for dev in ("null", "zero", "urandom"):
        lines += [f"touch {root}/dev/{dev}", f"mount --bind /dev/{dev} {root}/dev/{dev}"]
    lines += [f"chmod 1777 {root}/tmp {root}{HOME}",
              f'cd / && exec chroot {root} env -i HOME={HOME} PATH=/usr/bin:/bin '
              f'sh -c \'cd {HOME} && exec "$@"\' sh "$@" {HOME}/program.py']
    return "\n".join(lines)


def _owner() -> int:
    """The user the program runs as, whose processes the kernel counts against the process limit."""
    return NOBODY if _as_root() else os.getuid()


def _processes_of(uid: int) -> int:
    """How many processes the user already has: the kernel counts them against the same limit."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            count += any(line.split()[1:2] == [str(uid)] for line in status.read_text().splitlines()
                         if line.startswith("Uid:"))
        except OSError:
            continue
    return count


def _child_setup(limits: Limits):
    """Run in the child before the tool starts: every process inside inherits the limits."""
    nproc = _processes_of(_owner()) + limits.processes

    def apply() -> None:
        cpu = max(1, int(limits.cpu_s + 0.999))
        memory = limits.memory_mb * 2**20
        for kind, value in ((resource.RLIMIT_CPU, (cpu, cpu + 1)), (resource.RLIMIT_AS, (memory, memory)),
                            (resource.RLIMIT_NPROC, (nproc, nproc)),
                            (resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes)),
                            (resource.RLIMIT_NOFILE, (256, 256)), (resource.RLIMIT_CORE, (0, 0))):
            resource.setrlimit(kind, value)
    return apply


def _execute(command: list[str], box: Path, limits: Limits) -> Execution:
    start = time.monotonic()
    with open(box / "stdin", "rb") as stdin, open(box / "stdout", "wb") as out, open(box / "stderr", "wb") as err:
        child = subprocess.Popen(command, stdin=stdin, stdout=out, stderr=err, cwd=box / "work",
                                 env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(box / "work"), "LANG": "C.UTF-8"},
                                 preexec_fn=_child_setup(limits), start_new_session=True, close_fds=True)
        try:
            code = child.wait(timeout=limits.wall_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill_group(child.pid)
        if timed_out:
            code = child.wait()
    seconds = time.monotonic() - start
    stdout, stderr = (_read(box / name, limits.output_bytes) for name in ("stdout", "stderr"))
    cpu_killed = code in (-signal.SIGXCPU, 128 + signal.SIGXCPU, -signal.SIGKILL) and seconds >= limits.cpu_s
    status = "timeout" if timed_out or cpu_killed else "killed" if code < 0 or code > 128 else "exited"
    return Execution(status, code, stdout, stderr, round(seconds, 4))


def _hand_over(box: Path) -> None:
    """The program's user may read its program and stdin and write its scratch folder, nothing else of ours."""
    box.chmod(0o711)
    for name in ("program.py", "stdin"):
        (box / name).chmod(0o644)
    if _as_root():
        os.chown(box / "work", NOBODY, NOBODY)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read(path: Path, limit: int) -> str:
    with open(path, "rb") as f:
        return f.read(limit).decode("utf-8", errors="replace")


@lru_cache(maxsize=None)
def _works(tool: str, path: str) -> bool:
    """A tool that is installed may still be refused namespaces (a locked-down container): try it once."""
    result = Sandbox(tool, path).run("print('ok')", limits=Limits(cpu_s=5, wall_s=20))
    return result.status == "exited" and result.returncode == 0 and result.stdout.strip() == "ok"


TOOLS = (("bubblewrap", "bwrap"), ("unshare", "unshare"))


def find_sandbox(*, unsafe: bool = False, prefer: str | None = None) -> Sandbox:
    """The first isolation tool on PATH that works; without one, a refusal in one line, unless `unsafe`."""
    for tool, command in TOOLS:
        if prefer and tool != prefer:
            continue
        path = shutil.which(command)
        if path and _works(tool, path):
            return Sandbox(tool, path)
    if unsafe:
        return Sandbox("none (--unsafe-code)")
    raise SandboxError("refusing to run model-written code: no working sandbox (install bubblewrap, or allow "
                       "user namespaces for unshare); --unsafe-code runs it without one")

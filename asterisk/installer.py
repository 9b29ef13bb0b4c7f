"""Find or install the Asterisk binary the PBX runs.

Debian 12 has no Asterisk package and sid's needs a newer glibc, so nothing is installed onto the host:
apt, with a private state under ``dist_dir``, downloads asterisk and its whole library closure from sid,
``dpkg -x`` unpacks them into ``dist_dir/root`` and the binary runs through that tree's own dynamic loader.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from .errors import FALLBACK_HINT, AsteriskError

MIN_VERSION = 20
PACKAGES = ("asterisk", "asterisk-core-sounds-en-gsm", "asterisk-moh-opsound-gsm")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
MARKER = "installed.json"


@dataclass(frozen=True)
class AsteriskDist:
    """An Asterisk that can be run: the command prefix and the folders an instance's config points at."""

    argv: list[str]  # command prefix that runs the asterisk binary
    moddir: str
    datadir: str  # holds sounds/ and moh/
    version: str
    kind: str  # "system" | "managed"
    distro_etc: str  # holds the distro's indications.conf

    @property
    def sbindir(self) -> str:
        return os.path.dirname(self.argv[-1])


def version_tuple(version: str) -> tuple[int, ...]:
    """(22, 10, 1) from "22.10.1~dfsg-1", "certified/20.7-cert1" ...; () if there is no number."""
    m = re.search(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    return tuple(int(g) for g in m.groups() if g is not None) if m else ()


def _asterisk_version(argv: list[str]) -> str | None:
    try:
        out = subprocess.run([*argv, "-V"], check=False, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"Asterisk\s+(\S+)", out)
    return m.group(1) if m else None


def find_system_asterisk() -> AsteriskDist | None:
    """The ``asterisk`` on PATH if its version is >= 20, else None."""
    binary = shutil.which("asterisk")
    if not binary:
        return None
    version = _asterisk_version([binary])
    if not version or version_tuple(version)[:1] < (MIN_VERSION,):
        return None
    dirs = _system_dirs()
    moddir = dirs.get("astmoddir") or next(
        (
            str(p)
            for p in [
                *sorted(Path("/usr/lib").glob("*/asterisk/modules")),
                Path("/usr/lib/asterisk/modules"),
                Path("/usr/lib64/asterisk/modules"),
            ]
            if p.is_dir()
        ),
        "/usr/lib/asterisk/modules",
    )
    datadir = dirs.get("astdatadir") or next(
        (d for d in ("/usr/share/asterisk", "/var/lib/asterisk") if os.path.isdir(os.path.join(d, "sounds"))),
        "/var/lib/asterisk",
    )
    return AsteriskDist(
        [binary], moddir, datadir, version, "system", dirs.get("astetcdir") or "/etc/asterisk"
    )


def _system_dirs() -> dict[str, str]:
    """[directories] of the system's /etc/asterisk/asterisk.conf (Debian builds differ from source builds)."""
    try:
        text = Path("/etc/asterisk/asterisk.conf").read_text(errors="replace")
    except OSError:
        return {}
    return {k: v for k, v in re.findall(r"^\s*(ast\w+dir)\s*=>?\s*(\S+)", text, re.MULTILINE)}


def load(dist_dir: Path) -> AsteriskDist | None:
    """The Asterisk installed into ``dist_dir`` by :func:`install`, or None if there is none (no download)."""
    dist_dir = Path(dist_dir).expanduser().absolute()
    try:
        info = json.loads((dist_dir / MARKER).read_text())
    except (OSError, ValueError):
        return None
    root = dist_dir / "root"
    argv = _tree_argv(root)
    if not argv or "version" not in info:
        return None
    return AsteriskDist(
        argv=argv,
        moddir=str(Path(argv[3]) / "asterisk/modules"),
        datadir=str(root / "usr/share/asterisk"),
        version=info["version"],
        kind="managed",
        distro_etc=str(root / "etc/asterisk"),
    )


def _tree_argv(root: Path) -> list[str] | None:
    """Command prefix running an unpacked tree's asterisk through the tree's own loader and libraries."""
    loaders = sorted(root.glob("usr/lib/*-linux-gnu*/ld-linux*.so.*"))
    binary = root / "usr/sbin/asterisk"
    if not loaders or not binary.is_file():
        return None
    return [str(loaders[0]), "--inhibit-cache", "--library-path", str(loaders[0].parent), str(binary)]


def install(
    dist_dir: Path, *, progress: bool = True, force: bool = False, mirror: str | None = None
) -> AsteriskDist:
    """Return a usable Asterisk >= 20: the system one if there is one, else a private one in ``dist_dir``.

    The private one is downloaded once (asterisk, English GSM sounds, music on hold and every library it
    needs, from Debian sid) and unpacked into ``dist_dir/root``; later calls return at once. ``force``
    unpacks again, reusing the cached .debs. ``mirror`` overrides the Debian mirror the host uses.
    Raises AsteriskError with the way out when this machine cannot do it.
    """
    system = find_system_asterisk()
    if system:
        return system
    dist_dir = Path(dist_dir).expanduser().absolute()
    if not force and (dist := load(dist_dir)):
        return dist
    _preflight(dist_dir)
    with _locked(dist_dir):
        if not force and (dist := load(dist_dir)):  # another process finished it while we waited
            return dist
        return _Installer(dist_dir, mirror or host_mirror(), progress).run()


def _preflight(dist_dir: Path) -> None:
    if not (shutil.which("apt-get") and shutil.which("dpkg")):
        raise AsteriskError(
            f"No Asterisk >= {MIN_VERSION} found and it cannot be installed automatically: "
            f"this system has no apt-get/dpkg (not Debian or Ubuntu). To fix it, {FALLBACK_HINT}."
        )
    if not os.path.exists(KEYRING):
        raise AsteriskError(
            f"Cannot install Asterisk: {KEYRING} is missing. To fix it, run "
            f"'apt-get install debian-archive-keyring' as root, or {FALLBACK_HINT}."
        )
    try:
        dist_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(dist_dir, os.W_OK):
            raise PermissionError(dist_dir)
    except OSError:
        who = "root" if os.geteuid() == 0 else "a user that can write there (or root)"
        raise AsteriskError(
            f"Cannot install Asterisk: {dist_dir} is not writable. Run the install as {who}, "
            f"choose another dist folder, or {FALLBACK_HINT}."
        ) from None


@contextlib.contextmanager
def _locked(dist_dir: Path):
    with open(dist_dir / ".install.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def host_mirror() -> str:
    """The Debian mirror the host's apt already uses (Ubuntu hosts fall back to deb.debian.org)."""
    uris: list[str] = []
    with contextlib.suppress(OSError):
        text = Path("/etc/apt/sources.list.d/debian.sources").read_text()
        uris += re.findall(r"^URIs:\s*(\S+)", text, re.MULTILINE)
    with contextlib.suppress(OSError):
        text = Path("/etc/apt/sources.list").read_text()
        uris += re.findall(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.MULTILINE)
    for uri in uris:
        if "security" not in uri and "ubuntu" not in uri and uri.startswith(("http://", "https://")):
            return uri.rstrip("/")
    return DEFAULT_MIRROR


class _Installer:
    def __init__(self, dist_dir: Path, mirror: str, progress: bool):
        self.dist_dir, self.mirror = dist_dir, mirror
        self.apt = dist_dir / "apt"
        self.archives = self.apt / "cache/archives"
        self.log = self.apt / "apt.log"
        self.progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not progress,
        )

    def run(self) -> AsteriskDist:
        self._setup_apt()
        for stale in self.dist_dir.glob(".root.*"):  # left by an interrupted run
            shutil.rmtree(stale, ignore_errors=True)
        tmp = self.dist_dir / f".root.tmp-{os.getpid()}"
        try:
            with self.progress:
                debs = self._download()
                self._unpack(debs, tmp)
            en = tmp / "usr/share/asterisk/sounds/en"
            if not os.path.lexists(en) and (en.parent / "en_US_f_Allison").is_dir():
                en.symlink_to("en_US_f_Allison")  # normally made by update-alternatives in postinst
            self._swap_in(tmp, debs)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        dist = load(self.dist_dir)
        assert dist is not None
        return dist

    # -- apt -----------------------------------------------------------------------------------------
    def _setup_apt(self) -> None:
        for d in (
            "etc/apt.conf.d",
            "etc/preferences.d",
            "etc/sources.list.d",
            "state/lists/partial",
            "cache/archives/partial",
            "log",
        ):
            (self.apt / d).mkdir(parents=True, exist_ok=True)
        (self.apt / "state/status").touch()
        (self.apt / "etc/sources.list").write_text(f"deb [signed-by={KEYRING}] {self.mirror} sid main\n")
        arch = subprocess.run(
            ["dpkg", "--print-architecture"], check=False, capture_output=True, text=True
        ).stdout.strip()
        # Our own config root keeps the host's apt.conf.d out (an APT::Default-Release or update hooks there
        # would break or touch things); only its network settings (proxies) are carried over.
        host = subprocess.run(
            ["apt-config", "dump"], check=False, capture_output=True, text=True
        ).stdout.splitlines()
        carried = [ln for ln in host if re.match(r"Acquire::((https?|ftp|socks)::|Retries)", ln)]
        a = self.apt
        conf = [  # Dir::State::status is absolute by default (the host's dpkg status): set it too
            f'Dir::Etc "{a}/etc";',
            f'Dir::State "{a}/state";',
            f'Dir::State::status "{a}/state/status";',
            f'Dir::Cache "{a}/cache";',
            f'Dir::Log "{a}/log";',
            'Dir::Cache::pkgcache "";',
            'Dir::Cache::srcpkgcache "";',
            f'APT::Architecture "{arch}";',
            f'APT::Architectures {{ "{arch}"; }};',
            'APT::Install-Recommends "false";',
            'APT::Install-Suggests "false";',
            'Debug::NoLocking "true";',
            'Acquire::Check-Valid-Until "false";',
            'Acquire::Check-Date "false";',
            'Acquire::Languages "none";',
            'Acquire::GzipIndexes "true";',
            *carried,
        ]
        if os.geteuid() == 0:  # the _apt sandbox user cannot enter e.g. /root/.local: don't try
            conf.append('APT::Sandbox::User "root";')
        (self.apt / "etc/apt.conf").write_text("\n".join(conf) + "\n")
        self.log.write_text("")

    def _apt_get(self, *args: str, task=None) -> str:
        """Run apt-get on the private state; feed its Status-Fd percentages to a progress task."""
        r, w = os.pipe()
        env = {**os.environ, "APT_CONFIG": str(self.apt / "etc/apt.conf"), "LC_ALL": "C.UTF-8"}
        with open(self.log, "a") as log:
            log.write(f"$ apt-get {' '.join(args)}\n")
            log.flush()
            try:
                proc = subprocess.Popen(
                    ["apt-get", "-o", f"APT::Status-Fd={w}", *args],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    pass_fds=(w,),
                    env=env,
                )
            finally:
                os.close(w)
        out: list[str] = []
        with open(r) as status:
            # stdout is read on a thread so that neither pipe can fill up and block apt
            reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
            reader.start()
            for line in status:
                kind, _, rest = line.partition(":")
                parts = rest.split(":", 2)
                if task is not None and kind in ("dlstatus", "pmstatus") and len(parts) == 3:
                    with contextlib.suppress(ValueError):
                        self.progress.update(task, completed=float(parts[1]))
            reader.join()
        rc = proc.wait()
        with open(self.log, "a") as log:
            log.writelines(out)
        if rc != 0:
            raise self._download_error()
        return "".join(out)

    def _download_error(self) -> AsteriskError:
        lines = [ln.strip() for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        fetch = [ln.removeprefix("W: ") for ln in lines if "Failed to fetch" in ln]
        errors = [ln for ln in lines if ln.startswith(("E:", "Err:"))] or lines or ["apt-get failed"]
        return AsteriskError(
            f"Downloading Asterisk from {self.mirror} failed ({fetch[0] if fetch else errors[-1]}). "
            f"Check that this machine can reach the mirror (log: {self.log}), or {FALLBACK_HINT}."
        )

    def _download(self) -> list[str]:
        """Download the packages (cached .debs are reused) and return their file names in unpack order."""
        lists = self.apt / "state/lists"
        task = self.progress.add_task("Downloading package lists", total=100)
        if not any(lists.glob("*Packages*")):
            self._apt_get("-q", "update", task=task)
            if not any(lists.glob("*Packages*")):  # apt-get update only warns when the mirror is unreachable
                raise self._download_error()
        self.progress.update(task, completed=100)
        debs = self._plan()
        missing = [d for d in debs if not (self.archives / d).exists()]
        if missing:
            task = self.progress.add_task(f"Downloading {len(missing)} packages", total=100)
            try:
                self._apt_get("-q", "-y", "--download-only", "install", *PACKAGES, task=task)
            except AsteriskError:  # sid moved on since our lists were fetched (404s): refresh them once
                self._apt_get("-q", "update")
                debs = self._plan()
                self._apt_get("-q", "-y", "--download-only", "install", *PACKAGES, task=task)
            self.progress.update(task, completed=100)
        missing = [d for d in debs if not (self.archives / d).exists()]
        if missing:
            raise AsteriskError(
                f"Downloading Asterisk from {self.mirror} failed ({missing[0]} is missing after "
                f"the download; log: {self.log}). Try again, or {FALLBACK_HINT}."
            )
        for old in {p.name for p in self.archives.glob("*.deb")} - set(debs):
            (self.archives / old).unlink()  # superseded versions: keep the cache from growing as sid moves
        return sorted(debs)

    def _plan(self) -> list[str]:
        """The .deb file names apt would install into an empty system: asterisk plus its whole closure."""
        out = self._apt_get("-q", "-s", "install", *PACKAGES)
        plan = re.findall(r"^Inst (\S+) (?:\[\S+\] )?\((\S+) .*?\[([^\]]+)\]", out, re.MULTILINE)
        if not plan:
            raise AsteriskError(
                f"Cannot install Asterisk: apt found no asterisk package in sid at {self.mirror} "
                f"(log: {self.log}). Check the mirror, or {FALLBACK_HINT}."
            )
        return [f"{name}_{ver.replace(':', '%3a')}_{arch}.deb" for name, ver, arch in plan]

    # -- unpack ------------------------------------------------------------------------------------------
    def _unpack(self, debs: list[str], dest: Path) -> None:
        dest.mkdir(parents=True)
        task = self.progress.add_task(f"Unpacking {len(debs)} packages", total=len(debs))
        for deb in debs:
            res = subprocess.run(
                ["dpkg", "-x", str(self.archives / deb), str(dest)],
                check=False,
                capture_output=True,
                text=True,
            )
            if res.returncode != 0:
                (self.archives / deb).unlink(missing_ok=True)  # most likely a damaged download
                raise AsteriskError(
                    f"Cannot unpack {deb}: {res.stderr.strip()[-200:]}. Run the install again "
                    f"(the file will be downloaded anew), or {FALLBACK_HINT}."
                )
            self.progress.advance(task)

    def _swap_in(self, tmp: Path, debs: list[str]) -> None:
        """Verify the new tree, then replace the old one with it; the marker is written last."""
        marker = self.dist_dir / MARKER
        argv = _tree_argv(tmp)
        version = _asterisk_version(argv) if argv else None
        if not version or version_tuple(version)[:1] < (MIN_VERSION,):
            raise AsteriskError(
                f"The downloaded Asterisk does not run on this machine (version: {version}). "
                f"To fix it, {FALLBACK_HINT}."
            )
        marker.unlink(missing_ok=True)
        root, old = self.dist_dir / "root", self.dist_dir / f".root.old-{os.getpid()}"
        if root.exists():
            root.rename(old)
        tmp.rename(root)
        shutil.rmtree(old, ignore_errors=True)
        info = {
            "version": version,
            "mirror": self.mirror,
            "debs": debs,
            "installed_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        part = marker.with_suffix(".tmp")
        part.write_text(json.dumps(info, indent=1) + "\n")
        part.replace(marker)

"""A private PostgreSQL cluster for the outage scenario, so the shared server is never touched.

initdb into a temporary folder (as the postgres user when run as root), listen on 127.0.0.1 at a
free port with the socket in that folder, and stop, start or restart it on demand.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import tempfile
from pathlib import Path

PREFERRED_PORT = 55432


def binaries() -> Path | None:
    """The newest PostgreSQL server binaries on this machine, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable() -> str | None:
    """Why a private cluster cannot be made here, or None when it can."""
    if binaries() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to switch to the postgres user"
    return None


def _port(*, preferred: bool = True) -> int:
    for port in (PREFERRED_PORT, 0) if preferred else (0,):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")


class PrivatePostgres:
    """One throwaway cluster: start(), url(), outage controls, destroy()."""

    def __init__(self) -> None:
        """Choose the binaries and a port; nothing runs until start()."""
        found = binaries()
        if found is None:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.bin = found
        self.port = _port()
        self.folder = Path(tempfile.mkdtemp(prefix="eap-chaos-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"

    async def _run(self, *args: str, check: bool = True) -> str:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=self.folder,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        text = output.decode(errors="replace")
        if check and process.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {text[-1500:]}")
        return text

    async def start(self) -> None:
        """initdb (first time) and start the server; wait until it accepts connections."""
        if not self.data.exists():
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
            os.chmod(self.folder, 0o700)
            await self._run(
                "initdb",
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            )
        for attempt in range(3):
            try:
                await self.up()
                return
            except RuntimeError as error:
                # Another process may have taken the port between choosing and binding it.
                tail = self.log.read_text(errors="replace")[-800:] if self.log.exists() else ""
                if attempt == 2:
                    raise RuntimeError(f"{error}\nserver log:\n{tail}") from None
                self.port = _port(preferred=False)

    async def up(self) -> None:
        """Start the stopped server."""
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=100"
        )
        await self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    async def down(self, mode: str = "fast") -> None:
        """Stop the server (`immediate` is a crash: no checkpoint, recovery at the next start)."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    async def restart(self) -> None:
        """pg_ctl restart (fast shutdown, then start)."""
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=100"
        )
        await self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
        )

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database on this cluster."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    async def create_database(self, name: str) -> str:
        """Create a database; its URL."""
        from sqlalchemy import text

        from storage.db import create_engine

        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await engine.dispose()
        return self.url(name)

    async def destroy(self) -> None:
        """Stop the server (if running) and delete the cluster."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

"""A real `chroma run` server on 127.0.0.1 for the tests that cover server mode."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fake_llm import free_port


class ChromaServer:
    """Starts `chroma run --path DIR --host 127.0.0.1 --port N` and waits for its heartbeat."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ChromaServer:
        self.start()
        return self

    def start(self) -> None:
        """Start the server (again, on the same path and port) and wait for its heartbeat."""
        exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        self._proc = subprocess.Popen(
            [exe, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self._proc.returncode}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("chroma run did not answer its heartbeat within 60 s")

    def kill(self) -> None:
        """SIGKILL the server, as a crash or an operator's `kill -9` would."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=30)
            self._proc = None

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None

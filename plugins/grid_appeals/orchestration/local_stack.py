"""A real local Airflow deployment as child processes: api-server + scheduler + dag-processor.

Why this exists (and not just ``airflow standalone``): in Airflow 3 a task process reports to the
*Execution API* served by the api-server, so a bare scheduler queues task instances that never run.
Tests, benches and operators on a shared 2-core box also need what ``standalone`` does not give:
ports picked free and bound to 127.0.0.1 (several sessions may run a stack side by side), one log
file per component (so a failure can quote the scheduler's log tail), a clean stop of every child
in a finalizer, and optionally no time-based scheduling (``schedule=False`` →
``[scheduler] use_job_schedule = False``): the scheduler still runs backfill and manual runs, but
unpausing a catchup DAG does not start catching up from ``GRID_START_DATE``.

LocalExecutor with SQLite metadata is the supported local combination in Airflow 3 (there is no
SequentialExecutor any more); parallelism stays at the low values of ``airflow_env``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grid_appeals.airflow_command import airflow_executable
from grid_appeals.airflow_env import airflow_environment
from grid_appeals.config import Settings, settings
from grid_appeals.orchestration.sqlite_metadata import enable_wal

COMPONENTS = ("api-server", "scheduler", "dag-processor")
STATE_FILE = "local_stack.json"


class StackError(RuntimeError):
    """The stack did not come up (or a wait on it timed out); the message carries the log tails."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host`` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _component_argv(name: str, env: dict[str, str]) -> list[str]:
    exe = airflow_executable()
    if name == "api-server":
        return [
            exe,
            "api-server",
            "--host",
            env["AIRFLOW__API__HOST"],
            "--port",
            env["AIRFLOW__API__PORT"],
            "--workers",
            env.get("AIRFLOW__API__WORKERS", "1"),
        ]
    return [exe, name]


@dataclass
class LocalStack:
    """One running (or startable) local Airflow deployment for ``cfg``'s prefix and AIRFLOW_HOME.

    ``api_port=0`` picks a free port; the scheduler's log server port is always picked free so two
    stacks on one machine never collide on 8793.
    """

    cfg: Settings = field(default_factory=settings)
    schedule: bool = True
    api_port: int = 0
    components: Sequence[str] = COMPONENTS
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict, init=False, repr=False)
    env: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    # ---- where things are ------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return Path(self.env.get("AIRFLOW_HOME") or self.cfg.airflow_home)

    @property
    def log_dir(self) -> Path:
        return self.home / "stack-logs"

    @property
    def api_url(self) -> str:
        return f"http://{self.env['AIRFLOW__API__HOST']}:{self.env['AIRFLOW__API__PORT']}"

    def environment(self) -> dict[str, str]:
        """The env every component and every ``airflow`` CLI call of this stack uses."""
        if self.env:
            return self.env
        port = self.api_port or free_port()
        base = {k: v for k, v in os.environ.items() if k != "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"}
        # host/port go in as the "operator's" values so airflow_env derives the Execution API URL
        # (the address task processes report to) from them, exactly as for any other deployment
        base.update({"AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(port)})
        env = airflow_environment(self.cfg, base=base)
        env.update(
            {
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}/",
                # never the fixed 8793/8794: another session's stack may hold them
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(self.schedule),
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            }
        )
        env.update(self.extra_env)
        self.env = env
        return env

    # ---- airflow CLI -----------------------------------------------------------------------
    def airflow(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run ``airflow <args>`` with this stack's environment; raise with its output on failure."""
        proc = subprocess.run(
            [airflow_executable(), *args],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise StackError(
                f"airflow {' '.join(args)} exited {proc.returncode}:\n"
                f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
            )
        return proc

    def reset_metadata(self) -> None:
        """Start from an empty SQLite metadata DB (no runs or backfills left from an earlier stack)."""
        conn = self.environment()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        if not conn.startswith("sqlite:///"):
            raise StackError(
                "reset_metadata only drops a SQLite metadata DB; use `airflow db reset` yourself"
            )
        if self.procs:
            raise StackError("stop the stack before resetting its metadata DB")
        db = Path(conn.removeprefix("sqlite:///"))
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            path.unlink(missing_ok=True)  # a stale WAL next to a new file would corrupt it
        # task logs of the forgotten runs: a new run with the same id would append to them
        shutil.rmtree(self.environment()["AIRFLOW__LOGGING__BASE_LOG_FOLDER"], ignore_errors=True)

    # ---- lifecycle -------------------------------------------------------------------------
    def start(
        self, *, wait_for_dags: Iterable[str] = (), timeout: float = 240, wait: bool = True
    ) -> LocalStack:
        """Migrate the metadata DB, spawn the components and (``wait``) wait until they are healthy
        and ``wait_for_dags`` are parsed. ``wait=False`` lets the caller prepare data meanwhile and
        call ``wait_ready`` itself."""
        env = self.environment()
        if not port_is_free(int(env["AIRFLOW__API__PORT"])):
            raise StackError(f"port {env['AIRFLOW__API__PORT']} is in use; pick another (0 = any free one)")
        self.airflow("db", "migrate")
        enable_wal(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for name in self.components:
                log = (self.log_dir / f"{name}.log").open("ab")
                # own session → own process group: stop() signals the component and its workers only
                self.procs[name] = subprocess.Popen(
                    _component_argv(name, env),
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
                log.close()
            self._write_state()
            if wait:
                self.wait_ready(wait_for_dags=wait_for_dags, timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def health(self) -> dict[str, Any] | None:
        """The api-server's ``/api/v2/monitor/health`` document, or None while it is not answering."""
        try:
            with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=5) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise StackError(f"Airflow component(s) exited: {dead}\n{self.log_tail()}")

    def wait_ready(self, *, wait_for_dags: Iterable[str] = (), timeout: float = 240) -> None:
        """Block until api-server, scheduler and dag-processor report healthy and ``wait_for_dags``
        are serialized (a backfill needs the serialized DAG)."""
        deadline = time.monotonic() + timeout
        want = set(wait_for_dags)
        need = {"scheduler"} & set(self.components) | {"dag_processor"} & {
            c.replace("-", "_") for c in self.components
        }
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            self.check_alive()
            last = self.health()
            healthy = last is not None and all(last.get(n, {}).get("status") == "healthy" for n in need)
            if healthy and (not want or want <= set(self.serialized_dags())):
                return
            time.sleep(2)
        raise StackError(
            f"stack not ready after {timeout:.0f}s (health={last}, waiting for DAGs "
            f"{sorted(want)})\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every component's process group, SIGKILL what is left after ``timeout``."""
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(proc.pid, signal.SIGKILL)  # leftover task workers of the group, if any
            proc.wait()
        self.procs.clear()
        (self.home / STATE_FILE).unlink(missing_ok=True)

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _write_state(self) -> None:
        state = {
            "pids": {n: p.pid for n, p in self.procs.items()},
            "api_url": self.api_url,
            "log_dir": str(self.log_dir),
            "schedule": self.schedule,
        }
        (self.home / STATE_FILE).write_text(json.dumps(state, indent=1))

    # ---- observation -----------------------------------------------------------------------
    def log_tail(self, lines: int = 40, components: Iterable[str] | None = None) -> str:
        """Last ``lines`` lines of each component's log, for failure messages."""
        out = []
        for name in components or self.components:
            path = self.log_dir / f"{name}.log"
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else ["(no log)"]
            out.append(f"--- {name} log tail ({path}) ---\n" + "\n".join(text))
        return "\n".join(out)

    def metadata_query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Read Airflow's metadata DB (whatever SQL_ALCHEMY_CONN points at) — cheap enough to poll,
        unlike an ``airflow`` CLI process per poll on 2 cores."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.environment()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        try:
            with engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(text(sql), params)]
        finally:
            engine.dispose()

    def serialized_dags(self) -> list[str]:
        try:
            return [r["dag_id"] for r in self.metadata_query("select distinct dag_id from serialized_dag")]
        except Exception:  # table not there yet while migrating
            return []


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # pid == pgid: each component was started in its own session


def stop_recorded(cfg: Settings | None = None, timeout: float = 30) -> list[str]:
    """Stop a stack started by another command (``grid-appeals stack start``) from its state file.

    Only process groups whose leader still runs an ``airflow`` command are signalled, so a reused
    pid is never hit. Returns the stopped component names.
    """
    cfg = cfg or settings()
    path = Path(airflow_environment(cfg)["AIRFLOW_HOME"]) / STATE_FILE
    if not path.exists():
        return []
    pids: dict[str, int] = json.loads(path.read_text())["pids"]
    live = {n: pid for n, pid in pids.items() if _is_airflow_process(pid)}
    for pid in live.values():
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_is_airflow_process(p) for p in live.values()):
        time.sleep(0.5)
    for pid in live.values():
        _signal_group(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return sorted(live)


def recorded_state(cfg: Settings | None = None) -> dict[str, Any] | None:
    """The state file of a stack started in this AIRFLOW_HOME, with liveness and API health."""
    path = Path(airflow_environment(cfg or settings())["AIRFLOW_HOME"]) / STATE_FILE
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    state["alive"] = {n: _is_airflow_process(pid) for n, pid in state["pids"].items()}
    state["running"] = all(state["alive"].values())
    try:
        with urllib.request.urlopen(f"{state['api_url']}/api/v2/monitor/health", timeout=5) as resp:
            state["health"] = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        state["health"] = None
    return state


def _is_airflow_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    zombie = stat.rsplit(")", 1)[-1].split()[0] == "Z"
    return not zombie and any(b"airflow" in part for part in cmdline[:2])

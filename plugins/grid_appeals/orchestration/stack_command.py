"""``grid-appeals stack start|stop|status``: the local Airflow stack (see ``local_stack``).

``start`` returns once api-server, scheduler and dag-processor are healthy and leaves them running
in the background (``--foreground`` keeps them attached until Ctrl-C, which is what
``make airflow`` uses); ``stop`` ends exactly the process groups ``start`` recorded.
"""

from __future__ import annotations

import argparse
import json
import time

DEFAULT_PORT = 8080


def _start(args: argparse.Namespace) -> int:
    from grid_appeals.orchestration.local_stack import LocalStack, port_is_free

    port = args.port if args.port is not None else (DEFAULT_PORT if port_is_free(DEFAULT_PORT) else 0)
    stack = LocalStack(schedule=not args.no_schedule, api_port=port)
    stack.start(wait_for_dags=args.wait_for_dag or ())
    print(f"Airflow stack up: UI/API {stack.api_url}  (AIRFLOW_HOME {stack.home})")
    print(
        f"  logs: {stack.log_dir}; UI login: admin, password in {stack.home}/simple_auth_manager_passwords.json.generated"
    )
    print(
        "  time-based scheduling: "
        + (
            "on (unpausing a DAG catches up from GRID_START_DATE)"
            if stack.schedule
            else "off (backfills and manual runs only)"
        )
    )
    if not args.foreground:
        print("  stop with: grid-appeals stack stop")
        return 0
    try:
        while True:
            stack.check_alive()
            time.sleep(2)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def _stop(args: argparse.Namespace) -> int:
    from grid_appeals.orchestration.local_stack import stop_recorded

    stopped = stop_recorded()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _status(args: argparse.Namespace) -> int:
    from grid_appeals.orchestration.local_stack import recorded_state

    state = recorded_state()
    print(json.dumps(state, indent=1) if state else "no stack recorded for this AIRFLOW_HOME")
    return 0 if state and state.get("running") else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stack", help="local Airflow stack: api-server + scheduler + dag-processor")
    s = p.add_subparsers(dest="stack_command", required=True)
    start = s.add_parser("start", help="start and wait until healthy")
    start.add_argument(
        "--port",
        type=int,
        help=f"API/UI port on 127.0.0.1 (default {DEFAULT_PORT}, or a free one if taken; 0 = any free port)",
    )
    start.add_argument(
        "--no-schedule",
        action="store_true",
        help="no time-based runs ([scheduler] use_job_schedule=False): backfills/manual runs only",
    )
    start.add_argument(
        "--wait-for-dag", action="append", help="also wait until this DAG is parsed (repeatable)"
    )
    start.add_argument("--foreground", action="store_true", help="stay attached; Ctrl-C stops the stack")
    start.set_defaults(func=_start)
    s.add_parser("stop", help="stop the stack recorded in AIRFLOW_HOME").set_defaults(func=_stop)
    s.add_parser("status", help="recorded pids/URL and the API health").set_defaults(func=_status)

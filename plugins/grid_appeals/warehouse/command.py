"""``grid-appeals warehouse start|stop|status|bootstrap|url``."""

from __future__ import annotations

import argparse

from grid_appeals.config import settings


def _run(args: argparse.Namespace) -> int:
    from grid_appeals.warehouse import embedded
    from grid_appeals.warehouse.bootstrap import bootstrap

    cfg = settings()
    if args.action == "start":
        if cfg.embedded:
            print(f"embedded warehouse running, socket dir {embedded.start(cfg.pgdata)}")
        else:
            print("external warehouse configured (GRID_WAREHOUSE_URL); nothing to start")
    elif args.action == "stop":
        if cfg.embedded:
            print("stopped embedded warehouse" if embedded.stop(cfg.pgdata) else "embedded warehouse not running")
        else:
            print("external warehouse configured; not stopping it")
    elif args.action == "status":
        state = "running" if embedded.is_running(cfg.pgdata) else "stopped"
        print(f"embedded: {cfg.embedded}; embedded server {state}; data dir {cfg.pgdata}")
    elif args.action == "bootstrap":
        print(bootstrap(cfg))
    elif args.action == "url":
        print(cfg.url(args.db))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("warehouse", help="start/stop/bootstrap the warehouse")
    p.add_argument("action", choices=["start", "stop", "status", "bootstrap", "url"])
    p.add_argument("--db", default="warehouse", help="for url: warehouse, src_95598, src_marketing")
    p.set_defaults(func=_run)

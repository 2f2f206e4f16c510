from pathlib import Path

from grid_appeals.airflow_env import airflow_environment, connection_json
from grid_appeals.config import Settings
from grid_appeals.orchestration.connections import libpq_params


def test_database_names_follow_prefix(tmp_path: Path) -> None:
    cfg = Settings(
        warehouse_url="postgresql://u:p@db.example:6543/postgres", db_prefix="abc", var_dir=tmp_path
    )
    assert cfg.db_name("warehouse") == "abc_warehouse"
    assert cfg.db_name("src_95598") == "abc_src_95598"
    assert cfg.url("src_marketing") == "postgresql://u:p@db.example:6543/abc_src_marketing"
    assert not cfg.embedded


def test_airflow_env_points_at_project_and_warehouse(tmp_path: Path) -> None:
    cfg = Settings(
        warehouse_url="postgresql://u:p%40ss@db.example:6543/postgres", db_prefix="abc", var_dir=tmp_path
    )
    env = airflow_environment(cfg, base={})
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert int(env["AIRFLOW__CORE__PARALLELISM"]) <= 4
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:///")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("/dags")
    # the JWT secret is generated per install, not a constant from the repo
    assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 32
    assert (cfg.airflow_home / ".jwt_secret").exists()
    conn = connection_json(cfg.url())
    assert '"password": "p@ss"' in conn and '"schema": "abc_warehouse"' in conn


def test_operator_connection_overrides_default(tmp_path: Path, monkeypatch) -> None:
    cfg = Settings(warehouse_url=None, db_prefix="abc", var_dir=tmp_path)
    monkeypatch.setenv("AIRFLOW_CONN_SRC_95598", "postgresql://reader:secret@oracle-gw.internal:5433/sg95598")
    params = libpq_params("src_95598", cfg=cfg)
    assert params == {
        "host": "oracle-gw.internal",
        "port": 5433,
        "user": "reader",
        "password": "secret",
        "dbname": "sg95598",
    }
    env = airflow_environment(cfg, base={"AIRFLOW_CONN_SRC_95598": "x"})
    assert env["AIRFLOW_CONN_SRC_95598"] == "x"

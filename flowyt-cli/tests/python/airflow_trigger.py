"""Drives flowyt's Airflow-compatible API with the official `apache-airflow-client` (Airflow 3).

Usage: airflow_trigger.py (named so it does not shadow the `airflow_client` package) BASE_URL TOKEN

Fails (non-zero exit, with a traceback) at the first answer that differs from what an Airflow
user would get; prints `ok` and a JSON summary when every step passed.
"""

import json
import sys
import time
import urllib.request

import airflow_client.client as airflow
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api.version_api import VersionApi
from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody
from airflow_client.client.rest import ApiException

base, token = sys.argv[1], sys.argv[2]

# Airflow's token exchange, as scripts do it before building the client.
exchange = urllib.request.Request(
    f"{base}/auth/token",
    data=json.dumps({"username": "admin", "password": token}).encode(),
    headers={"Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(exchange) as answer:
    assert answer.status == 201, answer.status
    access_token = json.load(answer)["access_token"]

config = airflow.Configuration(host=base, access_token=access_token)
summary = {}
with airflow.ApiClient(config) as client:
    summary["version"] = VersionApi(client).get_version().version

    dags = DAGApi(client).get_dags(limit=100)
    ids = [d.dag_id for d in dags.dags]
    assert "github.stars" in ids, ids
    assert dags.total_entries == len(ids), (dags.total_entries, ids)
    page = DAGApi(client).get_dags(limit=1, offset=1)
    assert [d.dag_id for d in page.dags] == ids[1:2] and page.total_entries == len(ids)
    tagged = DAGApi(client).get_dags(tags=["github"])
    assert {d.dag_id for d in tagged.dags} == {i for i in ids if i.startswith("github.")}
    summary["dags"] = ids

    dag = DAGApi(client).get_dag("github.stars")
    assert dag.dag_id == "github.stars" and not dag.is_paused and dag.tags[0].name == "github"

    runs = DagRunApi(client)
    triggered = runs.trigger_dag_run(
        "github.stars",
        TriggerDAGRunPostBody(
            dag_run_id="airflow-client-1",
            logical_date="2026-12-07T10:00:00Z",
            conf={"user": "octocat"},
        ),
    )
    assert triggered.dag_run_id == "airflow-client-1"
    assert triggered.state.value in ("queued", "running", "success"), triggered.state
    assert triggered.run_type.value == "manual"
    assert triggered.logical_date.isoformat().startswith("2026-12-07T10:00:00"), triggered.logical_date

    deadline = time.time() + 30
    while True:
        run = runs.get_dag_run("github.stars", "airflow-client-1")
        if run.state.value in ("success", "failed"):
            break
        assert time.time() < deadline, f"the run did not end: {run.state}"
        time.sleep(0.1)
    assert run.state.value == "success", run
    assert run.conf == {"user": "octocat"}, run.conf
    assert run.start_date is not None and run.end_date is not None and run.duration >= 0

    # A second run without an id or logical date: the server names it.
    second = runs.trigger_dag_run("github.stars", TriggerDAGRunPostBody(conf={}))
    assert second.dag_run_id and second.logical_date is None

    listed = runs.get_dag_runs("github.stars", limit=1)
    assert listed.total_entries == 2, listed.total_entries
    assert len(listed.dag_runs) == 1 and listed.dag_runs[0].dag_run_id == second.dag_run_id
    done = runs.get_dag_runs("github.stars", state=["success"], limit=10)
    assert "airflow-client-1" in [r.dag_run_id for r in done.dag_runs]

    tasks = TaskInstanceApi(client).get_task_instances("github.stars", "airflow-client-1")
    assert [t.task_id for t in tasks.task_instances] == ["fetch", "answer"], tasks
    assert all(t.state.value == "success" for t in tasks.task_instances)
    assert tasks.task_instances[0].operator == "request"
    summary["tasks"] = [t.task_id for t in tasks.task_instances]

    def refused(call, status, *words):
        try:
            call()
        except ApiException as e:
            assert e.status == status, (e.status, e.body)
            for w in words:
                assert w in e.body, (w, e.body)
            return json.loads(e.body)["detail"]
        raise AssertionError(f"expected {status}")

    summary["bad_conf"] = refused(
        lambda: runs.trigger_dag_run("github.stars", TriggerDAGRunPostBody(conf={"user": 7})),
        400, "user")
    summary["duplicate"] = refused(
        lambda: runs.trigger_dag_run(
            "github.stars", TriggerDAGRunPostBody(dag_run_id="airflow-client-1", conf={})),
        409, "airflow-client-1")
    summary["unknown_dag"] = refused(lambda: DAGApi(client).get_dag("github.nope"), 404, "github.nope")
    summary["unknown_run"] = refused(lambda: runs.get_dag_run("github.stars", "nope"), 404, "nope")
    summary["unknown_field"] = refused(
        lambda: runs.trigger_dag_run(
            "github.stars", TriggerDAGRunPostBody.from_dict({"logical_date": None, "conf": {}, "x": 1})),
        400, "x")

# A wrong token is refused.
bad = airflow.Configuration(host=base, access_token="wrong")
with airflow.ApiClient(bad) as client:
    try:
        DAGApi(client).get_dags()
        raise AssertionError("a wrong token was accepted")
    except ApiException as e:
        assert e.status == 401, e.status

print("ok")
print(json.dumps(summary))

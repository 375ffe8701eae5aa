//! The Airflow REST API's shapes (`DAGResponse`, `DAGRunResponse`, `TaskInstanceResponse`)
//! built from flowyt's workspaces, flows and run records, and the ISO-8601 dates they carry.

use crate::Workspace;
use crate::runs::{RunRecord, RunStatus, iso8601};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The DAG id of flow `flow` of workspace `ws`: `<workspace>.<flow>`.
pub(crate) fn dag_id(ws: &str, flow: &str) -> String {
    format!("{ws}.{flow}")
}

/// A flow's display name: its `name` when it is a non-empty string, else its key.
pub(crate) fn display_name(ws: &Workspace, flow: &str) -> String {
    ws.flow_model(flow)
        .and_then(|f| f.name.as_str())
        .filter(|n| !n.is_empty())
        .map_or_else(|| flow.to_string(), str::to_string)
}

/// `DAGResponse` of flow `flow` of `ws`.
pub(crate) fn dag(ws: &Workspace, flow: &str) -> Value {
    let id = dag_id(ws.name(), flow);
    let display = display_name(ws, flow);
    let model = ws.flow_model(flow);
    let schedule = model
        .and_then(|f| f.schedule.as_ref())
        .map(|s| s.to_string());
    let relative = format!("flows/{flow}.json");
    json!({
        "dag_id": id,
        "dag_display_name": display,
        "description": model.and_then(|f| f.name.as_str()).filter(|n| !n.is_empty()),
        "is_paused": false,
        "is_stale": false,
        "is_backfillable": false,
        "has_import_errors": false,
        "has_task_concurrency_limits": false,
        "bundle_name": ws.name(),
        "bundle_version": null,
        "relative_fileloc": relative,
        "fileloc": format!("{}/{relative}", ws.name()),
        "file_token": id,
        "last_parsed_time": null,
        "last_expired": null,
        "last_parse_duration": null,
        "max_active_tasks": 1,
        "max_active_runs": null,
        "max_consecutive_failed_dag_runs": 0,
        "next_dagrun_logical_date": null,
        "next_dagrun_data_interval_start": null,
        "next_dagrun_data_interval_end": null,
        "next_dagrun_run_after": null,
        "owners": [],
        "tags": [{"name": ws.name(), "dag_id": id, "dag_display_name": display}],
        "timetable_summary": schedule,
        "timetable_description": schedule.as_ref().map(|s| format!("flowyt schedule `{s}` (UTC)")),
        "timetable_periodic": schedule.is_some(),
        "timetable_partitioned": false,
        "allowed_run_types": ["manual", "scheduled"],
    })
}

/// The Airflow state of a run: `cancelled` has no Airflow name and shows as `failed` (the
/// run did not succeed).
pub(crate) fn state(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => "queued",
        RunStatus::Running => "running",
        RunStatus::Success => "success",
        RunStatus::Failed | RunStatus::Cancelled => "failed",
    }
}

/// A run's type: `scheduled` for a schedule's tick (its id says so), else `manual`.
fn run_type(run: &RunRecord) -> &'static str {
    if run.run_id.starts_with("scheduled__") {
        "scheduled"
    } else {
        "manual"
    }
}

fn date(secs: Option<f64>) -> Value {
    secs.map_or(Value::Null, |s| Value::String(iso8601(s)))
}

/// `DAGRunResponse` of `run` (`display` is the DAG's display name). A failed or cancelled
/// run's error is its `note`.
pub(crate) fn dag_run(run: &RunRecord, display: &str) -> Value {
    let duration = match (run.started_at, run.ended_at) {
        (Some(s), Some(e)) => json!((e - s).max(0.0)),
        _ => Value::Null,
    };
    let conf = match &run.conf {
        Value::Object(_) => run.conf.clone(),
        _ => Value::Null,
    };
    json!({
        "dag_id": dag_id(&run.workspace, &run.flow),
        "dag_display_name": display,
        "dag_run_id": run.run_id,
        "state": state(run.status),
        "run_type": run_type(run),
        "triggered_by": if run_type(run) == "scheduled" { "timetable" } else { "rest_api" },
        "run_after": date(Some(run.logical_date.unwrap_or(run.queued_at))),
        "logical_date": date(run.logical_date),
        "queued_at": date(Some(run.queued_at)),
        "start_date": date(run.started_at),
        "end_date": date(run.ended_at),
        "duration": duration,
        "data_interval_start": null,
        "data_interval_end": null,
        "last_scheduling_decision": null,
        "conf": conf,
        "note": run.error,
        "dag_versions": [],
        "bundle_version": null,
        "triggering_user_name": null,
    })
}

/// One executed action of a run, as a task instance.
struct Executed<'a> {
    task_id: String,
    kind: &'a str,
    time_spent: Option<f64>,
}

/// The actions a run executed, in order: from its trace once it ended, from its checkpoint's
/// progress while it runs. An action of a flow the run jumped to is `<flow id>.<action id>`.
fn executed(run: &RunRecord) -> Vec<Executed<'_>> {
    let flows = run
        .trace
        .as_ref()
        .and_then(|t| t.get("flows"))
        .and_then(Value::as_array);
    let Some(flows) = flows else {
        return run
            .progress
            .iter()
            .map(|id| Executed {
                task_id: id.clone(),
                kind: "",
                time_spent: None,
            })
            .collect();
    };
    let mut out = Vec::new();
    for (i, flow) in flows.iter().enumerate() {
        let prefix = match flow.get("id") {
            _ if i == 0 => None,
            Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
            _ => Some(format!("flow{i}")),
        };
        for action in flow
            .get("actions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = match action.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => continue,
            };
            out.push(Executed {
                task_id: match &prefix {
                    Some(p) => format!("{p}.{id}"),
                    None => id,
                },
                kind: action.get("name").and_then(Value::as_str).unwrap_or(""),
                time_spent: action.get("time_spent").and_then(Value::as_f64),
            });
        }
    }
    out
}

/// A stable UUID for a task instance (the same run and task give the same id on every
/// instance of a cluster).
fn task_uuid(run: &RunRecord, task_id: &str, map_index: i64) -> String {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        (
            salt,
            &run.workspace,
            &run.flow,
            &run.run_id,
            task_id,
            map_index,
        )
            .hash(&mut h);
        h.finish()
    };
    let bits = (u128::from(half(1)) << 64) | u128::from(half(2));
    uuid::Builder::from_custom_bytes(bits.to_be_bytes())
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// `TaskInstanceResponse`s of `run`: one per executed action, all `success` (an action that
/// failed ends the run, whose state and note tell). An action executed several times (a loop,
/// a repeated jump) has one instance per execution, `map_index` 0, 1, …; once, `map_index` -1.
pub(crate) fn task_instances(run: &RunRecord, display: &str) -> Vec<Value> {
    let executed = executed(run);
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for e in &executed {
        *counts.entry(e.task_id.as_str()).or_default() += 1;
    }
    let mut seen: HashMap<&str, i64> = HashMap::new();
    let state = match run.status {
        RunStatus::Queued => "queued",
        _ => "success",
    };
    let mut out = Vec::with_capacity(executed.len());
    for e in &executed {
        let id = e.task_id.as_str();
        let map_index = if counts.get(id).is_some_and(|n| *n > 1) {
            let n = seen.entry(id).or_default();
            *n += 1;
            *n - 1
        } else {
            -1
        };
        out.push(json!({
            "id": task_uuid(run, &e.task_id, map_index),
            "task_id": e.task_id,
            "task_display_name": e.task_id,
            "dag_id": dag_id(&run.workspace, &run.flow),
            "dag_display_name": display,
            "dag_run_id": run.run_id,
            "map_index": map_index,
            "rendered_map_index": null,
            "logical_date": date(run.logical_date),
            "run_after": date(Some(run.logical_date.unwrap_or(run.queued_at))),
            "start_date": null,
            "end_date": null,
            "duration": e.time_spent,
            "state": state,
            "try_number": run.attempts.max(1),
            "max_tries": 0,
            "operator": if e.kind.is_empty() { Value::Null } else { json!(e.kind) },
            "operator_name": if e.kind.is_empty() { Value::Null } else { json!(e.kind) },
            "pool": "default_pool",
            "pool_slots": 1,
            "queue": null,
            "priority_weight": null,
            "executor": null,
            "executor_config": "{}",
            "hostname": null,
            "unixname": null,
            "pid": null,
            "note": null,
            "queued_when": null,
            "scheduled_when": null,
            "rendered_fields": {},
            "trigger": null,
            "triggerer_job": null,
            "dag_version": null,
        }));
    }
    out
}

/// Parses an RFC 3339 date and time (`2026-12-07T10:00:00Z`, `…+02:00`, fractional seconds
/// allowed; a date alone is midnight UTC) into Unix seconds.
pub(crate) fn parse_datetime(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, rest) = text.split_at(text.find(['T', 't', ' ']).unwrap_or(text.len()));
    let mut parts = date.splitn(3, '-');
    let year: i64 = digits(parts.next()?, 4)?;
    let month: i64 = digits(parts.next()?, 2)?;
    let day: i64 = digits(parts.next()?, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) as f64 * 86_400.0;
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = &rest[1..];
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let mut hms = time.splitn(3, ':');
    let hour: i64 = digits(hms.next()?, 2)?;
    let minute: i64 = digits(hms.next()?, 2)?;
    let second: f64 = match hms.next() {
        None => 0.0,
        Some(s) => {
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            let whole: i64 = digits(whole, 2)?;
            if !frac.chars().all(|c| c.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
                return None;
            }
            let frac: f64 = if frac.is_empty() {
                0.0
            } else {
                format!("0.{frac}").parse().ok()?
            };
            whole as f64 + frac
        }
    };
    if hour > 23 || minute > 59 || second >= 61.0 {
        return None;
    }
    secs += (hour * 3600 + minute * 60) as f64 + second;
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (h, m) = z[1..].split_once(':').unwrap_or((&z[1..], "00"));
            let (h, m): (i64, i64) = (digits(h, 2)?, digits(m, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    Some(secs - offset as f64)
}

fn digits(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.chars().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_as_rfc_3339() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_datetime("2026-12-07T10:00:00Z"),
            Some(1_796_637_600.0)
        );
        assert_eq!(
            parse_datetime("2026-12-07T12:00:00+02:00"),
            Some(1_796_637_600.0)
        );
        assert_eq!(
            parse_datetime("2026-12-07T09:30:00.5-00:30"),
            Some(1_796_637_600.5)
        );
        assert_eq!(parse_datetime("2026-12-07"), Some(1_796_601_600.0));
        assert_eq!(
            parse_datetime("2024-02-29T00:00:00Z"),
            Some(1_709_164_800.0)
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-12-07T25:00:00Z",
            "2026-12-07T10:00:00+2",
            "2026-12-07T10:00:00.Z",
            "2026-1-07T10:00:00Z",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        // What flowyt writes reads back.
        assert_eq!(
            parse_datetime(&iso8601(1_796_637_600.25)),
            Some(1_796_637_600.25)
        );
    }
}

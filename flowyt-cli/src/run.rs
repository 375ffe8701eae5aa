//! `flowyt run`: one run of one flow, printed.

use flowyt_runtime::core::diag::render_all;
use flowyt_runtime::core::validate::Context;
use flowyt_runtime::core::workspace::{FlowFile, Settings, Workspace};
use flowyt_runtime::{Engine, Outcome, RunInput, Strictness};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct RunArgs {
    pub flow: PathBuf,
    pub query: Vec<String>,
    pub headers: Vec<String>,
    pub body: Option<String>,
    pub method: String,
    pub input: Option<String>,
    pub debug: bool,
}

fn pairs(
    items: &[String],
    what: &str,
    normalize: fn(&str) -> String,
) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("{what} `{item}` is not `key=value`"))?;
        map.entry(normalize(k))
            .or_insert_with(|| Value::String(v.to_string()));
    }
    Ok(map)
}

fn json_arg(text: Option<&str>, what: &str) -> Result<Value, String> {
    match text {
        None => Ok(Value::Null),
        Some(t) => serde_json::from_str(t).map_err(|e| format!("{what} is not valid JSON: {e}")),
    }
}

/// The workspace folder a flow file belongs to (`<ws>/flows/<key>.json`), if any.
fn workspace_of(flow: &Path) -> Option<(PathBuf, String)> {
    let flows = flow.parent()?;
    if flows.file_name()? != "flows" {
        return None;
    }
    let ws = flows.parent()?;
    let key = flow
        .file_name()?
        .to_str()?
        .strip_suffix(".json")?
        .to_string();
    Some((ws.to_path_buf(), key))
}

pub fn run(args: RunArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: RunArgs) -> Result<ExitCode, String> {
    let qs = pairs(&args.query, "query parameter", str::to_string)?;
    let headers = pairs(&args.headers, "header", |k| {
        k.to_ascii_lowercase().replace('-', "_")
    })?;
    let data = json_arg(args.body.as_deref(), "--body")?;
    let input = json_arg(args.input.as_deref(), "--input")?;
    let engine = Engine::new().map_err(|e| e.to_string())?;
    let catalog = engine.catalog();

    let (workspace, key) = match workspace_of(&args.flow) {
        Some((dir, key)) => {
            let loaded =
                Workspace::load(&dir, &catalog, Strictness::Legacy).map_err(|e| e.to_string())?;
            eprint!("{}", render_all(&loaded.warnings));
            (loaded.workspace, key)
        }
        None => {
            let text = std::fs::read_to_string(&args.flow)
                .map_err(|e| format!("cannot read `{}`: {e}", args.flow.display()))?;
            let cx = Context {
                catalog: Some(&catalog),
                flows: None,
            };
            let file = FlowFile::parse(
                &args.flow.display().to_string(),
                &text,
                cx,
                Strictness::Legacy,
            );
            eprint!("{}", render_all(&file.located()));
            let flow = match (file.has_errors(), file.flow) {
                (false, Some(flow)) => flow,
                _ => return Ok(ExitCode::FAILURE),
            };
            let mut ws = Workspace {
                name: "flow".into(),
                settings: Settings::default(),
                ..Default::default()
            };
            ws.flows.insert("main".into(), flow);
            (ws, "main".to_string())
        }
    };
    let mut workspace = workspace;
    if args.debug {
        workspace.settings.debug = true;
    }
    let ws = engine.workspace(workspace);
    let request = json!({
        "method": args.method.to_ascii_uppercase(),
        "path": "/",
        "headers": headers,
        "params": {},
        "qs": qs,
        "form": {},
        "data": data,
        "debug": if args.debug { "true" } else { "false" },
    });
    let mut given = match &data {
        Value::Object(body) => body.clone(),
        _ => Map::new(),
    };
    for (k, v) in &qs {
        given.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let params = match ws.resolve_params(&key, &given, true) {
        Ok(p) => p,
        Err(e) => return Err(e.message),
    };
    let runtime = crate::runtime(false)?;
    let result = runtime.block_on(ws.run(
        &key,
        RunInput {
            request,
            input,
            debug: args.debug,
            params,
            ..RunInput::default()
        },
    ));
    if let Some(trace) = &result.trace {
        eprintln!(
            "trace:\n{}",
            serde_json::to_string_pretty(trace).unwrap_or_default()
        );
    }
    let (status, body) = match result.outcome {
        Outcome::Response { status, body, .. } => (status, body.to_value()),
        Outcome::Ended => (200, json!({})),
        Outcome::Invalid(errors) => (400, errors),
        Outcome::Failed(e) => {
            eprintln!("error: the run failed: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    eprintln!("status: {status}");
    println!(
        "{}",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

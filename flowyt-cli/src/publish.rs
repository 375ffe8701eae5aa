//! `POST /_engine/publish`: upload a zipped workspace (legacy §2.6). The zip is unpacked
//! into a staging folder outside the served tree, checked like any workspace (published
//! workspaces read no environment variable unless the operator allows it), measured against
//! the disk quota, and only then moved into place and swapped in, under the deploy lock that
//! reloads take too. A bad upload is refused with its diagnostics and nothing changes.

use crate::serve::App;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest unpacked workspace.
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;
/// Most files in one upload.
const MAX_FILES: usize = 10_000;

/// A file written into each published workspace: its settings then read environment
/// variables by the published rules.
pub const PUBLISHED_MARKER: &str = ".flowyt-published";

/// Names a workspace may not take: the server's own paths.
const RESERVED: &[&str] = &[
    "_engine",
    "_workspaces",
    "_console",
    "eureka",
    "metrics",
    "api",
    "auth",
];

/// Where and how much publishing may write.
pub struct Limits {
    /// Most bytes the served folder may hold after a publish.
    pub quota: u64,
    /// Where uploads are unpacked and checked.
    pub staging: PathBuf,
}

/// The default staging folder: `.flowyt-staging-NAME` beside the served folder `dir` (on the
/// same file system, so installing is a rename).
pub fn default_staging(dir: &Path) -> PathBuf {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let name = dir
        .file_name()
        .map_or_else(|| "workspaces".into(), |n| n.to_string_lossy().into_owned());
    dir.parent()
        .unwrap_or(&dir)
        .join(format!(".flowyt-staging-{name}"))
}

/// Why `name` cannot name a workspace, if it cannot.
pub fn reserved(name: &str) -> Option<String> {
    if RESERVED.contains(&name) || name.starts_with('_') || name.starts_with('.') {
        return Some(format!(
            "the name `{name}` is reserved for the server's own paths (reserved: {}, and names starting with `_` or `.`)",
            RESERVED.join(", ")
        ));
    }
    None
}

/// Whether the workspace folder `dir` was published (rather than put there by the operator).
pub fn is_published(dir: &Path) -> bool {
    dir.join(PUBLISHED_MARKER).is_file()
}

fn bad(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({ "msg": msg }))).into_response()
}

pub async fn publish(State(app): State<Arc<App>>, mut form: Multipart) -> Response {
    let mut upload = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                // The legacy field name is misspelt; accept both spellings.
                if !matches!(
                    field.name(),
                    Some("workpace_zip_file" | "workspace_zip_file")
                ) {
                    continue;
                }
                let file_name = field.file_name().unwrap_or_default().to_string();
                match field.bytes().await {
                    Ok(bytes) => upload = Some((file_name, bytes)),
                    Err(e) => return bad(&format!("The upload could not be read: {e}")),
                }
            }
            Ok(None) => break,
            Err(e) => return bad(&format!("The upload could not be read: {e}")),
        }
    }
    let Some((file_name, bytes)) = upload else {
        return bad("No workpace_zip_file in multipart form");
    };
    if file_name.is_empty() {
        return bad("No selected file.");
    }
    let Some(name) = file_name.strip_suffix(".zip") else {
        return bad("The file is not a zip");
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return bad(
            "The workspace name (the zip file name) may only use letters, digits, `-` and `_`.",
        );
    }
    if let Some(why) = reserved(name) {
        return bad(&format!("The workspace cannot be published: {why}."));
    }
    let name = name.to_string();
    let worker = app.clone();
    let result = tokio::task::spawn_blocking(move || install(&worker, &name, &bytes)).await;
    match result {
        Ok(Ok(name)) => axum::Json(json!({
            "msg": format!("The workspace {name} upload was completed successfully!")
        }))
        .into_response(),
        Ok(Err(Refused { msg, diagnostics })) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "msg": msg, "diagnostics": diagnostics })),
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"msg": "The upload failed."})),
        )
            .into_response(),
    }
}

struct Refused {
    msg: String,
    diagnostics: Option<String>,
}

impl Refused {
    fn new(msg: impl Into<String>) -> Refused {
        Refused {
            msg: msg.into(),
            diagnostics: None,
        }
    }
}

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn install(app: &App, name: &str, bytes: &[u8]) -> Result<String, Refused> {
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let staging = &app.publish.staging;
    std::fs::create_dir_all(staging).map_err(|e| {
        Refused::new(format!(
            "cannot create the staging folder (see --staging): {e}"
        ))
    })?;
    let scratch = Scratch(staging.join(format!("upload-{name}-{unique}")));
    let size = unpack(bytes, &scratch.0, MAX_UNPACKED.min(app.publish.quota))?;
    // The zip holds the workspace itself, or one folder that does.
    let mut root = scratch.0.clone();
    if !crate::is_workspace(&root) {
        let dirs: Vec<PathBuf> = std::fs::read_dir(&root)
            .map_err(|e| Refused::new(format!("cannot read the upload: {e}")))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        match dirs.as_slice() {
            [only] if crate::is_workspace(only) => root = only.clone(),
            _ => {
                return Err(Refused::new(
                    "The zip holds no workspace (a `flows/` folder).",
                ));
            }
        }
    }
    std::fs::write(root.join(PUBLISHED_MARKER), b"")
        .map_err(|e| Refused::new(format!("cannot mark the upload: {e}")))?;
    if let Err(diagnostics) = app.load_one(&root, name) {
        return Err(Refused {
            msg: format!("The workspace {name} has errors and was not published."),
            diagnostics: Some(diagnostics),
        });
    }
    let _deploying = app.deploying();
    let target = app.dir.join(name);
    let used = disk_usage(&app.dir, Some(&target));
    if used.saturating_add(size) > app.publish.quota {
        return Err(Refused::new(format!(
            "The workspace {name} ({size} bytes) does not fit: the served workspaces use {used} of the {} bytes allowed (--publish-quota).",
            app.publish.quota
        )));
    }
    let old = staging.join(format!("old-{name}-{unique}"));
    if target.exists() {
        std::fs::rename(&target, &old)
            .map_err(|e| Refused::new(format!("cannot replace `{name}`: {e}")))?;
    }
    if let Err(e) = move_dir(&root, &target) {
        // Put the previous version back.
        let _ = std::fs::rename(&old, &target);
        return Err(Refused::new(format!("cannot install `{name}`: {e}")));
    }
    let _ = std::fs::remove_dir_all(&old);
    app.reload_locked();
    Ok(name.to_string())
}

/// Renames `from` to `to`, copying when they are on different file systems.
fn move_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    copy_dir(from, to).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(to);
    })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

/// Bytes of the files under `dir` (symbolic links not followed), leaving out `except`.
fn disk_usage(dir: &Path, except: Option<&Path>) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if except == Some(path.as_path()) {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => total += disk_usage(&path, None),
            Ok(t) if t.is_file() => total += entry.metadata().map_or(0, |m| m.len()),
            _ => {}
        }
    }
    total
}

/// Unpacks `bytes` into `into`, refusing paths that leave it, and bounding size and count.
/// Returns the bytes written.
fn unpack(bytes: &[u8], into: &Path, max_unpacked: u64) -> Result<u64, Refused> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| Refused::new(format!("The file is not a zip: {e}")))?;
    if archive.len() > MAX_FILES {
        return Err(Refused::new(format!(
            "The zip has more than {MAX_FILES} files."
        )));
    }
    std::fs::create_dir_all(into).map_err(|e| Refused::new(format!("cannot unpack: {e}")))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| Refused::new(format!("The zip is damaged: {e}")))?;
        let Some(rel) = entry.enclosed_name() else {
            let shown = entry.name().map(|n| n.into_owned()).unwrap_or_default();
            return Err(Refused::new(format!(
                "The zip entry `{shown}` points outside the workspace."
            )));
        };
        let path = into.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&path)
                .map_err(|e| Refused::new(format!("cannot unpack: {e}")))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Refused::new(format!("cannot unpack: {e}")))?;
        }
        let mut content = Vec::new();
        let remaining = max_unpacked.saturating_sub(total);
        (&mut entry)
            .take(remaining + 1)
            .read_to_end(&mut content)
            .map_err(|e| Refused::new(format!("The zip is damaged: {e}")))?;
        total += content.len() as u64;
        if total > max_unpacked {
            return Err(Refused::new(format!(
                "The workspace unpacks to more than {max_unpacked} bytes."
            )));
        }
        std::fs::write(&path, content).map_err(|e| Refused::new(format!("cannot unpack: {e}")))?;
    }
    Ok(total)
}

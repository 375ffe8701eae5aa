//! OpenAPI 3.1 documents: the operating API's ([`operating_document`]) and each workspace's,
//! derived from its routes and flows ([`Workspace::openapi`](crate::Workspace::openapi)).
//!
//! ```
//! let doc = flowyt_runtime::openapi::operating_document();
//! assert_eq!(doc["openapi"], "3.1.0");
//! assert!(doc["paths"]["/api/v2/dags/{dag_id}/dagRuns"]["post"].is_object());
//! ```

mod operating;

pub use flowyt_core::openapi::DocOptions;
pub use operating::operations;

/// The OpenAPI 3.1 document of `flowyt serve`'s operating API (runs, publish, reload, routes,
/// health, registry, metrics, the Airflow subset), with its token security schemes.
pub fn operating_document() -> serde_json::Value {
    operating::document(env!("CARGO_PKG_VERSION"))
}

impl crate::Workspace {
    /// The OpenAPI 3.1 document of this workspace's routes, mounted under
    /// `options.base_path`: path converters as typed parameters, the query parameters its
    /// templates read, request bodies from `validation` schemas, responses from `response`
    /// actions (see [`flowyt_core::openapi`]).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use flowyt_runtime::{Engine, Strictness, openapi::DocOptions};
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/workspaces/shop");
    /// let shop = Engine::new()?.load_workspace(&dir, Strictness::Legacy)?.workspace;
    /// let doc = shop.openapi(&DocOptions::new("/shop"));
    /// assert_eq!(doc["openapi"], "3.1.0");
    /// # Ok(())
    /// # }
    /// ```
    pub fn openapi(&self, options: &DocOptions) -> serde_json::Value {
        flowyt_core::openapi::workspace_document(&self.core_model(), options)
    }

    /// [`openapi`](crate::Workspace::openapi) with the routes under `/{name}`, as `flowyt serve` mounts them:
    /// built once per loaded workspace and kept (a reload makes a new workspace).
    pub fn served_openapi(&self) -> &serde_json::Value {
        self.shared
            .served_openapi
            .get_or_init(|| self.openapi(&DocOptions::new(format!("/{}", self.name()))))
    }
}

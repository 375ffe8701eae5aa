//! Workspaces that `include_workspace!` read and checked at compile time, loaded on an engine
//! when the program starts.

use crate::__private::NamedAction;
use crate::{Engine, LoadError, MountError, Workspace};
#[cfg(feature = "axum")]
use axum::Router;
use flowyt_core::model::{Flow, Kind};
use flowyt_core::validate::{action_templates, unknown_functions};
use flowyt_core::workspace::{Route, Workspace as CoreWorkspace};

/// A legacy workspace folder (settings, routes, flows) embedded in the program by
/// `include_workspace!`, which checked it at compile time: every flow, the cross-flow
/// references (`jump`, `handle`, `loop`, routes) and the `${env.X}` keys templates read.
///
/// ```
/// use flowyt_runtime::{Engine, include_workspace};
///
/// let shop = include_workspace!("../examples/workspaces/shop");
/// let engine = Engine::new().unwrap();
/// let app: axum::Router = axum::Router::new().nest("/shop", shop.router(&engine).unwrap());
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct IncludedWorkspace {
    name: &'static str,
    /// The settings file as text: read when the workspace is loaded, with the environment.
    settings: Option<(&'static str, &'static str)>,
    /// The routes and the flows (their expressions with their generated code), as the macro
    /// lowered and checked them.
    routes: Vec<Route>,
    flows: Vec<(&'static str, Flow)>,
    actions: Vec<NamedAction>,
    /// Each flow's generated loop, by flow key.
    drivers: Vec<(&'static str, crate::__private::Driver)>,
}

impl std::fmt::Debug for IncludedWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncludedWorkspace")
            .field("name", &self.name)
            .field(
                "flows",
                &self.flows.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why an included workspace could not be loaded on an engine.
#[derive(Debug)]
#[non_exhaustive]
pub enum IncludeError {
    /// Its settings, read again with the process environment, do not load (the flows and
    /// routes were checked at compile time).
    Load(LoadError),
    /// A typed action it uses takes state the engine was not built with.
    Mount(MountError),
    /// A template calls a `function.*` the engine does not register (the macro cannot check
    /// functions registered at run time).
    UnknownFunction {
        /// The flow's key.
        flow: String,
        /// The action whose template calls it.
        action: String,
        /// The dotted path after `function.`.
        function: String,
        /// A registered function with a close name.
        suggestion: Option<String>,
    },
    /// An action's kind is a built-in kind (`mongodb`, say) that the engine registers a custom
    /// action for: the macro compiled the built-in. Declare a typed action with
    /// `actions = [...]` to replace a built-in in an included workspace.
    ShadowedKind {
        /// The flow's key.
        flow: String,
        /// The action.
        action: String,
        /// Its kind name.
        kind: String,
    },
}

impl std::fmt::Display for IncludeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IncludeError::Load(e) => write!(f, "{e}"),
            IncludeError::Mount(e) => write!(f, "{e}"),
            IncludeError::UnknownFunction {
                flow,
                action,
                function,
                suggestion,
            } => {
                write!(
                    f,
                    "flow `{flow}`, action `{action}`: unknown function `function.{function}` \
                     (register it with `Engine::builder().function(\"{function}\", ..)`"
                )?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean `{s}`?)"),
                    None => write!(f, ")"),
                }
            }
            IncludeError::ShadowedKind { flow, action, kind } => write!(
                f,
                "flow `{flow}`, action `{action}`: the engine registers a custom action `{kind}`, \
                 but `include_workspace!` compiled `{kind}` as the built-in kind: declare a \
                 `#[flow_action]` with `actions = [...]` to replace it"
            ),
        }
    }
}

impl std::error::Error for IncludeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IncludeError::Load(e) => Some(e),
            IncludeError::Mount(e) => Some(e),
            IncludeError::UnknownFunction { .. } | IncludeError::ShadowedKind { .. } => None,
        }
    }
}

impl IncludedWorkspace {
    pub(crate) fn new(
        name: &'static str,
        settings: Option<(&'static str, &'static str)>,
        routes: Vec<Route>,
        flows: Vec<(&'static str, Flow)>,
        actions: Vec<NamedAction>,
        drivers: Vec<(&'static str, crate::__private::Driver)>,
    ) -> IncludedWorkspace {
        IncludedWorkspace {
            name,
            settings,
            routes,
            flows,
            actions,
            drivers,
        }
    }

    /// The workspace's name (its folder's).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The flow keys.
    pub fn flow_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.flows.iter().map(|(k, _)| *k)
    }

    /// The workspace on `engine`, ready to run and mount; `${env('NAME')}` in its settings
    /// reads the process environment now.
    pub fn workspace(&self, engine: &Engine) -> Result<Workspace, IncludeError> {
        self.workspace_with_env(engine, &|k| std::env::var(k).ok())
    }

    /// Like [`IncludedWorkspace::workspace`], with `getenv` answering `${env('NAME')}`.
    pub fn workspace_with_env(
        &self,
        engine: &Engine,
        getenv: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Workspace, IncludeError> {
        crate::checked::check_states(&self.actions, engine).map_err(IncludeError::Mount)?;
        let engine = crate::checked::add_actions(engine, &self.actions);
        self.check_engine(&engine)?;
        let flows = self
            .flows
            .iter()
            .map(|(key, flow)| (key.to_string(), flow.clone()))
            .collect();
        let loaded = CoreWorkspace::with_settings(
            self.name,
            self.settings,
            flows,
            self.routes.clone(),
            getenv,
        )
        .map_err(IncludeError::Load)?;
        let loops = self
            .drivers
            .iter()
            .map(|(key, driver)| {
                let generated = crate::drive::GeneratedLoop::new(*driver, &self.actions);
                (key.to_string(), generated)
            })
            .collect();
        Ok(engine.workspace_with_loops(loaded.workspace, loops))
    }

    /// What the macro could not check because only the engine knows it: the functions the
    /// flows call are registered, and no custom action registered on the engine stands for a
    /// built-in kind the flows were compiled with (a workspace loaded from files would run
    /// the custom action).
    fn check_engine(&self, engine: &Engine) -> Result<(), IncludeError> {
        let catalog = engine.catalog();
        for (key, flow) in &self.flows {
            for action in &flow.actions {
                if catalog.custom(&action.kind_name).is_some()
                    && !matches!(action.kind, Kind::Custom(_))
                {
                    return Err(IncludeError::ShadowedKind {
                        flow: key.to_string(),
                        action: action.id.clone(),
                        kind: action.kind_name.clone(),
                    });
                }
                let unknown = action_templates(action)
                    .into_iter()
                    .flat_map(|t| unknown_functions(t, &catalog))
                    .next();
                if let Some((function, _)) = unknown {
                    let suggestion = flowyt_core::suggest::closest(&function, catalog.functions())
                        .map(str::to_string);
                    return Err(IncludeError::UnknownFunction {
                        flow: key.to_string(),
                        action: action.id.clone(),
                        function,
                        suggestion,
                    });
                }
            }
        }
        Ok(())
    }

    /// A router serving the workspace's routes (nest it where it belongs:
    /// `Router::new().nest("/shop", shop.router(&engine)?)`).
    #[cfg(feature = "axum")]
    pub fn router<S: Clone + Send + Sync + 'static>(
        &self,
        engine: &Engine,
    ) -> Result<Router<S>, IncludeError> {
        Ok(self.workspace(engine)?.router())
    }
}

//! The action kinds flowyt knows and the shape of their `data`: one table, read by the
//! loader, the validator and the macros.

use std::collections::{BTreeMap, BTreeSet};

/// A field of an action's `data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// The key.
    pub name: &'static str,
    /// Whether the action cannot run without it.
    pub required: bool,
}

const fn req(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        required: true,
    }
}

const fn opt(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        required: false,
    }
}

/// A built-in action kind.
#[derive(Clone, Copy, Debug)]
pub struct KindSpec {
    /// The name used in `"action"`.
    pub name: &'static str,
    /// The fields of its data; `None` when any key is allowed (variables).
    pub fields: Option<&'static [FieldSpec]>,
    /// Whether it chooses a branch for `${pipeline.next_action}`.
    pub branches: bool,
    /// Whether flowyt runs it (the legacy integrations load with a warning but do not run).
    pub supported: bool,
}

const BRANCH: [FieldSpec; 2] = [opt("next_action_success"), opt("next_action_fail")];

/// Every built-in kind, in the order the README documents them.
pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "start",
        fields: Some(&[]),
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "flow_var",
        fields: None,
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "workspace_var",
        fields: None,
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "request",
        fields: Some(&[
            req("url"),
            opt("method"),
            opt("headers"),
            opt("data"),
            opt("timeout"),
            opt("retries"),
            opt("retry_delay"),
            opt("retry_unsafe"),
            BRANCH[0],
            BRANCH[1],
        ]),
        branches: true,
        supported: true,
    },
    KindSpec {
        name: "response",
        fields: Some(&[opt("status"), opt("headers"), opt("data")]),
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "switch",
        fields: Some(&[req("conditions"), opt("next_action_else")]),
        branches: true,
        supported: true,
    },
    KindSpec {
        name: "validation",
        fields: Some(&[req("schema"), BRANCH[0], BRANCH[1]]),
        branches: true,
        supported: true,
    },
    KindSpec {
        name: "jump",
        fields: Some(&[req("next_flow")]),
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "handle",
        fields: Some(&[req("flow")]),
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "loop",
        fields: Some(&[opt("type"), req("data"), req("flow"), opt("action")]),
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "parallel",
        fields: Some(&[req("branches"), BRANCH[0], BRANCH[1]]),
        branches: true,
        supported: true,
    },
    KindSpec {
        name: "run",
        fields: None,
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "end",
        fields: Some(&[]),
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "sql_db",
        fields: None,
        branches: false,
        supported: true,
    },
    KindSpec {
        name: "mongodb",
        fields: None,
        branches: false,
        supported: false,
    },
    KindSpec {
        name: "redis",
        fields: Some(&[req("action_type"), req("key"), opt("data"), opt("expire")]),
        branches: false,
        supported: true,
    },
];

/// Old names still found in legacy flows, and what they mean now.
pub const ALIASES: &[(&str, &str)] = &[("action", "run")];

/// Names a template may read besides builtins (`len`, `json`, …).
pub const ROOTS: &[&str] = &[
    "env",
    "request",
    "flow",
    "workspace",
    "workspace_info",
    "response",
    "function",
    "input",
    "params",
    "loop",
];

/// The built-in kind called `name` (aliases resolved).
pub fn builtin(name: &str) -> Option<&'static KindSpec> {
    let name = ALIASES
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name, |(_, new)| new);
    KINDS.iter().find(|k| k.name == name)
}

/// A custom action kind registered by the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomKind {
    /// The input's fields, when known (`None`: anything; the input type checks it).
    pub fields: Option<Vec<(String, bool)>>,
}

/// What the validator knows beyond the built-ins: custom action kinds and registered functions.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    custom: BTreeMap<String, CustomKind>,
    functions: Option<BTreeSet<String>>,
}

impl Catalog {
    /// No custom kinds, functions not checked.
    pub const EMPTY: Catalog = Catalog {
        custom: BTreeMap::new(),
        functions: None,
    };

    /// Only the built-in kinds; function calls are not checked.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// Registers a custom action kind.
    pub fn add_kind(&mut self, name: impl Into<String>, kind: CustomKind) -> &mut Catalog {
        self.custom.insert(name.into(), kind);
        self
    }

    /// Registers a template function by its dotted path under `function.` (`students.approved_list`).
    /// Once any function is registered (or [`Catalog::check_functions`] is called), calls to
    /// unregistered functions are errors.
    pub fn add_function(&mut self, path: impl Into<String>) -> &mut Catalog {
        self.functions
            .get_or_insert_with(BTreeSet::new)
            .insert(path.into());
        self
    }

    /// Makes calls to unregistered functions errors even when none is registered.
    pub fn check_functions(&mut self) -> &mut Catalog {
        self.functions.get_or_insert_with(BTreeSet::new);
        self
    }

    /// The custom kind called `name`.
    pub fn custom(&self, name: &str) -> Option<&CustomKind> {
        self.custom.get(name)
    }

    /// Whether `function.<path>` may be called; `None` when functions are not checked.
    pub fn has_function(&self, path: &str) -> Option<bool> {
        self.functions.as_ref().map(|f| f.contains(path))
    }

    /// The registered function paths (for suggestions).
    pub fn functions(&self) -> impl Iterator<Item = &str> + Clone {
        self.functions.iter().flatten().map(String::as_str)
    }

    /// Every kind name: built-ins then custom ones (for suggestions).
    pub fn kind_names(&self) -> impl Iterator<Item = &str> + Clone {
        KINDS
            .iter()
            .map(|k| k.name)
            .chain(self.custom.keys().map(String::as_str))
    }
}

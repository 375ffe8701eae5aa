//! What a route's run reads from the HTTP request: query parameters, headers, body and form fields.

use std::collections::BTreeSet;

use crate::expr::{Read, ReadStep};
use crate::model::{Action, Edge, Kind, Tpl};
use crate::validate::for_each_data;

/// The parts of the request a run reads.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Reads {
    /// `request.qs.NAME`.
    pub query: BTreeSet<String>,
    /// Query parameters read by computed names, or the whole query string.
    pub query_dynamic: bool,
    /// `request.headers.NAME` (as the engine names headers: lower-case, `_` for `-`).
    pub headers: BTreeSet<String>,
    /// Headers read by computed names, or all of them.
    pub headers_dynamic: bool,
    /// Header keys that can never match (`request.headers['X-Api-Key']`).
    pub headers_unmatched: BTreeSet<String>,
    /// `request.data.NAME`: top-level fields of the JSON body.
    pub body: BTreeSet<String>,
    /// The JSON body is read as a whole, or by computed names.
    pub body_whole: bool,
    /// `request.form.NAME`.
    pub form: BTreeSet<String>,
    /// The form is read as a whole, or by computed names.
    pub form_whole: bool,
    /// `request` itself, or a member of it by a computed name.
    pub whole_request: bool,
}

impl Reads {
    /// Adds what `action`'s templates read (an action the engine does not evaluate, an
    /// unknown kind or an unsupported integration, reads nothing).
    pub fn add_action(&mut self, action: &Action) {
        if matches!(action.kind, Kind::Unknown(_) | Kind::Integration(_)) {
            return;
        }
        let mut tpls: Vec<&Tpl> = Vec::new();
        for_each_data(&action.kind, &mut |d| {
            d.for_each_template(&mut |t| tpls.push(t))
        });
        for (edge, _) in action.kind.edges() {
            if let Edge::Dynamic(t) = edge {
                tpls.push(t);
            }
        }
        for t in tpls {
            self.add_template(t);
        }
    }

    /// Adds what one template reads. A template that is one pure path uses the path the
    /// loader computed (`Tpl::path`); any other is walked.
    pub fn add_template(&mut self, t: &Tpl) {
        match &t.path {
            Some((root, segs)) => {
                let steps = segs
                    .iter()
                    .map(|s| match s {
                        crate::expr::PathSeg::Key(k) => ReadStep::Key(k.clone()),
                        crate::expr::PathSeg::Index(i) => ReadStep::Index(*i),
                    })
                    .collect();
                self.add(&Read {
                    root: root.clone(),
                    steps,
                });
            }
            None => {
                for r in t.template.reads() {
                    self.add(&r);
                }
            }
        }
    }

    /// Adds one access path.
    pub fn add(&mut self, read: &Read) {
        if read.root != "request" {
            return;
        }
        let member = match read.steps.first() {
            None | Some(ReadStep::Computed) => {
                self.whole_request = true;
                return;
            }
            Some(ReadStep::Key(k)) => k.as_str(),
            Some(ReadStep::Index(_)) => return,
        };
        let name = match read.steps.get(1) {
            Some(ReadStep::Key(k)) => Some(k.clone()),
            Some(ReadStep::Index(_)) => return,
            None | Some(ReadStep::Computed) => None,
        };
        match (member, name) {
            ("qs", Some(n)) => {
                self.query.insert(n);
            }
            ("qs", None) => self.query_dynamic = true,
            ("headers", Some(n)) => {
                // The engine's keys are lower-case with `_` for `-`: others never match.
                if n.chars().any(|c| c.is_ascii_uppercase() || c == '-') {
                    self.headers_unmatched.insert(n);
                } else {
                    self.headers.insert(n);
                }
            }
            ("headers", None) => self.headers_dynamic = true,
            ("data", Some(n)) => {
                self.body.insert(n);
            }
            ("data", None) => self.body_whole = true,
            ("form", Some(n)) => {
                self.form.insert(n);
            }
            ("form", None) => self.form_whole = true,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Template;
    use crate::loc::Loc;

    fn tpl(src: &str) -> Tpl {
        Tpl::new(Template::parse(src).expect("parses"), src.into(), Loc(0))
    }

    #[test]
    fn request_members_are_sorted_out() {
        let mut r = Reads::default();
        for src in [
            "${request.qs.q}",
            "${request.qs.get('limit', '10')}",
            "n=${request.headers.x_api_key} ${request.headers['X-Api-Key']}",
            "${request.data.name}",
            "${[i for i in request.data.items]}",
            "${request.form.f}",
            "${request.params.id}",
            "${flow.qs.nope}",
        ] {
            r.add_template(&tpl(src));
        }
        let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(r.query, set(&["limit", "q"]));
        assert_eq!(r.headers, set(&["x_api_key"]));
        assert_eq!(r.headers_unmatched, set(&["X-Api-Key"]));
        assert_eq!(r.body, set(&["items", "name"]));
        assert_eq!(r.form, set(&["f"]));
        assert!(!r.query_dynamic && !r.body_whole && !r.whole_request);

        r.add_template(&tpl("${request.qs[flow.k]}"));
        r.add_template(&tpl("${request}"));
        assert!(r.query_dynamic && r.whole_request);
    }
}

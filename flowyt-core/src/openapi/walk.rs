//! The actions a route's run can reach: across `jump`s, and into sub-flows for what it reads.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::Value;

use crate::model::{Data, Edge, EdgeKind, Flow, FlowRef, Kind, Next, ParallelBranch};
use crate::workspace::Workspace;

/// An action of a flow of the workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct At<'w> {
    /// The flow key.
    pub flow: &'w str,
    /// The action's index in the flow.
    pub index: usize,
}

/// How an action is entered: what `response` holds when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Via {
    /// First action of a flow (the run's, or a jump's): `response` is `{}`.
    Start,
    /// After a failed `validation` with `next_action_fail`: `response` is
    /// `{"status": 400, "data": {"errors": {...}}}`.
    ValidationFail,
    /// Any other way.
    Other,
}

/// Where the engine goes after an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step<'w> {
    To(At<'w>, Via),
    /// The run ends without a `response` (HTTP 200, body `{}`).
    End,
    /// A `validation` without `next_action_fail` fails (HTTP 400 with the errors).
    Invalid,
}

/// What a walk from some starting steps reaches.
#[derive(Default)]
pub(super) struct Explored<'w> {
    /// The actions reached, in the order found.
    pub order: Vec<At<'w>>,
    /// How each action reached is entered.
    pub incoming: BTreeMap<At<'w>, Vec<Via>>,
    /// Where each action reached may go.
    pub succ: BTreeMap<At<'w>, Vec<Step<'w>>>,
    /// Where the walk starts.
    pub start: Vec<Step<'w>>,
    /// Some `jump` names its flow with a template: any flow may run.
    pub dynamic_jump: bool,
}

impl<'w> Explored<'w> {
    /// Whether some step reached ends the run without a response.
    pub fn ends(&self) -> bool {
        self.start.contains(&Step::End) || self.succ.values().any(|s| s.contains(&Step::End))
    }

    /// The `validation` actions reached whose failure answers 400 by itself.
    pub fn invalid_from(&self) -> Vec<At<'w>> {
        self.order
            .iter()
            .filter(|at| {
                self.succ
                    .get(at)
                    .is_some_and(|s| s.contains(&Step::Invalid))
            })
            .copied()
            .collect()
    }

    /// The actions and outcomes reachable from `from`, not passing through `avoid`.
    pub fn reach(
        &self,
        from: &[Step<'w>],
        avoid: Option<At<'w>>,
    ) -> (BTreeSet<At<'w>>, Vec<Step<'w>>) {
        let mut seen = BTreeSet::new();
        let mut outcomes = Vec::new();
        let mut queue: VecDeque<Step<'w>> = from.iter().copied().collect();
        while let Some(step) = queue.pop_front() {
            match step {
                Step::To(at, _) if Some(at) == avoid => {}
                Step::To(at, _) => {
                    if seen.insert(at) {
                        queue.extend(self.succ.get(&at).into_iter().flatten().copied());
                    }
                }
                other => {
                    if !outcomes.contains(&other) {
                        outcomes.push(other);
                    }
                }
            }
        }
        (seen, outcomes)
    }
}

/// The action at `at`.
pub(super) fn action<'w>(ws: &'w Workspace, at: At<'w>) -> Option<&'w crate::model::Action> {
    ws.flows.get(at.flow).and_then(|f| f.actions.get(at.index))
}

/// The first step of a run (or a jump) into flow `key`; none if there is no such flow.
pub(super) fn entry<'w>(ws: &'w Workspace, key: &str) -> Option<Step<'w>> {
    let (key, flow) = ws.flows.get_key_value(key)?;
    Some(match flow.entry() {
        Some(index) => Step::To(At { flow: key, index }, Via::Start),
        None => Step::End,
    })
}

/// Walks every step reachable from `start`.
pub(super) fn explore<'w>(ws: &'w Workspace, start: Vec<Step<'w>>) -> Explored<'w> {
    let mut ex = Explored {
        start: start.clone(),
        ..Explored::default()
    };
    let mut queue: VecDeque<Step<'w>> = start.into_iter().collect();
    while let Some(step) = queue.pop_front() {
        let Step::To(at, via) = step else { continue };
        let vias = ex.incoming.entry(at).or_default();
        if !vias.contains(&via) {
            vias.push(via);
        }
        if ex.succ.contains_key(&at) {
            continue;
        }
        ex.order.push(at);
        let (steps, dynamic) = successors(ws, at);
        ex.dynamic_jump |= dynamic;
        queue.extend(steps.iter().copied());
        ex.succ.insert(at, steps);
    }
    ex
}

/// Where the engine may go after the action at `at` (and whether a template picks a flow).
fn successors<'w>(ws: &'w Workspace, at: At<'w>) -> (Vec<Step<'w>>, bool) {
    let Some(flow) = ws.flows.get(at.flow) else {
        return (Vec::new(), false);
    };
    let Some(a) = flow.actions.get(at.index) else {
        return (Vec::new(), false);
    };
    match &a.kind {
        Kind::Response(_) | Kind::Integration(_) => (Vec::new(), false),
        Kind::End => (vec![Step::End], false),
        Kind::Jump(r) => match &r.flow {
            Data::Const(Value::String(s)) if !s.is_empty() => {
                (entry(ws, s).into_iter().collect(), false)
            }
            Data::Const(Value::String(_) | Value::Null | Value::Bool(false)) => {
                (follow(at, flow, a), false)
            }
            Data::Template(_) => {
                let mut steps: Vec<Step<'w>> =
                    ws.flows.keys().filter_map(|k| entry(ws, k)).collect();
                steps.extend(follow(at, flow, a));
                (steps, true)
            }
            _ => (Vec::new(), false),
        },
        Kind::Validation(v) => {
            let mut steps = follow(at, flow, a);
            if matches!(v.fail, Edge::None) {
                steps.push(Step::Invalid);
            }
            (steps, false)
        }
        _ => (follow(at, flow, a), false),
    }
}

/// The steps of an action's `next_action` (and of the branch it chose, if any).
fn follow<'w>(at: At<'w>, flow: &'w Flow, a: &crate::model::Action) -> Vec<Step<'w>> {
    let to = |id: &str, via: Via| {
        flow.position(id).map(|index| {
            Step::To(
                At {
                    flow: at.flow,
                    index,
                },
                via,
            )
        })
    };
    let any = |out: &mut Vec<Step<'w>>| {
        out.extend((0..flow.actions.len()).map(|index| {
            Step::To(
                At {
                    flow: at.flow,
                    index,
                },
                Via::Other,
            )
        }));
    };
    let mut out = Vec::new();
    match &a.next {
        Next::End => out.push(Step::End),
        Next::To(t) => out.extend(to(&t.id, Via::Other)),
        Next::Branch(_) => {
            let validation = matches!(a.kind, Kind::Validation(_));
            for (edge, kind) in a.kind.edges() {
                let via = if validation && kind == EdgeKind::Fail {
                    Via::ValidationFail
                } else {
                    Via::Other
                };
                match edge {
                    Edge::To(t) => out.extend(to(&t.id, via)),
                    Edge::Dynamic(_) => any(&mut out),
                    Edge::None => {}
                }
            }
        }
        Next::Dynamic(_) => {
            any(&mut out);
            out.push(Step::End);
        }
    }
    out
}

/// Where a failed `validation` at `at` goes (a 400 of its own when it has no fail branch).
pub(super) fn after_failure<'w>(ws: &'w Workspace, at: At<'w>) -> Vec<Step<'w>> {
    let Some(flow) = ws.flows.get(at.flow) else {
        return Vec::new();
    };
    let Some(a) = flow.actions.get(at.index) else {
        return Vec::new();
    };
    let Kind::Validation(v) = &a.kind else {
        return Vec::new();
    };
    if matches!(v.fail, Edge::None) {
        return vec![Step::Invalid];
    }
    match &a.next {
        Next::Branch(_) => match &v.fail {
            Edge::To(t) => flow
                .position(&t.id)
                .map(|index| {
                    Step::To(
                        At {
                            flow: at.flow,
                            index,
                        },
                        Via::ValidationFail,
                    )
                })
                .into_iter()
                .collect(),
            _ => (0..flow.actions.len())
                .map(|index| {
                    Step::To(
                        At {
                            flow: at.flow,
                            index,
                        },
                        Via::Other,
                    )
                })
                .collect(),
        },
        _ => follow(at, flow, a),
    }
}

/// The flows a reached action runs as sub-flows (`handle`, `loop`, `parallel`); `None` when
/// one is named by a template (any flow may run).
fn sub_flows(a: &crate::model::Action) -> Option<Vec<&str>> {
    let refs: Vec<&FlowRef> = match &a.kind {
        Kind::Handle(r) => vec![r],
        Kind::Loop(l) => vec![&l.flow],
        Kind::Parallel(p) => p
            .branches
            .iter()
            .filter_map(|(_, b)| match b {
                ParallelBranch::Flow(r) => Some(r),
                ParallelBranch::Request(_) => None,
            })
            .collect(),
        _ => return Some(Vec::new()),
    };
    let mut out = Vec::new();
    for r in refs {
        match (&r.flow, r.literal()) {
            (_, Some(name)) => out.push(name),
            (Data::Template(_), None) => return None,
            _ => {}
        }
    }
    Some(out)
}

/// Every action a run of `key` may execute, its sub-flows' included; the flag says some flow
/// was named by a template (then every action of the workspace is listed).
pub(super) fn all_actions<'w>(ws: &'w Workspace, key: &str) -> (Vec<At<'w>>, bool) {
    let mut done: BTreeSet<At<'w>> = BTreeSet::new();
    let mut order = Vec::new();
    let mut flows: VecDeque<&str> = VecDeque::from([key]);
    let mut started: BTreeSet<&str> = BTreeSet::new();
    let mut dynamic = false;
    while let Some(name) = flows.pop_front() {
        if !started.insert(name) {
            continue;
        }
        let ex = explore(ws, entry(ws, name).into_iter().collect());
        dynamic |= ex.dynamic_jump;
        for at in ex.order {
            if !done.insert(at) {
                continue;
            }
            order.push(at);
            match action(ws, at).map(sub_flows) {
                Some(Some(names)) => flows.extend(names),
                Some(None) => dynamic = true,
                None => {}
            }
        }
    }
    if dynamic {
        for (k, f) in &ws.flows {
            for index in 0..f.actions.len() {
                let at = At { flow: k, index };
                if done.insert(at) {
                    order.push(at);
                }
            }
        }
    }
    (order, dynamic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::validate::Strictness;
    use crate::workspace::Sources;

    fn ws(flows: &[(&str, &str)]) -> Workspace {
        let sources = Sources {
            flows: flows
                .iter()
                .map(|(k, t)| (k.to_string(), format!("{k}.json"), t.to_string()))
                .collect(),
            ..Sources::default()
        };
        Workspace::from_sources("w", &sources, &Catalog::new(), Strictness::Legacy, &|_| {
            None
        })
        .map(|l| l.workspace)
        .unwrap_or_default()
    }

    #[test]
    fn jumps_end_the_flow_and_sub_flows_are_read_only() {
        let w = ws(&[
            (
                "a",
                r#"{"pipeline": [
                    {"id": "1", "action": "handle", "data": {"flow": "c"}, "next_action": "2"},
                    {"id": "2", "action": "jump", "data": {"next_flow": "b"}, "next_action": null}]}"#,
            ),
            (
                "b",
                r#"{"pipeline": [{"id": "1", "action": "response", "data": {}, "next_action": null}]}"#,
            ),
            (
                "c",
                r#"{"pipeline": [{"id": "1", "action": "end", "data": {}, "next_action": null}]}"#,
            ),
            (
                "d",
                r#"{"pipeline": [{"id": "1", "action": "jump", "data": {"next_flow": "${request.qs.f}"}, "next_action": null}]}"#,
            ),
        ]);
        let ex = explore(&w, entry(&w, "a").into_iter().collect());
        let flows: Vec<&str> = ex.order.iter().map(|at| at.flow).collect();
        assert_eq!(
            flows,
            ["a", "a", "b"],
            "the handled flow is not part of the run"
        );
        assert!(!ex.ends(), "`c` ends the sub-flow, not the run");
        let (all, dynamic) = all_actions(&w, "a");
        assert_eq!(all.len(), 4);
        assert!(!dynamic);
        let d = explore(&w, entry(&w, "d").into_iter().collect());
        assert!(d.dynamic_jump && d.ends(), "any flow may run, `c` ends it");
        assert_eq!(all_actions(&w, "d").0.len(), 5);
    }
}

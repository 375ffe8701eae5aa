//! One flow's walk, action by action: the engine's loop for loaded flows and the loop a
//! `flow!` generates both move through a [`Stepper`], so both keep the same guards.

use crate::actions::{self, Effect};
use crate::checked::TypedAction;
use crate::compiled::CompiledFlow;
use crate::context::{Ctx, PipelineScope};
use crate::engine::{FlowEnd, Runner, fail, failed_action};
use crate::error::{ErrorKind, RunError};
use flowyt_core::model::{Action, Edge, Next};
use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};
use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

/// How one flow's walk ended: in the flow, or by a `jump` to another.
pub(crate) enum Walk {
    Jump(String),
    End(FlowEnd),
}

/// The end of a flow's walk, as a `flow!`'s generated loop hands it back to the engine.
pub struct Walked(pub(crate) Walk);

/// What one action did.
pub enum Stepped {
    /// It ended the walk (answered, ended, failed a validation, or jumped).
    Over(Walked),
    /// The run goes on; for an action that branches, the branch it took (its position in
    /// `Kind::edges()`), `None` for one that does not.
    Chose(Option<usize>),
}

/// A generated loop: `loop { match state { ... } }` over a flow's id enum, calling the
/// [`Stepper`] for each action and matching the branch it took to the next.
pub type DriveFn = for<'a, 'r> fn(Stepper<'a, 'r>) -> BoxFuture<'a, Result<Walked, RunError>>;

/// A generated loop and the action ids it was generated for, in order: a loop whose ids are
/// not the flow's (crates of different versions) is not used, rather than stepping the wrong
/// actions.
#[derive(Clone, Copy, Debug)]
pub struct Driver {
    /// The flow's action ids when the macro lowered it.
    pub ids: &'static [&'static str],
    /// The loop.
    pub drive: DriveFn,
}

impl Driver {
    /// Whether the loop was generated for `flow`'s actions.
    pub(crate) fn fits(&self, flow: &flowyt_core::model::Flow) -> bool {
        self.ids
            .iter()
            .copied()
            .eq(flow.actions.iter().map(|a| a.id.as_str()))
    }
}

/// A `flow!`'s generated loop with the typed actions it calls, in the order the flow declares
/// them (`actions = [...]`).
#[derive(Clone)]
pub(crate) struct GeneratedLoop {
    pub driver: Driver,
    pub typed: Vec<Arc<dyn Any + Send + Sync>>,
}

impl GeneratedLoop {
    /// `driver`, calling the flow's declared `actions`.
    pub(crate) fn new(driver: Driver, actions: &[crate::__private::NamedAction]) -> GeneratedLoop {
        GeneratedLoop {
            driver,
            typed: actions.iter().map(|a| a.instance.clone()).collect(),
        }
    }
}

impl std::fmt::Debug for GeneratedLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedLoop")
            .field("typed", &self.typed.len())
            .finish()
    }
}

/// Walks one flow of a run, one action at a time. Every action goes through
/// [`Stepper::step`] (or [`Stepper::typed`]), which keeps the run's guards: the step budget,
/// the time limit, yields to the runtime, the legacy safe mode, tracing spans, metrics, the
/// debug trace and panic isolation.
pub struct Stepper<'a, 'r> {
    runner: &'a mut Runner<'r>,
    ctx: &'a mut Ctx,
    flow: &'a CompiledFlow,
    key: &'a str,
    /// The action to start at (a resumed run's checkpoint), else the flow's entry.
    start: Option<String>,
    started: Instant,
    /// The branch the last action took, for [`Stepper::resolve`].
    branch: Option<&'a Edge>,
}

/// What [`Stepper::begin`] found before an action runs.
struct Begun {
    safe_mode_expired: Option<(f64, f64)>,
    started: Instant,
    parent: tracing::Span,
}

impl<'a, 'r> Stepper<'a, 'r> {
    pub(crate) fn new(
        runner: &'a mut Runner<'r>,
        ctx: &'a mut Ctx,
        flow: &'a CompiledFlow,
        key: &'a str,
        start: Option<String>,
    ) -> Stepper<'a, 'r> {
        Stepper {
            runner,
            ctx,
            flow,
            key,
            start,
            started: Instant::now(),
            branch: None,
        }
    }

    /// Walks the flow: through its generated loop for a `flow!`, else by following the
    /// model's edges.
    pub(crate) async fn walk(mut self) -> Result<Walk, RunError> {
        if let Some(generated) = &self.flow.generated {
            return (generated.driver.drive)(self).await.map(|w| w.0);
        }
        let Some(mut at) = self.entry_index() else {
            return Ok(ended());
        };
        loop {
            if let Stepped::Over(w) = self.step(at).await? {
                return Ok(w.0);
            }
            let Some(next) = self.resolve_index(at)? else {
                return Ok(ended());
            };
            self.advance(next).await?;
            at = next;
        }
    }

    fn entry_index(&mut self) -> Option<usize> {
        match self.start.take() {
            Some(id) => self.flow.index.get(&id).copied(),
            None => self.flow.flow.entry(),
        }
    }

    /// The state to start in (`states` lists the id enum's variants in the flow's order), or
    /// `None` when the flow has nothing to run.
    pub fn entry<E: Copy>(&mut self, states: &[E]) -> Option<E> {
        self.entry_index().and_then(|i| states.get(i).copied())
    }

    /// The walk's end when the flow runs out of actions.
    pub fn ended(&self) -> Walked {
        Walked(ended())
    }

    /// Runs the action at `at`.
    pub async fn step(&mut self, at: usize) -> Result<Stepped, RunError> {
        let (action, begun) = self.begin(at).await?;
        let executed = actions::execute(self.runner, self.ctx, action).await;
        self.finish(at, action, begun, executed)
    }

    /// Runs the action at `at`, a use of the flow's declared typed action number `slot` (of
    /// type `A`), called directly: its data deserialised into its input type, its result
    /// serialised as `response.data`.
    pub async fn typed<A: TypedAction>(
        &mut self,
        at: usize,
        slot: usize,
    ) -> Result<Stepped, RunError> {
        let typed = self
            .flow
            .generated
            .as_ref()
            .and_then(|g| g.typed.get(slot))
            .and_then(|a| a.downcast_ref::<A>())
            .ok_or_else(|| {
                RunError::new(
                    ErrorKind::Flow,
                    format!("the flow declares no typed action `{}` at {slot}", A::NAME),
                )
            })?;
        let (action, begun) = self.begin(at).await?;
        let executed = actions::typed(self.runner, self.ctx, action, typed).await;
        self.finish(at, action, begun, executed)
    }

    /// Where the run goes after the action at `at`, when the generated loop left it to run
    /// time (a `next_action` template, a branch whose target is a template or missing).
    pub fn resolve<E: Copy>(&mut self, at: usize, states: &[E]) -> Result<Option<E>, RunError> {
        match self.resolve_index(at)? {
            Some(i) => states.get(i).copied().map(Some).ok_or_else(|| no_action(i)),
            None => Ok(None),
        }
    }

    /// Between two actions: checkpoints a durable run before the action at `next`.
    pub async fn advance(&mut self, next: usize) -> Result<(), RunError> {
        let id = self.action(next)?.id.as_str();
        self.runner.boundary(self.ctx, self.key, Some(id)).await
    }

    fn action(&self, at: usize) -> Result<&'a Action, RunError> {
        self.flow.flow.actions.get(at).ok_or_else(|| no_action(at))
    }

    /// Before an action: the step budget, the time limit and the yield, the safe mode's
    /// clock, and the action's span.
    async fn begin(&mut self, at: usize) -> Result<(&'a Action, Begun), RunError> {
        let action = self.action(at)?;
        let runner = &mut *self.runner;
        runner.count_step(action)?;
        runner.pace(self.ctx, action).await?;
        let safe_mode_expired = runner.shared.settings.safe_mode.and_then(|sm| {
            let elapsed = self.started.elapsed().as_secs_f64();
            (elapsed >= sm.safe_time).then_some((sm.safe_time, elapsed))
        });
        let started = Instant::now();
        let span = if crate::telemetry::exporting() {
            tracing::debug_span!(
                parent: &runner.span,
                "action",
                otel.name = action.id.as_str(),
                otel.status_code = tracing::field::Empty,
                flowyt.action.id = action.id.as_str(),
                flowyt.action.kind = action.kind_name.as_str(),
            )
        } else {
            tracing::Span::none()
        };
        let parent = std::mem::replace(&mut runner.span, span);
        Ok((
            action,
            Begun {
                safe_mode_expired,
                started,
                parent,
            },
        ))
    }

    /// After an action: its span, metrics and trace entry, and what it means for the walk.
    fn finish(
        &mut self,
        at: usize,
        action: &'a Action,
        begun: Begun,
        executed: Result<(Effect<'a>, Value), RunError>,
    ) -> Result<Stepped, RunError> {
        let runner = &mut *self.runner;
        let span = std::mem::replace(&mut runner.span, begun.parent);
        if executed.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        drop(span);
        if crate::measure::enabled() {
            self.flow.metrics[at].record(
                &runner.shared.label,
                &self.flow.kinds[at],
                outcome_of(action, &executed),
                begun.started.elapsed(),
            );
        }
        let (effect, evaluated) = match executed {
            Ok(x) => x,
            Err(mut e) => {
                if e.action.is_none() {
                    e.action = Some(failed_action(action));
                }
                runner.record(action, action.raw_data.clone(), begun.started);
                return Err(e);
            }
        };
        runner.record(action, evaluated, begun.started);
        runner.walked(action);
        // Legacy safe mode: checked before each action, the action picked still runs.
        if let Some((limit, elapsed)) = begun.safe_mode_expired
            && !matches!(effect, Effect::Respond { .. })
        {
            return Err(RunError::new(
                ErrorKind::Timeout,
                format!(
                    "This flow took a long time to run and was aborted. The limit is {} seconds and the flow took {} seconds.",
                    flowyt_core::expr::python_float_repr(limit),
                    flowyt_core::expr::python_float_repr(elapsed)
                ),
            ));
        }
        let (produced, branch) = match effect {
            Effect::Respond {
                status,
                headers,
                body,
            } => {
                return Ok(Stepped::Over(Walked(Walk::End(FlowEnd::Response {
                    status,
                    headers,
                    body,
                }))));
            }
            Effect::End => return Ok(Stepped::Over(Walked(ended()))),
            Effect::Invalid(errors) => {
                return Ok(Stepped::Over(Walked(Walk::End(FlowEnd::Invalid(errors)))));
            }
            Effect::Jump(target) => return Ok(Stepped::Over(Walked(Walk::Jump(target)))),
            Effect::Continue { produced, branch } => (produced, branch),
        };
        if let Some(p) = &produced {
            runner.record_output(p);
        }
        // `response` lives for exactly one action: the one after its producer.
        self.ctx.response = produced.unwrap_or_else(|| Value::Object(Map::new()).into());
        self.branch = branch;
        Ok(Stepped::Chose(
            branch.and_then(|b| action.kind.edge_index(b)),
        ))
    }

    /// The index of the action after the one at `at`, as the model's edges say (`None`: the
    /// flow ends).
    fn resolve_index(&mut self, at: usize) -> Result<Option<usize>, RunError> {
        let action = self.action(at)?;
        let branch_id = match self.branch.take() {
            Some(edge) => resolve_edge(self.ctx, action, edge)?,
            None => None,
        };
        let next = match &action.next {
            Next::End => None,
            Next::To(t) => Some(t.id.clone()),
            Next::Branch(_) => match branch_id {
                Some(id) => Some(id),
                None => {
                    return Err(fail(
                        action,
                        ErrorKind::Flow,
                        format!(
                            "`{}` chose no next action (`next_action` is `${{pipeline.next_action}}` but no branch applies)",
                            action.id
                        ),
                    ));
                }
            },
            Next::Dynamic(_) if self.flow.branch_next[at] => branch_id.filter(|id| !id.is_empty()),
            Next::Dynamic(tpl) => {
                let scope = PipelineScope(json!({
                    "next_action": branch_id,
                    "response": self.ctx.response.get(),
                }));
                let v = tpl.template.render(&scope).map_err(|e| {
                    fail(
                        action,
                        ErrorKind::Template,
                        format!("in `next_action`: {e}"),
                    )
                    .caused_by(e)
                })?;
                id_of(&v)
            }
        };
        let Some(next) = next else {
            return Ok(None);
        };
        match self.flow.index.get(&next) {
            Some(&i) => Ok(Some(i)),
            None => Err(fail(
                action,
                ErrorKind::Flow,
                format!(
                    "`next_action` of `{}` points to unknown action `{next}`",
                    action.id
                ),
            )),
        }
    }
}

fn ended() -> Walk {
    Walk::End(FlowEnd::Ended)
}

/// A loop asked for a position the flow does not have (a loop that does not fit its flow is
/// not used, so this is a flowyt bug).
fn no_action(at: usize) -> RunError {
    RunError::new(
        ErrorKind::Flow,
        format!("the flow has no action at position {at}"),
    )
}

/// The id an edge leads to (`None` for no edge or a falsy dynamic result).
fn resolve_edge(ctx: &Ctx, action: &Action, edge: &Edge) -> Result<Option<String>, RunError> {
    match edge {
        Edge::None => Ok(None),
        Edge::To(t) => Ok(Some(t.id.clone())),
        Edge::Dynamic(tpl) => {
            let v = tpl
                .template
                .render(ctx)
                .map_err(|e| fail(action, ErrorKind::Template, e.to_string()).caused_by(e))?;
            Ok(id_of(&v))
        }
    }
}

/// How an executed action ended, as metrics count it: an error, a fail branch (or a failed
/// validation), or a success.
fn outcome_of(
    action: &Action,
    executed: &Result<(Effect<'_>, Value), RunError>,
) -> crate::measure::ActionOutcome {
    use crate::measure::ActionOutcome;
    match executed {
        Err(_) => ActionOutcome::Error,
        Ok((Effect::Invalid(_), _)) => ActionOutcome::Fail,
        Ok((
            Effect::Continue {
                branch: Some(b), ..
            },
            _,
        )) if action.kind.fail_edge().is_some_and(|f| std::ptr::eq(f, *b)) => ActionOutcome::Fail,
        Ok(_) => ActionOutcome::Success,
    }
}

/// A template result used as an action id: strings and numbers; `null`, `""`, `false` end the flow.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

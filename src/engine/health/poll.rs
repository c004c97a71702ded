//! The wait itself, run by the runner as master0's step: ask kubectl, tell
//! each host's state when it changes (an event about that host, a line in
//! master0's log), stop when all are Ready or the time is up.

use super::nodes::{self, NODES_JSONPATH, Node};
use super::{WaitReady, show_duration};
use crate::engine::command::Command;
use crate::engine::event::Stream;
use crate::engine::plan::HostId;
use crate::engine::step::{ActError, Acted, Output};
use crate::engine::transport::Transport;
use std::collections::HashMap;
use tokio::time::Instant;

/// The most output lines one question keeps (a line per node and condition).
const MAX_LINES: usize = 50_000;

/// What one host's node looks like now.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Ready(String),
    NotReady { name: String, problems: String },
    Missing,
}

impl State {
    fn of(node: Option<&Node>) -> State {
        match node {
            None => State::Missing,
            Some(n) if n.is_ready() => State::Ready(n.name.clone()),
            Some(n) => State::NotReady {
                name: n.name.clone(),
                problems: n.problems(),
            },
        }
    }

    fn describe(&self) -> String {
        match self {
            State::Ready(name) => format!("node {name} is Ready"),
            State::NotReady { name, problems } => format!("node {name} is not Ready: {problems}"),
            State::Missing => "no node with this address has registered yet".to_string(),
        }
    }
}

/// Wait as `w` says on master0's transport `t`; `out` is master0's step.
pub(in crate::engine) async fn wait(
    t: &dyn Transport,
    w: &WaitReady,
    out: &mut Output<'_>,
) -> Result<Acted, ActError> {
    let ask = Command::new("kubectl").args(["get", "nodes", "-o", NODES_JSONPATH]);
    let deadline = Instant::now() + w.timeout;
    let mut shown: HashMap<&HostId, State> = HashMap::new();
    let mut kubectl_error: Option<String> = None;
    loop {
        let mut lines: Vec<String> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        let code = t
            .run(&ask, &mut |stream, line| match stream {
                Stream::Stdout if lines.len() < MAX_LINES => lines.push(line.to_string()),
                Stream::Stderr if errors.len() < 5 => errors.push(line.to_string()),
                _ => {}
            })
            .await
            .map_err(ActError::Transport)?;
        if code == 0 {
            kubectl_error = None;
            let found = nodes::parse(&lines);
            let mut pending = Vec::new();
            for n in &w.nodes {
                let state = State::of(nodes::find(&found, n.ip));
                if shown.get(&n.host) != Some(&state) {
                    out.note_for(&n.host, &state.describe());
                    shown.insert(&n.host, state.clone());
                }
                if !matches!(state, State::Ready(_)) {
                    pending.push((&n.host, state));
                }
            }
            if pending.is_empty() {
                return Ok(Acted::Ran { code: 0, bytes: 0 });
            }
            if Instant::now() >= deadline {
                let each: Vec<String> = pending
                    .iter()
                    .map(|(h, s)| format!("{h}: {}", s.describe()))
                    .collect();
                return Err(not_ready(w, &each.join("; "), out));
            }
        } else {
            let said = format!(
                "kubectl get nodes exited with code {code}: {}",
                errors.join(" / ")
            );
            if kubectl_error.as_deref() != Some(said.as_str()) {
                let host = out.em.step.host.clone();
                out.note_for(&host, &said);
                kubectl_error = Some(said.clone());
            }
            if Instant::now() >= deadline {
                return Err(not_ready(
                    w,
                    &format!("the API server did not answer: {said}"),
                    out,
                ));
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(w.every.min(left)).await;
    }
}

/// The failure: what was not Ready when the time ran out (host output made
/// safe for the terminal and masked, like every line of a step).
fn not_ready(w: &WaitReady, what: &str, out: &Output<'_>) -> ActError {
    let what = out.mask(&crate::sanitize::terminal_safe(what));
    ActError::Local(format!(
        "not every node was Ready within {}: {what}",
        show_duration(w.timeout)
    ))
}

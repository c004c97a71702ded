//! Waiting for the cluster to be healthy: after an install, an add or an
//! upgrade, a step on master0 asks the API server (kubectl) every few
//! seconds until every host's node is `Ready`, reporting each host's state
//! as events about that host. A host that is not Ready in time fails the
//! step, naming it and its node's conditions. Any lifecycle appends the
//! stage with [`wait_stage`].

pub mod nodes;
mod poll;
pub mod wait_ready;

pub(in crate::engine) use poll::wait;
pub use wait_ready::{Awaited, WaitReady, show_duration};

use super::plan::{Action, OnFailure, Order, Phase, Stage, Step};
use super::spec::ClusterSpec;
use std::time::Duration;

/// How long a run waits for every node to be Ready unless told otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(300);
/// How often the API server is asked.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// The health stage: master0 waits up to `timeout` for every host of
/// `spec` to be a Ready node. `after` names what it follows (`install`,
/// `upgrade to v1.26.0`): the step's identity, so a journal that holds the
/// wait after one change does not skip the wait after the next.
pub fn wait_stage(
    spec: &ClusterSpec,
    timeout: Duration,
    after: &str,
) -> Result<Stage, super::spec::SpecError> {
    let master0 = spec.master0()?;
    let nodes = spec
        .hosts
        .iter()
        .map(|h| Awaited {
            host: h.id.clone(),
            ip: h.ip,
        })
        .collect();
    let action = Action::WaitReady(WaitReady {
        nodes,
        timeout,
        every: POLL_EVERY.min(timeout.max(Duration::from_millis(100))),
    });
    let step = Step::new(
        Phase::Health,
        master0.id.clone(),
        &format!("ready after {after}"),
        action,
    )
    .expect("a wait has no command line to refuse");
    Ok(Stage {
        phase: Phase::Health,
        steps: vec![step],
        order: Order::OneByOne,
        on_failure: OnFailure::Stop,
    })
}

/// `5m`, `90s`, `1h30m`: how `--wait` is written and shown.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 90s, 5m or 1h30m");
    let mut total = 0u64;
    let mut number = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || s.trim().is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_show_alike() {
        for (text, secs) in [("90s", 90), ("5m", 300), ("1h30m", 5400), ("0s", 0)] {
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)));
        }
        assert_eq!(show_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(show_duration(Duration::from_secs(300)), "5m");
        for bad in ["", "5", "m", "5x", "-1s", "99999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_wait_runs_on_master0_for_every_host_and_its_id_names_what_it_follows() {
        let spec = crate::engine::install::fixture::spec(vec![]);
        let stage = wait_stage(&spec, DEFAULT_WAIT, "install").unwrap();
        assert_eq!(stage.steps.len(), 1);
        let step = &stage.steps[0];
        assert_eq!(step.host, spec.master0().unwrap().id);
        let Action::WaitReady(w) = &step.action else {
            panic!("{:?}", step.action)
        };
        assert_eq!(w.nodes.len(), spec.hosts.len());
        let other = wait_stage(&spec, DEFAULT_WAIT, "upgrade to v1.29.0").unwrap();
        assert_ne!(other.steps[0].id, step.id);
        let longer = wait_stage(&spec, Duration::from_secs(900), "install").unwrap();
        assert_eq!(longer.steps[0].id, step.id, "the timeout is not an input");
    }
}

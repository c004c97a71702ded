//! The journal is a cache, never the authority over a host. Before a run
//! trusts it, every host is asked, in one command and all hosts at once,
//! whether the marker files of its steps the journal holds as finished are
//! still there. A host that lost any (rebuilt, its disk wiped) has all its
//! steps of the plan redone; a host that cannot be asked keeps its journal
//! (its steps will fail and say why).

use super::super::command::Command;
use super::super::journal::Journal;
use super::super::plan::{HostId, Marker, Plan};
use super::super::transport::Transport;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How long one host may take to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(60);

/// Prints the first path that does not exist, and fails; succeeds when all do.
const ALL_EXIST: &str = r#"for p in "$@"; do [ -e "$p" ] || { printf '%s\n' "$p"; exit 1; }; done"#;

/// The hosts that no longer hold what `journal` says they have.
pub(super) async fn lost_hosts(
    hosts: &HashMap<HostId, Arc<dyn Transport>>,
    plan: &Plan,
    journal: &Journal,
) -> HashSet<HostId> {
    let mut markers: BTreeMap<&HostId, Vec<&str>> = BTreeMap::new();
    for step in plan.steps() {
        if let Some(Marker::FileExists(path)) = &step.skip_when
            && journal.is_done(&step.id)
        {
            markers.entry(&step.host).or_default().push(path);
        }
    }
    let asks = markers.into_iter().filter_map(|(host, paths)| {
        let t = hosts.get(host)?.clone();
        let cmd = Command::new("bash")
            .arg("-c")
            .arg(ALL_EXIST)
            .arg("tug")
            .args(paths.iter().copied());
        Some(async move {
            let asked = tokio::time::timeout(ASK_TIMEOUT, t.run(&cmd, &mut |_, _| {})).await;
            matches!(asked, Ok(Ok(code)) if code != 0).then(|| host.clone())
        })
    });
    futures_util::future::join_all(asks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

//! Connecting a cluster's hosts as a run does: this machine's own
//! addresses locally, the others over SSH, checked against tug's
//! known_hosts with the context's host-key policy; each key trusted for
//! the first time is told as a [`Notice`].

use super::{Context, Notice, Notify};
use crate::engine::plan::HostId;
use crate::engine::spec::HostSpec;
use crate::engine::transport::Transport;
use crate::engine::transport::select::{ConnectError, Unreachable, connect};
use crate::ssh::{HostKeyPolicy, KnownHosts};
use std::collections::HashMap;
use std::sync::Arc;

/// A transport for every host of `hosts` plus the jump host, connected
/// with `ctx`'s known_hosts and host-key policy.
pub async fn connect_hosts(
    ctx: &Context,
    hosts: &[HostSpec],
    unreachable: Unreachable,
    notify: Notify<'_>,
) -> Result<HashMap<HostId, Arc<dyn Transport>>, ConnectError> {
    connect_with(
        hosts,
        ctx.known_hosts(),
        ctx.host_key_policy(),
        unreachable,
        notify,
    )
    .await
}

/// [`connect_hosts`] with an explicit known_hosts and policy (the wizard
/// trusts only the keys its connection test confirmed).
pub async fn connect_with(
    hosts: &[HostSpec],
    known: KnownHosts,
    policy: HostKeyPolicy,
    unreachable: Unreachable,
    notify: Notify<'_>,
) -> Result<HashMap<HostId, Arc<dyn Transport>>, ConnectError> {
    connect(hosts, known, policy, unreachable, |who, k| {
        notify(Notice::new_key(who, k));
    })
    .await
}

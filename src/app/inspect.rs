//! How an installed cluster is, asked of its hosts without changing
//! anything (unknown host keys are refused, not recorded): whether each
//! host answers and holds the cluster, its Kubernetes version and whether
//! its node is Ready (kubectl on the first master that answers), and on
//! masters the control-plane certificates' expiry (`kubeadm certs
//! check-expiration`). Both faces use it (`tug status`, `tug cert`). The
//! soonest expiry of each master is recorded in the cluster's state dir,
//! which a run's own check at its start ([`super::cert_warning`]) refreshes
//! and falls back to for a master that does not answer.

use super::Context;
use super::connect::connect_with;
use super::notice::ignore;
use crate::cluster::state::ClusterState;
use crate::engine::command::{Command, quote};
use crate::engine::event::Stream;
use crate::engine::health::nodes::{self, NODES_JSONPATH, Node};
use crate::engine::plan::HostId;
use crate::engine::spec::{HostSpec, Role};
use crate::engine::transport::select::Unreachable;
use crate::engine::transport::{Transport, TransportError};
use crate::kubeadm::expiry::{self, CertExpiry};
use crate::ssh::HostKeyPolicy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long one question to a host may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(20);
/// The most output lines kept of one question.
const MAX_LINES: usize = 10_000;
/// Fewer days than this left on a certificate is worth a warning.
pub const CERT_WARN_DAYS: i64 = 30;
/// The record of each master's soonest certificate expiry, in the state dir.
pub const CERT_RECORD: &str = "certs.json";

/// A certificate's expiry as shown: name, date, days left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    /// The certificate (`apiserver`, `admin.conf`, `ca`, …).
    pub name: String,
    /// When it expires.
    pub expires: DateTime<Utc>,
    /// Whole days left when asked (negative once expired).
    pub days_left: i64,
}

impl Expiry {
    fn of(c: &CertExpiry, now: DateTime<Utc>) -> Option<Expiry> {
        Some(Expiry {
            name: c.name.clone(),
            expires: c.expires?,
            days_left: c.days_left(now)?,
        })
    }
}

/// What a host said when asked.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Answer {
    /// It answered.
    Reachable {
        /// It holds the cluster's data dir.
        data: bool,
        /// It has a kubelet.conf (kubeadm init or join ran).
        joined: bool,
        /// The Kubernetes version its kubelet runs (from the API server,
        /// else `kubelet --version` on the host).
        version: Option<String>,
        /// Whether its node is Ready; `None` when the API server was not asked or did not answer.
        ready: Option<bool>,
        /// What its node's conditions say is wrong, when it is not Ready.
        #[serde(skip_serializing_if = "Option::is_none")]
        problems: Option<String>,
        /// On a master: its certificate that expires first.
        #[serde(skip_serializing_if = "Option::is_none")]
        cert_expiry: Option<Expiry>,
    },
    /// It did not answer, and why.
    Unreachable {
        /// Why.
        error: String,
    },
}

/// Every certificate of one master, or why they could not be read.
#[derive(Clone, Debug)]
pub struct MasterCerts {
    /// The master.
    pub host: HostId,
    /// Its certificates, or what went wrong asking.
    pub certs: Result<Vec<Expiry>, String>,
}

/// Connect to `hosts` for asking: known keys only, unreachable ones kept.
async fn connect(
    ctx: &Context,
    hosts: &[HostSpec],
) -> anyhow::Result<HashMap<HostId, Arc<dyn Transport>>> {
    Ok(connect_with(
        hosts,
        ctx.known_hosts(),
        HostKeyPolicy::Strict,
        Unreachable::Tolerate,
        &ignore,
    )
    .await?)
}

/// Run `cmd` on `t` and keep its output lines (made safe for the terminal).
async fn ask(t: &dyn Transport, cmd: &Command) -> Result<(i32, Vec<String>), String> {
    ask_within(t, cmd, ASK_TIMEOUT).await
}

/// [`ask`], waiting at most `limit` for the answer.
pub(super) async fn ask_within(
    t: &dyn Transport,
    cmd: &Command,
    limit: Duration,
) -> Result<(i32, Vec<String>), String> {
    let mut lines = Vec::new();
    let mut sink = |_: Stream, line: &str| {
        if lines.len() < MAX_LINES {
            lines.push(crate::sanitize::terminal_safe(line).into_owned());
        }
    };
    match tokio::time::timeout(limit, t.run(cmd, &mut sink)).await {
        Ok(Ok(code)) => Ok((code, lines)),
        Ok(Err(TransportError::Connection(e))) => {
            Err(crate::sanitize::terminal_safe(&e).into_owned())
        }
        Ok(Err(e)) => Err(crate::sanitize::terminal_safe(&e.to_string()).into_owned()),
        Err(_) => Err(format!("no answer within {}s", limit.as_secs())),
    }
}

/// A master's certificates (`kubeadm certs check-expiration`).
async fn certs_of(t: &dyn Transport, now: DateTime<Utc>) -> Result<Vec<Expiry>, String> {
    let cmd = Command::new("kubeadm").args(["certs", "check-expiration"]);
    let (code, lines) = ask(t, &cmd).await?;
    certs_in(code, &lines, now)
}

/// The certificates in what `kubeadm certs check-expiration` printed
/// (`lines`, ending with exit `code`), or why there are none.
pub(super) fn certs_in(
    code: i32,
    lines: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<Expiry>, String> {
    let certs: Vec<Expiry> = expiry::parse(lines)
        .iter()
        .filter_map(|c| Expiry::of(c, now))
        .collect();
    if code != 0 || certs.is_empty() {
        let last = lines.last().cloned().unwrap_or_default();
        return Err(format!(
            "kubeadm certs check-expiration exited with code {code}: {last}"
        ));
    }
    Ok(certs)
}

/// The nodes the first master that answers knows, or `None`.
async fn nodes_from(
    masters: &[&HostSpec],
    transports: &HashMap<HostId, Arc<dyn Transport>>,
) -> Option<Vec<Node>> {
    let cmd = Command::new("kubectl").args(["get", "nodes", "-o", NODES_JSONPATH]);
    for m in masters {
        if let Ok((0, lines)) = ask(transports[&m.id].as_ref(), &cmd).await {
            return Some(nodes::parse(&lines));
        }
    }
    None
}

/// Ask every host of a cluster, all at once, how it is; `data_dir` is the
/// cluster's data dir on the hosts. Records the masters' soonest expiry in `state`.
pub async fn hosts(
    ctx: &Context,
    state: &ClusterState,
    hosts: &[HostSpec],
    data_dir: &str,
) -> anyhow::Result<Vec<Answer>> {
    let transports = connect(ctx, hosts).await?;
    let now = Utc::now();
    let probe = Command::shell(format!(
        "test -d {} && echo data; test -f /etc/kubernetes/kubelet.conf && echo joined; \
         v=$(kubelet --version 2>/dev/null) && echo \"kubelet $v\"; true",
        quote(data_dir)
    ));
    let asks = hosts.iter().map(|h| {
        let t = transports[&h.id].clone();
        let probe = &probe;
        async move {
            let answer = ask(t.as_ref(), probe).await;
            let certs = match (&answer, h.has(Role::Master)) {
                (Ok(_), true) => Some(certs_of(t.as_ref(), now).await),
                _ => None,
            };
            (answer, certs)
        }
    });
    let asked = futures_util::future::join_all(asks).await;
    let masters: Vec<&HostSpec> = hosts
        .iter()
        .zip(&asked)
        .filter(|(h, (a, _))| h.has(Role::Master) && a.is_ok())
        .map(|(h, _)| h)
        .collect();
    let known = nodes_from(&masters, &transports).await;
    let mut record = Vec::new();
    let answers = hosts
        .iter()
        .zip(asked)
        .map(|(h, (answer, certs))| match answer {
            Err(error) => Answer::Unreachable { error },
            Ok((_, lines)) => {
                let node = known.as_ref().and_then(|k| nodes::find(k, h.ip));
                let kubelet = lines.iter().find_map(|l| {
                    l.strip_prefix("kubelet ")
                        .and_then(|v| v.split_whitespace().last())
                        .map(str::to_string)
                });
                let cert_expiry = certs
                    .and_then(Result::ok)
                    .and_then(|c| c.into_iter().min_by_key(|e| e.expires));
                if let Some(e) = &cert_expiry {
                    record.push((h.id.clone(), e.clone()));
                }
                Answer::Reachable {
                    data: lines.iter().any(|l| l == "data"),
                    joined: lines.iter().any(|l| l == "joined"),
                    version: node
                        .map(|n| n.version.clone())
                        .filter(|v| !v.is_empty())
                        .or(kubelet),
                    ready: known.as_ref().map(|_| node.is_some_and(Node::is_ready)),
                    problems: node
                        .filter(|n| !n.is_ready())
                        .map(Node::problems)
                        .or_else(|| {
                            (known.is_some() && node.is_none())
                                .then(|| "no node with this address".to_string())
                        }),
                    cert_expiry,
                }
            }
        })
        .collect();
    if !record.is_empty() {
        save_record(state, &record);
    }
    Ok(answers)
}

/// Every certificate of every master in `masters`, asked all at once, in
/// their order. Records each master's soonest expiry in `state`.
pub async fn certificates(
    ctx: &Context,
    state: &ClusterState,
    masters: &[HostSpec],
) -> anyhow::Result<Vec<MasterCerts>> {
    let transports = connect(ctx, masters).await?;
    let now = Utc::now();
    let asks = masters.iter().map(|m| {
        let t = transports[&m.id].clone();
        async move {
            MasterCerts {
                host: m.id.clone(),
                certs: certs_of(t.as_ref(), now).await,
            }
        }
    });
    let all = futures_util::future::join_all(asks).await;
    let record: Vec<(HostId, Expiry)> = all
        .iter()
        .filter_map(|m| {
            let certs = m.certs.as_ref().ok()?;
            let first = certs.iter().min_by_key(|e| e.expires)?;
            Some((m.host.clone(), first.clone()))
        })
        .collect();
    if !record.is_empty() {
        save_record(state, &record);
    }
    Ok(all)
}

/// Remember each master's soonest expiry (best effort: a run falls back
/// to it only for a master that does not answer).
pub(super) fn save_record(state: &ClusterState, record: &[(HostId, Expiry)]) {
    if let Ok(json) = serde_json::to_vec_pretty(record) {
        let _ = crate::fsutil::write_private(&state.dir().join(CERT_RECORD), &json);
    }
}

/// Each master's soonest expiry as last recorded (empty when none was, or
/// the record cannot be read).
pub(super) fn read_record(state: &ClusterState) -> Vec<(HostId, Expiry)> {
    std::fs::read(state.dir().join(CERT_RECORD))
        .ok()
        .and_then(|text| serde_json::from_slice(&text).ok())
        .unwrap_or_default()
}

/// The warning for a certificate with fewer than [`CERT_WARN_DAYS`] left,
/// or `None`.
pub fn expiry_warning(host: &HostId, e: &Expiry, cluster: &str) -> Option<String> {
    if e.days_left >= CERT_WARN_DAYS {
        return None;
    }
    let when = if e.days_left < 0 {
        format!("expired on {}", e.expires.format("%Y-%m-%d"))
    } else {
        format!(
            "expires in {} days ({})",
            e.days_left,
            e.expires.format("%Y-%m-%d")
        )
    };
    Some(format!(
        "certificate {} of master {host} {when}: `tug cert --cluster {cluster} --renew` renews them",
        e.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_than_thirty_days_warns_naming_the_master_and_the_way_out() {
        let at = |days: i64| Expiry {
            name: "apiserver".into(),
            expires: Utc::now() + chrono::Duration::days(days),
            days_left: days,
        };
        let h = HostId::new("10.0.0.1");
        assert_eq!(expiry_warning(&h, &at(30), "c1"), None);
        let w = expiry_warning(&h, &at(12), "c1").unwrap();
        assert!(w.starts_with("certificate apiserver of master 10.0.0.1 expires in 12 days"));
        assert!(w.ends_with("`tug cert --cluster c1 --renew` renews them"));
        assert!(
            expiry_warning(&h, &at(-2), "c1")
                .unwrap()
                .contains("expired on")
        );
    }
}

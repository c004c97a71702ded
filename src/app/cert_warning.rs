//! The certificate warning a run starts with: once the hosts are
//! connected, the masters are asked, all at once and briefly, when their
//! certificates expire (`kubeadm certs check-expiration`, read as `tug
//! status` reads it); each master with fewer than
//! [`CERT_WARN_DAYS`](inspect::CERT_WARN_DAYS) left is a warning, and the
//! record `tug status` and `tug cert` keep is refreshed from the answers.
//! A master that does not answer in time is warned about as last
//! recorded; one without a control plane yet (a fresh install) runs no
//! kubeadm and has no entry. The check never fails a run.

use super::inspect::{self, Expiry, ask_within, certs_in, expiry_warning, read_record};
use crate::cluster::state::ClusterState;
use crate::engine::command::Command;
use crate::engine::plan::HostId;
use crate::engine::spec::{HostSpec, Role};
use crate::engine::transport::Transport;
use crate::secret::{MASK, Secret};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long the masters may take to answer at a run's start; a slower
/// one is warned about from the record instead.
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// What a host without a control plane (no admin.conf or no kubeadm)
/// prints instead of its certificates.
const NO_CONTROL_PLANE: &str = "tug: no control plane on this host";

/// What one master said.
enum Asked {
    /// Its certificate that expires first.
    Soonest(Expiry),
    /// It holds no control plane yet.
    NoControlPlane,
    /// It did not answer in time, or not in a way that can be read.
    Silent,
}

/// The warnings a run of the cluster in `state` starts with: asked now of
/// the masters among `hosts` over `transports` (`secrets` masked in what
/// they print), refreshing the record; as last recorded when the hosts
/// cannot be asked (`None`: the demo's).
pub async fn at_start(
    state: &ClusterState,
    hosts: Option<&[HostSpec]>,
    transports: &HashMap<HostId, Arc<dyn Transport>>,
    secrets: &[Secret],
) -> Vec<String> {
    let Some(hosts) = hosts else {
        return warnings(read_record(state), state.name(), Utc::now());
    };
    let masters: Vec<HostId> = hosts
        .iter()
        .filter(|h| h.has(Role::Master))
        .map(|h| h.id.clone())
        .collect();
    live(state, &masters, transports, secrets).await
}

/// The warnings about `masters`, asked now; refreshes the record.
async fn live(
    state: &ClusterState,
    masters: &[HostId],
    transports: &HashMap<HostId, Arc<dyn Transport>>,
    secrets: &[Secret],
) -> Vec<String> {
    let now = Utc::now();
    let asks = masters.iter().map(|m| {
        let t = transports.get(m).cloned();
        async move {
            match t {
                Some(t) => ask(t.as_ref(), secrets, now).await,
                None => Asked::Silent,
            }
        }
    });
    let answers = futures_util::future::join_all(asks).await;
    let old = read_record(state);
    let record = refreshed(masters, answers, &old);
    if record != old {
        inspect::save_record(state, &record);
    }
    warnings(record, state.name(), now)
}

/// The record after `masters` gave `answers` (in their order): an answer
/// replaces a master's entry, a master without a control plane has none,
/// a silent one keeps what `old` says of it.
fn refreshed(
    masters: &[HostId],
    answers: Vec<Asked>,
    old: &[(HostId, Expiry)],
) -> Vec<(HostId, Expiry)> {
    masters
        .iter()
        .zip(answers)
        .filter_map(|(m, asked)| match asked {
            Asked::Soonest(e) => Some((m.clone(), e)),
            Asked::NoControlPlane => None,
            Asked::Silent => old.iter().find(|(h, _)| h == m).cloned(),
        })
        .collect()
}

/// Each master of `record` whose certificate has fewer than
/// [`CERT_WARN_DAYS`](inspect::CERT_WARN_DAYS) left at `now`, as a warning about `cluster`.
fn warnings(record: Vec<(HostId, Expiry)>, cluster: &str, now: DateTime<Utc>) -> Vec<String> {
    record
        .into_iter()
        .filter_map(|(host, mut e)| {
            e.days_left = (e.expires - now).num_days();
            expiry_warning(&host, &e, cluster)
        })
        .collect()
}

/// Ask one master for its soonest certificate expiry.
async fn ask(t: &dyn Transport, secrets: &[Secret], now: DateTime<Utc>) -> Asked {
    let cmd = Command::shell(format!(
        "if [ -f /etc/kubernetes/admin.conf ] && command -v kubeadm >/dev/null 2>&1; \
         then kubeadm certs check-expiration; else echo '{NO_CONTROL_PLANE}'; fi"
    ));
    let Ok((code, lines)) = ask_within(t, &cmd, START_TIMEOUT).await else {
        return Asked::Silent;
    };
    if code == 0 && lines.iter().any(|l| l == NO_CONTROL_PLANE) {
        return Asked::NoControlPlane;
    }
    let lines: Vec<String> = lines.iter().map(|l| mask(l, secrets)).collect();
    match certs_in(code, &lines, now) {
        Ok(certs) => certs
            .into_iter()
            .min_by_key(|e| e.expires)
            .map_or(Asked::Silent, Asked::Soonest),
        Err(_) => Asked::Silent,
    }
}

/// `line` with every secret replaced by the mask.
fn mask(line: &str, secrets: &[Secret]) -> String {
    secrets
        .iter()
        .map(Secret::expose)
        .filter(|s| !s.is_empty())
        .fold(line.to_string(), |l, s| l.replace(s, MASK))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiring(name: &str, days: i64, now: DateTime<Utc>) -> Expiry {
        Expiry {
            name: name.into(),
            expires: now + chrono::Duration::days(days) + chrono::Duration::hours(1),
            days_left: days,
        }
    }

    #[test]
    fn answers_replace_the_record_and_a_silent_master_keeps_its_entry() {
        let now = Utc::now();
        let [a, b, c] = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map(HostId::new);
        let old = vec![
            (a.clone(), expiring("apiserver", 300, now)),
            (b.clone(), expiring("etcd-server", 12, now)),
            (c.clone(), expiring("admin.conf", 5, now)),
        ];
        let masters = [a.clone(), b.clone(), c.clone()];
        let answers = vec![
            Asked::Soonest(expiring("front-proxy-client", 20, now)),
            Asked::Silent,
            Asked::NoControlPlane,
        ];
        let record = refreshed(&masters, answers, &old);
        assert_eq!(
            record,
            [
                (a.clone(), expiring("front-proxy-client", 20, now)),
                (b.clone(), expiring("etcd-server", 12, now)),
            ]
        );
        let w = warnings(record, "c1", now);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with(
                "certificate front-proxy-client of master 10.0.0.1 expires in 20 days"
            ),
            "{w:?}"
        );
        assert!(
            w[1].contains("of master 10.0.0.2 expires in 12 days"),
            "{w:?}"
        );
        assert!(warnings(vec![(a, expiring("ca", 400, now))], "c1", now).is_empty());
    }

    #[test]
    fn secrets_in_what_a_master_prints_are_masked() {
        let secrets = [Secret::new("s3cret".to_string())];
        assert_eq!(
            mask("user s3cret here", &secrets),
            format!("user {MASK} here")
        );
    }
}

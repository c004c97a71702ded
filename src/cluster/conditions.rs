//! How an apply records itself in `status`: the phase and sealos-shaped
//! conditions (`type`, `status` "True"/"False", `reason`, `message`,
//! `lastHeartbeatTime`). sealos writes `ApplyClusterSuccess` or
//! `ApplyClusterError` at the end of an apply; tug also writes
//! `ApplyClusterProgress` after every finished stage, so a file left by a
//! failed or interrupted run says how far it got. A condition of a type
//! replaces the older one of that type and goes last, so the last
//! condition is always the newest news.

use super::model::{ClusterStatus, Condition, Phase};
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_yaml::Mapping;

/// The apply finished: every stage ran.
pub const APPLY_SUCCESS: &str = "ApplyClusterSuccess";
/// The apply failed or was cancelled; the message says where.
pub const APPLY_ERROR: &str = "ApplyClusterError";
/// The last stage an apply finished (tug's own type; sealos keeps it as is).
pub const APPLY_PROGRESS: &str = "ApplyClusterProgress";

/// The reason of an [`APPLY_ERROR`] written for a cancelled apply.
pub const CANCELLED: &str = "Cancelled";
/// The condition of a reset that started and has not finished on every
/// host: the cluster's record stays until it has.
pub const RESETTING: &str = "ResetClusterInProgress";

impl ClusterStatus {
    /// An apply starts: `ClusterInProcess`. The conditions of the last apply
    /// stay until this one says more; none of them stops a re-run.
    pub fn apply_started(&mut self) {
        self.phase = Some(Phase::ClusterInProcess);
    }

    /// Stage `number` of `of` (of `phase`, on `hosts`) finished.
    pub fn stage_finished<Tz: TimeZone>(
        &mut self,
        number: usize,
        of: usize,
        phase: &str,
        hosts: &[String],
        at: &DateTime<Tz>,
    ) {
        let message = format!(
            "stage {number} of {of} ({phase}) finished on {}",
            host_list(hosts)
        );
        self.set_condition(condition(APPLY_PROGRESS, true, &camel(phase), message, at));
    }

    /// The apply succeeded: `ClusterSuccess`, and an earlier error is gone.
    pub fn apply_succeeded<Tz: TimeZone>(&mut self, at: &DateTime<Tz>) {
        self.phase = Some(Phase::ClusterSuccess);
        self.conditions.retain(|c| c.kind != APPLY_ERROR);
        let message = "Applied to cluster successfully".to_string();
        self.set_condition(condition(APPLY_SUCCESS, true, "Ready", message, at));
    }

    /// The apply failed for `reason` (CamelCase) as `message` says:
    /// `ClusterFailed`, and an earlier success is no longer the news.
    pub fn apply_failed<Tz: TimeZone>(&mut self, reason: &str, message: String, at: &DateTime<Tz>) {
        self.phase = Some(Phase::ClusterFailed);
        self.conditions.retain(|c| c.kind != APPLY_SUCCESS);
        self.set_condition(condition(APPLY_ERROR, false, reason, message, at));
    }

    /// The user cancelled the apply: it stays `ClusterInProcess` (a re-run
    /// resumes it), with the cancellation as its latest error.
    pub fn apply_cancelled<Tz: TimeZone>(&mut self, message: String, at: &DateTime<Tz>) {
        self.phase = Some(Phase::ClusterInProcess);
        self.conditions.retain(|c| c.kind != APPLY_SUCCESS);
        self.set_condition(condition(APPLY_ERROR, false, CANCELLED, message, at));
    }

    /// A reset starts: the record stays, marked, until every host is
    /// clean (a reset that fails on a host keeps it).
    pub fn reset_started<Tz: TimeZone>(&mut self, at: &DateTime<Tz>) {
        self.phase = Some(Phase::ClusterInProcess);
        self.conditions.retain(|c| c.kind != APPLY_SUCCESS);
        let message = "a reset started; the cluster is kept until every host is clean".to_string();
        self.set_condition(condition(RESETTING, false, "Resetting", message, at));
    }

    /// Whether a reset started and did not finish.
    pub fn resetting(&self) -> bool {
        self.condition(RESETTING).is_some()
    }

    /// The condition of type `kind`, if any.
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// Replace the condition of `c`'s type (keeping fields tug does not
    /// know) and move it last.
    fn set_condition(&mut self, mut c: Condition) {
        if let Some(i) = self.conditions.iter().position(|old| old.kind == c.kind) {
            c.extra = std::mem::take(&mut self.conditions.remove(i).extra);
        }
        self.conditions.push(c);
    }
}

fn condition<Tz: TimeZone>(
    kind: &str,
    ok: bool,
    reason: &str,
    message: String,
    at: &DateTime<Tz>,
) -> Condition {
    Condition {
        kind: kind.to_string(),
        status: if ok { "True" } else { "False" }.to_string(),
        // metav1.Time: RFC 3339 in UTC, whole seconds.
        last_heartbeat_time: Some(
            at.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        reason: Some(reason.to_string()),
        message: Some(message),
        extra: Mapping::new(),
    }
}

/// `kubeadm-init` → `KubeadmInit`: a reason is one CamelCase word.
fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

/// The first few hosts and how many more: a status line stays short on
/// a cluster of hundreds.
fn host_list(hosts: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut list = hosts
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if hosts.len() > SHOWN {
        list.push_str(&format!(" and {} more", hosts.len() - SHOWN));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::model::Cluster;

    fn at(sec: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, sec).unwrap()
    }

    fn hosts(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("10.0.0.{i}")).collect()
    }

    fn kinds(s: &ClusterStatus) -> Vec<(&str, &str)> {
        s.conditions
            .iter()
            .map(|c| (c.kind.as_str(), c.status.as_str()))
            .collect()
    }

    #[test]
    fn each_stage_replaces_the_progress_and_a_failure_comes_last() {
        let mut s = ClusterStatus::default();
        s.apply_started();
        s.stage_finished(1, 4, "distribute", &hosts(2), &at(1));
        s.stage_finished(2, 4, "kubeadm-init", &hosts(1), &at(2));
        s.apply_failed("StepFailed", "[10.0.0.2] join-nodes: boom".into(), &at(3));
        assert_eq!(s.phase, Some(Phase::ClusterFailed));
        assert_eq!(
            kinds(&s),
            [(APPLY_PROGRESS, "True"), (APPLY_ERROR, "False")]
        );
        let progress = s.condition(APPLY_PROGRESS).unwrap();
        assert_eq!(progress.reason.as_deref(), Some("KubeadmInit"));
        assert_eq!(
            progress.message.as_deref(),
            Some("stage 2 of 4 (kubeadm-init) finished on 10.0.0.1")
        );
        assert_eq!(
            progress.last_heartbeat_time.as_deref(),
            Some("2026-11-23T09:00:02Z")
        );
        let error = s.condition(APPLY_ERROR).unwrap();
        assert_eq!(error.reason.as_deref(), Some("StepFailed"));
        assert_eq!(
            error.message.as_deref(),
            Some("[10.0.0.2] join-nodes: boom")
        );
    }

    #[test]
    fn a_success_after_a_failure_clears_the_error() {
        let mut s = ClusterStatus::default();
        s.apply_failed("StepFailed", "boom".into(), &at(1));
        s.apply_started();
        assert_eq!(s.phase, Some(Phase::ClusterInProcess));
        assert_eq!(kinds(&s), [(APPLY_ERROR, "False")], "kept while running");
        s.stage_finished(4, 4, "finish", &hosts(1), &at(2));
        s.apply_succeeded(&at(3));
        assert_eq!(s.phase, Some(Phase::ClusterSuccess));
        assert_eq!(
            kinds(&s),
            [(APPLY_PROGRESS, "True"), (APPLY_SUCCESS, "True")]
        );
        assert_eq!(s.conditions[1].reason.as_deref(), Some("Ready"));

        s.apply_cancelled("cancelled after stage 1 of 4".into(), &at(4));
        assert_eq!(s.phase, Some(Phase::ClusterInProcess));
        assert_eq!(
            kinds(&s),
            [(APPLY_PROGRESS, "True"), (APPLY_ERROR, "False")]
        );
        assert_eq!(s.conditions[1].reason.as_deref(), Some(CANCELLED));
    }

    #[test]
    fn long_host_lists_are_cut_and_unknown_fields_survive() {
        let mut s = ClusterStatus::default();
        s.stage_finished(1, 2, "join-nodes", &hosts(7), &at(1));
        assert_eq!(
            s.conditions[0].message.as_deref(),
            Some(
                "stage 1 of 2 (join-nodes) finished on \
                 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5 and 2 more"
            )
        );
        s.conditions[0]
            .extra
            .insert("lastTransitionTime".into(), "x".into());
        s.stage_finished(2, 2, "finish", &hosts(1), &at(2));
        assert_eq!(s.conditions.len(), 1);
        assert!(s.conditions[0].extra.contains_key("lastTransitionTime"));
    }

    #[test]
    fn the_written_status_reads_back_as_a_sealos_cluster() {
        let mut cluster: Cluster = serde_yaml::from_str(
            "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata: {name: c}\n",
        )
        .unwrap();
        let status = cluster.status.get_or_insert_with(ClusterStatus::default);
        status.stage_finished(1, 1, "init", &hosts(1), &at(1));
        status.apply_failed("StepFailed", "line one\nline two".into(), &at(2));
        let text = serde_yaml::to_string(&cluster).unwrap();
        let back: Cluster = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back.status, cluster.status, "{text}");
        let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(v["status"]["phase"].as_str(), Some("ClusterFailed"));
        assert_eq!(
            v["status"]["conditions"][1]["type"].as_str(),
            Some(APPLY_ERROR)
        );
        assert_eq!(
            v["status"]["conditions"][1]["lastHeartbeatTime"].as_str(),
            Some("2026-11-23T09:00:02Z")
        );
    }
}

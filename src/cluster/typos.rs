//! Fields of a Clusterfile tug does not know are kept (a newer sealos may
//! have written them) but not in silence: each is a warning naming its
//! line, with the known field it is probably a typo of (`pkk:` → `pk`).

use super::clusterfile::Clusterfile;
use super::model::{HOST_FIELDS, SPEC_FIELDS, SSH_FIELDS, Ssh};
use super::problem::{Problem, Severity};
use serde_yaml::Mapping;

/// A warning for every unknown field under `spec`, its `ssh` and each host.
pub fn unknown_fields(cf: &Clusterfile) -> Vec<Problem> {
    let spec = &cf.cluster.spec;
    let mut out = Vec::new();
    report(cf, "spec", &spec.extra, &SPEC_FIELDS, &mut out);
    let ssh = |at: String, s: &Option<Ssh>, out: &mut Vec<Problem>| {
        if let Some(s) = s {
            report(cf, &at, &s.extra, &SSH_FIELDS, out);
        }
    };
    ssh("spec.ssh".into(), &spec.ssh, &mut out);
    for (i, h) in spec.hosts.iter().enumerate() {
        report(
            cf,
            &format!("spec.hosts[{i}]"),
            &h.extra,
            &HOST_FIELDS,
            &mut out,
        );
        ssh(format!("spec.hosts[{i}].ssh"), &h.ssh, &mut out);
    }
    out
}

fn report(cf: &Clusterfile, at: &str, extra: &Mapping, known: &[&str], out: &mut Vec<Problem>) {
    for key in extra.keys().filter_map(|k| k.as_str()) {
        let hint = match nearest(key, known) {
            Some(k) => format!("; did you mean {k}?"),
            None => format!(" (tug reads {})", known.join(", ")),
        };
        out.push(cf.cluster_problem(
            Severity::Warning,
            &format!("{at}.{key}"),
            format!("unknown field {key}, kept but not used{hint}"),
        ));
    }
}

/// The known name closest to `key` (case aside) within two edits.
pub fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (distance(&key, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn typos_are_named_at_their_line_with_the_field_meant() {
        let text = "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: c\nspec:\n  \
                    image: [labring/kubernetes:v1.25.0]\n  ssh:\n    pkk: /root/.ssh/id_rsa\n  hosts:\n  \
                    - ips: [10.0.0.2]\n    roles: [master]\n    rolez: [node]\n  newSealosThing: 1\n";
        let cf = Clusterfile::parse(Path::new("Clusterfile"), text.to_string()).unwrap();
        let found: Vec<String> = unknown_fields(&cf)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found.iter().any(|p| p.contains(":8")
                && p.contains("spec.ssh.pkk")
                && p.ends_with("did you mean pk?")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains(":12") && p.contains("did you mean roles?")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("newSealosThing") && p.contains("tug reads image")),
            "{found:?}"
        );
    }

    #[test]
    fn nearest_takes_two_edits_at_most() {
        assert_eq!(nearest("pkk", &SSH_FIELDS), Some("pk"));
        assert_eq!(nearest("PASSWD", &SSH_FIELDS), Some("passwd"));
        assert_eq!(nearest("hostname", &HOST_FIELDS), None);
    }
}

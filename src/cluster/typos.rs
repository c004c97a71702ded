//! Fields of a Clusterfile tug does not know are kept (a newer sealos may
//! have written them) but not in silence: each is a warning naming its
//! line, with the known field it is probably a typo of (`pkk:` → `pk`).

use super::model::{ClusterSpec, HOST_FIELDS, SPEC_FIELDS, SSH_FIELDS, Ssh};
use serde_yaml::Mapping;

/// Every unknown field under `spec`, its `ssh` and each host, as (field
/// path, message); the validator turns each into a warning at its line.
pub fn unknown_fields(spec: &ClusterSpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    report("spec", &spec.extra, &SPEC_FIELDS, &mut out);
    let ssh = |at: String, s: &Option<Ssh>, out: &mut Vec<(String, String)>| {
        if let Some(s) = s {
            report(&at, &s.extra, &SSH_FIELDS, out);
        }
    };
    ssh("spec.ssh".into(), &spec.ssh, &mut out);
    for (i, h) in spec.hosts.iter().enumerate() {
        report(
            &format!("spec.hosts[{i}]"),
            &h.extra,
            &HOST_FIELDS,
            &mut out,
        );
        ssh(format!("spec.hosts[{i}].ssh"), &h.ssh, &mut out);
    }
    out
}

fn report(at: &str, extra: &Mapping, known: &[&str], out: &mut Vec<(String, String)>) {
    for key in extra.keys().filter_map(|k| k.as_str()) {
        let hint = match nearest(key, known) {
            Some(k) => format!("; did you mean {k}?"),
            None => format!(" (tug reads {})", known.join(", ")),
        };
        out.push((
            format!("{at}.{key}"),
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

    #[test]
    fn nearest_takes_two_edits_at_most() {
        assert_eq!(nearest("pkk", &SSH_FIELDS), Some("pk"));
        assert_eq!(nearest("PASSWD", &SSH_FIELDS), Some("passwd"));
        assert_eq!(nearest("hostname", &HOST_FIELDS), None);
    }
}

//! `kubeadm certs check-expiration` read back: every certificate and
//! certificate authority with its expiry. The text comes from a host, so
//! it is read defensively: a row is taken only when its date parses
//! (`Jan 02, 2006 15:04 UTC`, as kubeadm prints it since v1.15), a
//! certificate kubeadm reports as missing is kept as missing, and every
//! other line is ignored.

use chrono::{DateTime, NaiveDateTime, Utc};

/// One certificate's expiry as kubeadm reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertExpiry {
    /// `apiserver`, `admin.conf`, `ca`, …
    pub name: String,
    /// Whether it is a certificate authority (the second table).
    pub authority: bool,
    /// When it expires; `None` when kubeadm says it is missing.
    pub expires: Option<DateTime<Utc>>,
}

impl CertExpiry {
    /// Whole days left at `now` (negative once expired); `None` when missing.
    pub fn days_left(&self, now: DateTime<Utc>) -> Option<i64> {
        self.expires.map(|e| (e - now).num_days())
    }
}

/// The certificates in `lines`, in kubeadm's order.
pub fn parse(lines: &[String]) -> Vec<CertExpiry> {
    let mut out = Vec::new();
    let mut authority = None;
    for line in lines {
        let line = line.trim();
        if line.starts_with("CERTIFICATE AUTHORITY") && line.contains("EXPIRES") {
            authority = Some(true);
            continue;
        }
        if line.starts_with("CERTIFICATE") && line.contains("EXPIRES") {
            authority = Some(false);
            continue;
        }
        let Some(authority) = authority else { continue };
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("!MISSING!") {
            if let Some(name) = name.split_whitespace().next() {
                out.push(CertExpiry {
                    name: name.to_string(),
                    authority,
                    expires: None,
                });
            }
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 6 {
            continue;
        }
        if let Some(expires) = date(&words[1..6]) {
            out.push(CertExpiry {
                name: words[0].to_string(),
                authority,
                expires: Some(expires),
            });
        }
    }
    out
}

/// `Jan 02, 2006 15:04 UTC` split in words; only UTC is read (kubeadm
/// prints UTC times).
fn date(words: &[&str]) -> Option<DateTime<Utc>> {
    if !matches!(words[4], "UTC" | "GMT") {
        return None;
    }
    let text = words[..4].join(" ");
    NaiveDateTime::parse_from_str(&text, "%b %d, %Y %H:%M")
        .ok()
        .map(|d| d.and_utc())
}

/// The certificate that expires first (missing ones are not counted).
pub fn soonest(certs: &[CertExpiry]) -> Option<&CertExpiry> {
    certs
        .iter()
        .filter(|c| c.expires.is_some())
        .min_by_key(|c| c.expires)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeadm_tables_are_read_and_junk_is_ignored() {
        let text = "[check-expiration] Reading configuration from the cluster...\n\
\n\
CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\n\
admin.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      no\n\
apiserver                  Jan 05, 2026 10:00 UTC   29d             ca                      no\n\
!MISSING! front-proxy-client\n\
etcd-server                Sep 99, 2026 09:03 UTC   360d            etcd-ca                 no\n\
scheduler.conf             Aug 19, 2026 09:03 CEST  360d            ca                      no\n\
\n\
CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED\n\
ca                      Aug 17, 2035 09:03 UTC   9y              no\n";
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let certs = parse(&lines);
        let names: Vec<(&str, bool, bool)> = certs
            .iter()
            .map(|c| (c.name.as_str(), c.authority, c.expires.is_some()))
            .collect();
        assert_eq!(
            names,
            [
                ("admin.conf", false, true),
                ("apiserver", false, true),
                ("front-proxy-client", false, false),
                ("ca", true, true),
            ]
        );
        let first = soonest(&certs).unwrap();
        assert_eq!(first.name, "apiserver");
        let now = NaiveDateTime::parse_from_str("Dec 06, 2025 10:00", "%b %d, %Y %H:%M")
            .unwrap()
            .and_utc();
        assert_eq!(first.days_left(now), Some(30));
        assert!(parse(&["garbage".to_string()]).is_empty());
    }
}

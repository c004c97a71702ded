//! Image references, parsed and normalised the way docker does:
//! `labring/kubernetes:v1.25.0` is `docker.io/labring/kubernetes:v1.25.0`,
//! `nginx` is `docker.io/library/nginx:latest`.

use super::digest::Digest;
use std::fmt;
use std::str::FromStr;

/// The registry short names resolve to.
pub const DOCKER_HUB: &str = "docker.io";

/// A fully normalised image reference: registry, repository, and a tag
/// and/or a digest (a tag defaults to `latest` when neither is given).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a string is not an image reference.
#[derive(Debug, thiserror::Error)]
#[error("invalid image reference {input:?}: {reason}")]
pub struct ReferenceError {
    /// What the user typed.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Reference {
    /// Registry host (with port), e.g. `docker.io`, `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Repository path inside the registry, e.g. `labring/kubernetes`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if one was given (or defaulted).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference pins one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        format!("{}:{}", self.name(), tag).parse()
    }

    /// The same repository pinned to a digest (tag dropped).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// Whether the registry lives on this machine's loopback, where docker
    /// (and tug) speak plain HTTP.
    pub fn is_loopback_registry(&self) -> bool {
        is_loopback_host(&self.registry)
    }

    /// The name as the user most likely wants to read it: `docker.io/` and
    /// `library/` are kept, since sealos prints full names too.
    pub fn familiar(&self) -> String {
        self.to_string()
    }
}

/// Whether `host[:port]` names a loopback address (127.0.0.0/8, localhost, ::1).
pub fn is_loopback_host(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                registry
            }
        })
    };
    if host == "localhost" {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

fn err(input: &str, reason: impl Into<String>) -> ReferenceError {
    ReferenceError {
        input: input.to_string(),
        reason: reason.into(),
    }
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
    if c.is_empty() {
        return false;
    }
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

fn valid_registry(r: &str) -> bool {
    !r.is_empty()
        && r.bytes()
            .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'-' | b':' | b'[' | b']'))
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, ReferenceError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(err(input, "it is empty"));
        }
        if s.contains("://") {
            return Err(err(input, "leave out the scheme (http://, docker://)"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(d.parse::<Digest>().map_err(|e| err(input, e.to_string()))?),
            ),
            None => (s, None),
        };
        // A tag is after the last ':' that follows the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag.filter(|t| !valid_tag(t)) {
            return Err(err(
                input,
                format!("tag {t:?} must be 1-128 letters, digits, '_', '.' or '-'"),
            ));
        }
        let (registry, repo) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.')
                    || first.contains(':')
                    || first == "localhost"
                    || first.starts_with('[') =>
            {
                (first.to_string(), remainder.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
            _ => registry,
        };
        if !valid_registry(&registry) {
            return Err(err(
                input,
                format!("registry {registry:?} is not a host name"),
            ));
        }
        if repo.is_empty() {
            return Err(err(input, "the repository name is missing"));
        }
        if repo.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(err(input, "repository names must be lowercase"));
        }
        for comp in repo.split('/') {
            if !valid_component(comp) {
                return Err(err(
                    input,
                    format!(
                        "{comp:?} is not a valid path component (lowercase letters, digits, and . _ - between them)"
                    ),
                ));
            }
        }
        let repository = if registry == DOCKER_HUB && !repo.contains('/') {
            format!("library/{repo}")
        } else {
            repo
        };
        if registry.len() + repository.len() + 1 > 255 {
            return Err(err(input, "the name is longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        s.parse::<Reference>().unwrap().to_string()
    }

    #[test]
    fn short_names_normalise_like_docker() {
        assert_eq!(norm("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(
            norm("labring/kubernetes:v1.25.0"),
            "docker.io/labring/kubernetes:v1.25.0"
        );
        assert_eq!(
            norm("index.docker.io/library/busybox:1"),
            "docker.io/library/busybox:1"
        );
        assert_eq!(norm("localhost/x"), "localhost/x:latest");
        assert_eq!(norm("127.0.0.1:5000/a/b:c"), "127.0.0.1:5000/a/b:c");
        assert_eq!(
            norm("ghcr.io/labring/lvscare:v4.3.0"),
            "ghcr.io/labring/lvscare:v4.3.0"
        );
        assert_eq!(
            norm("registry.k8s.io/pause:3.9"),
            "registry.k8s.io/pause:3.9"
        );
    }

    #[test]
    fn digests_pin_and_tags_are_optional_with_them() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let r: Reference = format!("busybox@{d}").parse().unwrap();
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest().unwrap().to_string(), d);
        let r: Reference = format!("busybox:1@{d}").parse().unwrap();
        assert_eq!(r.tag(), Some("1"));
    }

    #[test]
    fn malformed_references_are_refused_with_a_reason() {
        for bad in [
            "",
            "UPPER/case",
            "a//b",
            "a:b:c:d",
            "x:",
            "-lead",
            "http://x/y",
            "a@sha256:zz",
            "a/b:t@g!",
            "bad_/name",
        ] {
            let e = bad.parse::<Reference>();
            assert!(e.is_err(), "{bad:?} parsed as {:?}", e.unwrap());
        }
        let e = "Foo".parse::<Reference>().unwrap_err().to_string();
        assert!(e.contains("lowercase"), "{e}");
    }

    #[test]
    fn loopback_registries_are_recognised() {
        assert!(is_loopback_host("127.0.0.1:5000"));
        assert!(is_loopback_host("127.9.9.9"));
        assert!(is_loopback_host("localhost:80"));
        assert!(is_loopback_host("[::1]:5000"));
        assert!(!is_loopback_host("10.0.0.1:5000"));
        assert!(!is_loopback_host("docker.io"));
    }
}

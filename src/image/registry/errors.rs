//! What can go wrong talking to a registry, in words a user can act on, and
//! the mapping from `oci-client`'s and reqwest's errors onto them.

use super::super::auth::AuthError;
use super::super::digest::Digest;
use super::super::store::StoreError;
use oci_client::errors::{OciDistributionError, OciErrorCode};

/// Errors of pulls, pushes and logins.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry refused us (no or wrong credentials).
    #[error("unauthorized: {registry} refused access to {image}; run `tug login {registry}`")]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The image (or registry) asked for.
        image: String,
    },
    /// Credentials given to `tug login` were refused.
    #[error("unauthorized: {registry} refused the user name or password")]
    LoginRefused {
        /// The registry host.
        registry: String,
    },
    /// The image (manifest) or a blob of it does not exist.
    #[error("{what} not found in registry {registry}")]
    NotFound {
        /// The registry host.
        registry: String,
        /// `image X` or `blob D of image X`.
        what: String,
    },
    /// A blob's bytes did not hash to its digest.
    #[error("digest mismatch: blob {blob} of {image} from {registry} has digest {actual}")]
    DigestMismatch {
        /// The registry host.
        registry: String,
        /// The image.
        image: String,
        /// The blob asked for.
        blob: Digest,
        /// What the bytes hashed to.
        actual: String,
    },
    /// Nothing answered, or it took too long.
    #[error("cannot reach registry {registry}: {reason}")]
    Unreachable {
        /// The registry host.
        registry: String,
        /// Connection refused, timed out, ...
        reason: String,
    },
    /// The connection broke while a blob was streaming.
    #[error(
        "lost the connection to registry {registry} while fetching blob {blob} of {image}: {reason}"
    )]
    Interrupted {
        /// The registry host.
        registry: String,
        /// The image.
        image: String,
        /// The blob in flight.
        blob: Digest,
        /// What the transport said.
        reason: String,
    },
    /// A blob was longer than its descriptor said.
    #[error("blob {blob} of {image} is larger than its declared {size} bytes")]
    Oversized {
        /// The image.
        image: String,
        /// The blob.
        blob: Digest,
        /// The declared size.
        size: u64,
    },
    /// A manifest or index we cannot use.
    #[error("{image}: {reason}")]
    BadManifest {
        /// The image.
        image: String,
        /// What is wrong.
        reason: String,
    },
    /// An index without the platform asked for.
    #[error("{image} has no image for platform {platform} (it has: {available})")]
    NoPlatform {
        /// The image.
        image: String,
        /// What was asked.
        platform: String,
        /// What the index offers.
        available: String,
    },
    /// Any other answer from the registry.
    #[error("registry {registry} failed on {image}: {reason}")]
    Protocol {
        /// The registry host.
        registry: String,
        /// The image.
        image: String,
        /// The registry's words.
        reason: String,
    },
    /// The HTTP client could not be built (e.g. no CA certificates).
    #[error("cannot set up a client for registry {registry}: {reason}")]
    Client {
        /// The registry host.
        registry: String,
        /// Why.
        reason: String,
    },
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading credentials failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// An error and its sources joined with `: `.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Why a request got no answer, in the words of its deepest cause
/// ("Connection refused (os error 111)", "failed to lookup address
/// information: …"): reqwest's own layers only repeat the URL.
pub(crate) fn no_answer(e: &reqwest::Error) -> String {
    let mut deepest: &dyn std::error::Error = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    let why = deepest.to_string();
    let why = why.strip_prefix("error resolving DNS: ").unwrap_or(&why);
    if e.is_timeout() {
        format!("timed out ({why})")
    } else {
        why.to_string()
    }
}

/// Where an error happened: which registry, image, and blob (if any).
pub(crate) struct At<'a> {
    pub registry: &'a str,
    pub image: &'a str,
    pub blob: Option<&'a Digest>,
}

impl At<'_> {
    fn what(&self) -> String {
        match self.blob {
            Some(b) => format!("blob {b} of image {}", self.image),
            None => format!("image {}", self.image),
        }
    }

    /// Classify an `oci-client` error.
    pub(crate) fn oci(&self, e: OciDistributionError) -> RegistryError {
        use OciDistributionError as E;
        match e {
            E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => self.unauthorized(),
            E::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    self.not_found()
                } else if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
                {
                    self.unauthorized()
                } else {
                    self.protocol(envelope.to_string())
                }
            }
            E::ServerError { code: 404, .. } => self.not_found(),
            E::ServerError {
                code: 401 | 403, ..
            } => self.unauthorized(),
            E::ServerError { code, message, .. } => {
                self.protocol(format!("HTTP {code}: {}", message.trim()))
            }
            E::DigestError(d) => self.mismatch(&d.to_string()),
            E::RequestError(r) => self.transport(&r),
            E::IoError(io) => self.io(io),
            other => self.protocol(chain(&other)),
        }
    }

    /// Classify an error a blob stream yielded.
    pub(crate) fn io(&self, e: std::io::Error) -> RegistryError {
        if let Some(inner) = e.get_ref() {
            if let Some(d) = inner.downcast_ref::<oci_client::errors::DigestError>() {
                return self.mismatch(&d.to_string());
            }
            if let Some(r) = inner.downcast_ref::<reqwest::Error>() {
                return self.transport(r);
            }
        }
        self.interrupted(chain(&e))
    }

    pub(crate) fn transport(&self, e: &reqwest::Error) -> RegistryError {
        if e.is_connect() || self.blob.is_none() {
            RegistryError::Unreachable {
                registry: self.registry.to_string(),
                reason: no_answer(e),
            }
        } else if e.is_timeout() {
            self.interrupted(format!("timed out ({})", chain(e)))
        } else {
            self.interrupted(chain(e))
        }
    }

    fn interrupted(&self, reason: String) -> RegistryError {
        match self.blob {
            Some(b) => RegistryError::Interrupted {
                registry: self.registry.to_string(),
                image: self.image.to_string(),
                blob: b.clone(),
                reason,
            },
            None => RegistryError::Unreachable {
                registry: self.registry.to_string(),
                reason,
            },
        }
    }

    pub(crate) fn mismatch(&self, detail: &str) -> RegistryError {
        match self.blob {
            Some(b) => RegistryError::DigestMismatch {
                registry: self.registry.to_string(),
                image: self.image.to_string(),
                blob: b.clone(),
                actual: actual_digest(detail).unwrap_or_else(|| detail.to_string()),
            },
            None => RegistryError::BadManifest {
                image: self.image.to_string(),
                reason: format!("digest mismatch: {detail}"),
            },
        }
    }

    pub(crate) fn unauthorized(&self) -> RegistryError {
        RegistryError::Unauthorized {
            registry: self.registry.to_string(),
            image: self.image.to_string(),
        }
    }

    pub(crate) fn not_found(&self) -> RegistryError {
        RegistryError::NotFound {
            registry: self.registry.to_string(),
            what: self.what(),
        }
    }

    pub(crate) fn protocol(&self, reason: String) -> RegistryError {
        RegistryError::Protocol {
            registry: self.registry.to_string(),
            image: self.what(),
            reason,
        }
    }

    /// Turn a store error into a registry error where it is about the wire.
    pub(crate) fn store(&self, e: StoreError) -> RegistryError {
        match e {
            StoreError::DigestMismatch { actual, .. } => self.mismatch(&actual.to_string()),
            other => RegistryError::Store(other),
        }
    }
}

/// The last `sha256:…` in a digest error's text: what the bytes hashed to.
fn actual_digest(detail: &str) -> Option<String> {
    detail
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .rfind(|w| w.starts_with("sha256:") && w.len() == 71)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(blob: Option<&Digest>) -> At<'_> {
        At {
            registry: "127.0.0.1:5000",
            image: "127.0.0.1:5000/a/b:v1",
            blob,
        }
    }

    #[test]
    fn registry_answers_become_errors_a_user_can_act_on() {
        let server = |code| OciDistributionError::ServerError {
            code,
            url: "u".into(),
            message: "m".into(),
        };
        let e = at(None).oci(server(401)).to_string();
        assert!(
            e.starts_with("unauthorized:") && e.contains("tug login 127.0.0.1:5000"),
            "{e}"
        );
        let e = at(None).oci(server(404)).to_string();
        assert_eq!(
            e,
            "image 127.0.0.1:5000/a/b:v1 not found in registry 127.0.0.1:5000"
        );
        let e = at(None).oci(server(500)).to_string();
        assert!(e.contains("HTTP 500: m"), "{e}");
    }

    #[test]
    fn digest_mismatches_name_the_blob_and_what_arrived() {
        let want = Digest::of(b"want");
        let got = Digest::of(b"got");
        let e =
            OciDistributionError::DigestError(oci_client::errors::DigestError::VerificationError {
                expected: want.to_string(),
                actual: got.to_string(),
            });
        let msg = at(Some(&want)).oci(e).to_string();
        assert!(
            msg.starts_with(&format!("digest mismatch: blob {want} of ")),
            "{msg}"
        );
        assert!(msg.ends_with(&format!("has digest {got}")), "{msg}");
    }
}

//! Talking to registries: pull images into a [`Store`], push them out, check
//! credentials. Built on `oci-client` for the distribution protocol, but
//! never through its `pull()` (which holds whole layers in memory): manifests
//! are fetched raw and stored byte for byte, blobs stream into the store's
//! verified writers, and pushes stream from the blob files.

mod errors;
mod login;
mod progress;
mod pull;
mod push;
mod tap;

pub use errors::RegistryError;
pub use progress::{NoProgress, Progress};
pub use pull::PulledImage;
pub use tap::{BlobTap, TapSink};

use super::auth::{self, Credentials};
use super::digest::Digest;
use super::oci::Platform;
use super::reference::{Reference, is_loopback_host};
use super::store::Store;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Result of registry operations.
pub type Result<T> = std::result::Result<T, RegistryError>;

/// How to reach registries: which speak plain HTTP, where credentials are,
/// how uploads are done, how patient to be.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Registries (`host` or `host:port`) spoken to over plain HTTP besides
    /// the loopback ones.
    pub insecure: Vec<String>,
    /// tug's own credentials file (docker config.json format).
    pub auth_file: PathBuf,
    /// Upload each blob in one PUT instead of chunked PATCHes.
    pub monolithic_push: bool,
    /// Blobs of one image transferred at the same time.
    pub concurrency: usize,
    /// How long to wait for a TCP connection.
    pub connect_timeout: Duration,
    /// How long a response may stay silent before it is given up.
    pub read_timeout: Duration,
}

impl RegistryOptions {
    /// Defaults: 4 blobs at a time, 10 s to connect, 60 s of silence.
    pub fn new(auth_file: PathBuf, insecure: Vec<String>) -> Self {
        RegistryOptions {
            insecure,
            auth_file,
            monolithic_push: false,
            concurrency: 4,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
        }
    }

    /// Whether `registry` (`host[:port]`) is spoken to over plain HTTP.
    pub fn plain_http(&self, registry: &str) -> bool {
        let host = registry
            .rsplit_once(':')
            .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            .map_or(registry, |(h, _)| h);
        is_loopback_host(registry) || self.insecure.iter().any(|i| i == registry || i == host)
    }

    fn scheme(&self, registry: &str) -> &'static str {
        if self.plain_http(registry) {
            "http"
        } else {
            "https"
        }
    }
}

/// A client for any number of registries; one HTTP client (and token cache)
/// per registry is made on first use and reused.
pub struct RegistryClient {
    options: RegistryOptions,
    clients: Mutex<HashMap<String, oci_client::Client>>,
}

/// One registry's client and the credentials to use with it.
struct Session {
    client: oci_client::Client,
    auth: RegistryAuth,
    registry: String,
    /// For what `oci-client` would read whole (manifests): read up to a limit.
    http: reqwest::Client,
    /// `http` or `https`.
    scheme: &'static str,
}

impl RegistryClient {
    /// A client with these options.
    pub fn new(options: RegistryOptions) -> Self {
        RegistryClient {
            options,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Pull `reference` into `store` and name it there. An index resolves to
    /// `platforms` (this machine's when empty): with one platform the
    /// manifest is named, with several the index is. Blobs already in the
    /// store are not fetched again.
    pub async fn pull(
        &self,
        reference: &Reference,
        platforms: &[Platform],
        store: &Store,
        progress: Arc<dyn Progress>,
    ) -> Result<PulledImage> {
        self.pull_tapped(reference, platforms, store, progress, None)
            .await
    }

    /// [`RegistryClient::pull`], with `tap` reading the layers it chooses
    /// as they download (the store-time scan, overlapped with the pull).
    pub async fn pull_tapped(
        &self,
        reference: &Reference,
        platforms: &[Platform],
        store: &Store,
        progress: Arc<dyn Progress>,
        tap: Option<&dyn BlobTap>,
    ) -> Result<PulledImage> {
        let session = self.session(reference.registry())?;
        let _writing = store.writing()?;
        pull::pull(
            &session,
            reference,
            platforms,
            store,
            progress,
            self.options.concurrency,
            tap,
        )
        .await
    }

    /// Push the image named `src` in `store` to `dest`; returns the digest
    /// of the pushed manifest (or index), the same as in the store.
    pub async fn push(
        &self,
        store: &Store,
        src: &Reference,
        dest: &Reference,
        progress: Arc<dyn Progress>,
    ) -> Result<Digest> {
        let session = self.session(dest.registry())?;
        push::push(&session, &self.options, store, src, dest, progress).await
    }

    /// Check credentials against a registry the way `docker login` does
    /// (`GET /v2/`, then Basic auth or the Bearer token flow).
    pub async fn check_login(&self, registry: &str, credentials: &Credentials) -> Result<()> {
        login::check(&self.options, registry, credentials).await
    }

    fn session(&self, registry: &str) -> Result<Session> {
        let client = {
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            match clients.get(registry) {
                Some(c) => c.clone(),
                None => {
                    let c = make_client(&self.options, registry, self.options.monolithic_push)?;
                    clients.insert(registry.to_string(), c.clone());
                    c
                }
            }
        };
        let auth = match auth::lookup(&self.options.auth_file, registry)? {
            Some(c) => RegistryAuth::Basic(c.username, c.password.expose_secret().to_string()),
            None => RegistryAuth::Anonymous,
        };
        let http = reqwest::Client::builder()
            .connect_timeout(self.options.connect_timeout)
            .read_timeout(self.options.read_timeout)
            .user_agent(concat!("tug/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RegistryError::Client {
                registry: registry.to_string(),
                reason: errors::no_answer(&e),
            })?;
        Ok(Session {
            client,
            auth,
            registry: registry.to_string(),
            http,
            scheme: if self.options.plain_http(registry) {
                "http"
            } else {
                "https"
            },
        })
    }
}

/// An `oci-client` for one registry: its scheme, timeouts, upload mode.
fn make_client(
    options: &RegistryOptions,
    registry: &str,
    monolithic: bool,
) -> Result<oci_client::Client> {
    let protocol = if options.plain_http(registry) {
        ClientProtocol::Http
    } else {
        ClientProtocol::Https
    };
    let config = ClientConfig {
        protocol,
        use_monolithic_push: monolithic,
        platform_resolver: None,
        read_timeout: Some(options.read_timeout),
        connect_timeout: Some(options.connect_timeout),
        user_agent: concat!("tug/", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    oci_client::Client::try_from(config).map_err(|e| RegistryError::Client {
        registry: registry.to_string(),
        reason: errors::chain(&e),
    })
}

/// `oci-client`'s reference for ours (same registry, repository, tag, digest).
fn oci_ref(r: &Reference) -> oci_client::Reference {
    let (reg, repo) = (r.registry().to_string(), r.repository().to_string());
    match (r.tag(), r.digest()) {
        (Some(t), Some(d)) => {
            oci_client::Reference::with_tag_and_digest(reg, repo, t.to_string(), d.to_string())
        }
        (None, Some(d)) => oci_client::Reference::with_digest(reg, repo, d.to_string()),
        (t, None) => oci_client::Reference::with_tag(reg, repo, t.unwrap_or("latest").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_listed_registries_speak_plain_http() {
        let o = RegistryOptions::new(
            PathBuf::from("/nonexistent"),
            vec!["reg.lan".into(), "10.0.0.5:5000".into()],
        );
        assert!(o.plain_http("127.0.0.1:5000"));
        assert!(o.plain_http("localhost"));
        assert!(o.plain_http("[::1]:5000"));
        assert!(o.plain_http("reg.lan:8443"));
        assert!(o.plain_http("10.0.0.5:5000"));
        assert!(!o.plain_http("10.0.0.5:6000"));
        assert!(!o.plain_http("docker.io"));
        assert_eq!(o.scheme("ghcr.io"), "https");
    }

    #[test]
    fn transfers_can_run_on_spawned_tasks() {
        fn send<T: Send>(_: &T) {}
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("images")).unwrap();
        let client = RegistryClient::new(RegistryOptions::new(dir.path().join("a.json"), vec![]));
        let r: Reference = "127.0.0.1:1/a:b".parse().unwrap();
        send(&client.pull(&r, &[], &store, Arc::new(NoProgress)));
        send(&client.push(&store, &r, &r, Arc::new(NoProgress)));
    }

    #[test]
    fn references_convert_with_tag_and_digest() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let r: Reference = format!("127.0.0.1:5000/a/b:v1@{d}").parse().unwrap();
        let o = oci_ref(&r);
        assert_eq!(o.registry(), "127.0.0.1:5000");
        assert_eq!(o.repository(), "a/b");
        assert_eq!(o.digest(), Some(d));
        let o = oci_ref(&"busybox".parse().unwrap());
        assert_eq!(o.resolve_registry(), "index.docker.io");
        assert_eq!(o.tag(), Some("latest"));
    }
}

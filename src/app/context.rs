//! What every command and the wizard get: where files live, which
//! registries speak plain HTTP, whether to draw on a terminal, and the
//! host-key policy. Built once from the face's flags.

use crate::engine::spec::{BastionSpec, HostSpec};
use crate::paths::Paths;
use crate::ssh::{HostKeyPolicy, KnownHosts};

/// Returned when the user cancelled (Ctrl-C); the binary exits 130.
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// The settings a face read from its flags.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Registries to speak plain HTTP to (`--insecure-registry`).
    pub insecure_registries: Vec<String>,
    /// Print plain lines even on a terminal.
    pub plain: bool,
    /// Plain lines show whole scripts and every output line (`-v`).
    pub verbose: bool,
    /// Refuse unknown SSH host keys instead of trusting them on first use.
    pub strict_host_keys: bool,
    /// Reach every host through this bastion (`--bastion`).
    pub bastion: Option<BastionSpec>,
}

/// Where files live and how to talk to the user.
#[derive(Debug, Clone)]
pub struct Context {
    /// tug's directories.
    pub paths: Paths,
    /// Registries to speak plain HTTP to, from flags and the config file.
    pub insecure_registries: Vec<String>,
    /// Whether stderr is a terminal and plain output was not asked for:
    /// progress bars then, plain lines otherwise.
    pub fancy: bool,
    /// Plain lines show whole scripts and every output line, not one line
    /// per step.
    pub verbose: bool,
    /// Refuse unknown SSH host keys instead of trusting them on first use.
    pub strict_host_keys: bool,
    /// The bastion `--bastion` named: every host is reached through it,
    /// whatever the Clusterfile says.
    pub bastion: Option<BastionSpec>,
}

impl Context {
    /// The context of `settings`, the environment (`TUG_HOME`, whether
    /// stderr is a terminal) and the preferences file.
    pub fn new(settings: Settings) -> anyhow::Result<Self> {
        use std::io::IsTerminal;
        let paths = Paths::from_env();
        let mut insecure_registries = settings.insecure_registries;
        insecure_registries.extend(super::registry::insecure_registries_from(
            &paths.config_file(),
        )?);
        Ok(Context {
            paths,
            insecure_registries,
            fancy: !settings.plain && std::io::stderr().is_terminal(),
            verbose: settings.verbose,
            strict_host_keys: settings.strict_host_keys,
            bastion: settings.bastion,
        })
    }

    /// Open (creating if needed) the local image store.
    pub fn store(&self) -> anyhow::Result<crate::image::Store> {
        Ok(crate::image::Store::open(&self.paths.image_store())?)
    }

    /// tug's known_hosts file.
    pub fn known_hosts(&self) -> KnownHosts {
        KnownHosts::new(self.paths.known_hosts())
    }

    /// Put `--bastion` (when given) in front of every host of `hosts`.
    pub fn bastion_over(&self, hosts: &mut [HostSpec]) {
        if let Some(b) = &self.bastion {
            for h in hosts {
                h.ssh.bastion = Some(b.clone());
            }
        }
    }

    /// How a run treats a host key it has never seen: refused with
    /// `--strict-host-keys`, else recorded on first use.
    pub fn host_key_policy(&self) -> HostKeyPolicy {
        if self.strict_host_keys {
            HostKeyPolicy::Strict
        } else {
            HostKeyPolicy::AcceptNew
        }
    }
}

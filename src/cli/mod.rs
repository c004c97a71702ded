//! The command line: one clap tree, one file per command group. Each group
//! is a `Subcommand` enum flattened into [`Command`], so adding a group
//! touches only its own file and one line here. A face over
//! [`crate::app`]: it parses and prints, and never imports the wizard.

pub mod build;
pub mod bundle;
pub mod cert;
pub mod cluster;
pub mod demo;
pub mod fleet;
pub mod images;
pub mod install;
pub mod output;
pub mod plan;
pub mod prescan;
pub mod printer;
pub mod registry;
pub mod status;
pub mod version;

use crate::app::session::Notifier;
use crate::app::{Cancelled, Context, Notice, Settings};
use crate::cluster::hosts::BastionAddr;
use crate::engine::spec::BastionSpec;
use crate::secret::Secret;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

/// tug: install Kubernetes from cluster images.
#[derive(Debug, Parser)]
#[command(
    name = "tug",
    version,
    about = "Install Kubernetes onto bare Linux hosts from sealos/sealer-style cluster images",
    long_about = "Install Kubernetes onto bare Linux hosts from sealos/sealer-style cluster images.\n\n\
        Every file tug writes lives under TUG_HOME when it is set (data/, state/, config/),\n\
        otherwise under the platform's data, state and config directories.",
    propagate_version = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Open this saved Clusterfile in the wizard (hosts, SSH, env and
    /// kubeadm documents filled in).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<std::path::PathBuf>,

    /// Speak plain HTTP to this registry (host or host:port); repeatable.
    /// Loopback registries always use plain HTTP.
    #[arg(long = "insecure-registry", global = true, value_name = "HOST")]
    pub insecure_registries: Vec<String>,

    /// Print plain progress lines even on a terminal.
    #[arg(long, global = true)]
    pub plain: bool,

    /// Plain lines show whole scripts and every line the hosts print
    /// (else one line per step; the hosts' logs hold everything).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Refuse SSH hosts whose key is not already in tug's or your
    /// known_hosts, instead of recording it on first use.
    #[arg(long, global = true)]
    pub strict_host_keys: bool,

    /// Reach every host through this bastion (SSH direct-tcpip), checked
    /// against known_hosts like any host; over the Clusterfile's spec.ssh.bastion.
    #[arg(long, global = true, value_name = "USER@HOST[:PORT]")]
    pub bastion: Option<BastionAddr>,

    /// The bastion's private key [default: --bastion-passwd, else the ssh-agent].
    #[arg(
        long = "bastion-pk",
        global = true,
        value_name = "FILE",
        requires = "bastion"
    )]
    pub bastion_pk: Option<PathBuf>,

    /// The bastion's password (or TUG_BASTION_PASSWD, which keeps it off the process list).
    #[arg(long = "bastion-passwd", global = true, value_name = "PASS",
          env = "TUG_BASTION_PASSWD", hide_env_values = true, value_parser = cluster::secret)]
    pub bastion_passwd: Option<Secret>,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Local image store commands.
    #[command(flatten)]
    Images(images::ImagesCommand),
    /// Cluster commands.
    #[command(flatten)]
    Cluster(cluster::ClusterCommand),
    /// Install, resume and reset clusters.
    #[command(flatten)]
    Install(install::InstallCommand),
    /// Registry commands.
    #[command(flatten)]
    Registry(registry::RegistryCommand),
    /// Plan commands.
    #[command(flatten)]
    Plan(plan::PlanCommand),
    /// Building cluster images.
    #[command(flatten)]
    Build(build::BuildCommand),
    /// Cluster status.
    #[command(flatten)]
    Status(status::StatusCommand),
    /// Commands on a cluster's hosts.
    #[command(flatten)]
    Fleet(fleet::FleetCommand),
    /// The masters' certificates.
    #[command(flatten)]
    Cert(cert::CertCommand),
    /// Walk through a whole install on simulated hosts (nothing is contacted);
    /// `--wizard` walks every wizard screen.
    Demo(demo::DemoArgs),
    /// Air-gapped bundles.
    #[command(flatten)]
    Bundle(bundle::BundleCommand),
    /// Print tug's version, git commit and build date, and the Kubernetes
    /// versions it configures.
    Version(version::VersionArgs),
    /// Print a shell completion script.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

impl Cli {
    /// The settings the application layer takes from these flags.
    pub fn settings(&self) -> Settings {
        Settings {
            insecure_registries: self.insecure_registries.clone(),
            plain: self.plain,
            verbose: self.verbose,
            strict_host_keys: self.strict_host_keys,
            bastion: self.bastion.clone().map(|addr| BastionSpec {
                addr,
                key: self.bastion_pk.clone(),
                // An empty TUG_BASTION_PASSWD means no password.
                password: self.bastion_passwd.clone().filter(|p| !p.is_empty()),
            }),
        }
    }
}

/// Notices as the command line shows them: one line each on stderr.
pub fn notices() -> Notifier {
    Arc::new(|n: Notice| eprintln!("{n}"))
}

/// Run a parsed command (the binary opens the wizard and the demo's
/// screens itself); no command prints the help.
pub async fn run(ctx: &Context, command: Option<Command>) -> anyhow::Result<()> {
    match command {
        None => {
            Cli::command().print_help()?;
            Ok(())
        }
        Some(Command::Images(c)) => c.run(ctx).await,
        Some(Command::Cluster(c)) => c.run(ctx).await,
        Some(Command::Install(c)) => c.run(ctx).await,
        Some(Command::Registry(c)) => c.run(ctx).await,
        Some(Command::Plan(c)) => c.run(ctx).await,
        Some(Command::Build(c)) => c.run(ctx).await,
        Some(Command::Status(c)) => c.run(ctx).await,
        Some(Command::Fleet(c)) => c.run(ctx).await,
        Some(Command::Cert(c)) => c.run(ctx).await,
        Some(Command::Demo(a)) => {
            if a.wizard {
                anyhow::bail!(
                    "tug demo --wizard needs a terminal (plain `tug demo` prints its install as lines)"
                );
            }
            demo::ensure_image(ctx).await?;
            demo::plain(ctx, a.demo()).await
        }
        Some(Command::Bundle(c)) => c.run(ctx).await,
        Some(Command::Version(a)) => version::run(&a),
        Some(Command::Completion { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "tug", &mut std::io::stdout());
            Ok(())
        }
    }
}

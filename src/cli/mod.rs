//! The command line: one clap tree, one file per command group. Each group
//! is a `Subcommand` enum flattened into [`Command`], so adding a group
//! touches only its own file and one line here.

pub mod build;
pub mod bundle;
pub mod cluster;
pub mod demo;
pub mod images;
pub mod install;
pub mod output;
pub mod plan;
pub mod prescan;
pub mod registry;
pub mod status;

use crate::paths::Paths;
use clap::{CommandFactory, Parser, Subcommand};
use std::io::IsTerminal;

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

    /// Speak plain HTTP to this registry (host or host:port); repeatable.
    /// Loopback registries always use plain HTTP.
    #[arg(long = "insecure-registry", global = true, value_name = "HOST")]
    pub insecure_registries: Vec<String>,

    /// Print plain progress lines even on a terminal.
    #[arg(long, global = true)]
    pub plain: bool,

    /// Refuse SSH hosts whose key is not already in tug's or your
    /// known_hosts, instead of recording it on first use.
    #[arg(long, global = true)]
    pub strict_host_keys: bool,
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
    /// Walk through a whole install on simulated hosts (nothing is contacted);
    /// `--wizard` walks every wizard screen.
    Demo(demo::DemoArgs),
    /// Air-gapped bundles.
    #[command(flatten)]
    Bundle(bundle::BundleCommand),
    /// Print a shell completion script.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Returned when the user cancelled (Ctrl-C); the binary exits 130.
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// What every command gets: where files live and how to talk to the user.
#[derive(Debug, Clone)]
pub struct Context {
    /// tug's directories.
    pub paths: Paths,
    /// Registries to speak plain HTTP to, from flags and the config file.
    pub insecure_registries: Vec<String>,
    /// Whether stderr is a terminal and plain output was not asked for:
    /// progress bars then, plain lines otherwise.
    pub fancy: bool,
    /// Refuse unknown SSH host keys instead of trusting them on first use.
    pub strict_host_keys: bool,
}

impl Context {
    /// Build the context from parsed flags, the environment and the
    /// preferences file.
    pub fn new(cli: &Cli) -> anyhow::Result<Self> {
        let paths = Paths::from_env();
        let mut insecure_registries = cli.insecure_registries.clone();
        insecure_registries.extend(registry::insecure_registries_from(&paths.config_file())?);
        Ok(Context {
            paths,
            insecure_registries,
            fancy: !cli.plain && std::io::stderr().is_terminal(),
            strict_host_keys: cli.strict_host_keys,
        })
    }

    /// Open (creating if needed) the local image store.
    pub fn store(&self) -> anyhow::Result<crate::image::Store> {
        Ok(crate::image::Store::open(&self.paths.image_store())?)
    }
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::new(&cli)?;
    match cli.command {
        None if ctx.fancy && std::io::stdin().is_terminal() && std::io::stdout().is_terminal() => {
            crate::tui::open_wizard(&ctx).await
        }
        None => {
            Cli::command().print_help()?;
            Ok(())
        }
        Some(Command::Images(c)) => c.run(&ctx).await,
        Some(Command::Cluster(c)) => c.run(&ctx).await,
        Some(Command::Install(c)) => c.run(&ctx).await,
        Some(Command::Registry(c)) => c.run(&ctx).await,
        Some(Command::Plan(c)) => c.run(&ctx).await,
        Some(Command::Build(c)) => c.run(&ctx).await,
        Some(Command::Status(c)) => c.run(&ctx).await,
        Some(Command::Demo(a)) => demo::run(&ctx, a).await,
        Some(Command::Bundle(c)) => c.run(&ctx).await,
        Some(Command::Completion { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "tug", &mut std::io::stdout());
            Ok(())
        }
    }
}

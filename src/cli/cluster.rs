//! Cluster commands: `gen` writes a Clusterfile from flags (`run` and
//! `apply` join this group with the installer).

use super::Context;
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::create::{NewCluster, generate};
use crate::cluster::hosts::{Address, DEFAULT_SSH_PORT, DEFAULT_SSH_USER, parse_ip_list};
use crate::cluster::model::Ssh;
use crate::cluster::problem::Severity;
use crate::cluster::validate::{check_env, check_name};
use crate::engine::transport::select::local_addresses;
use crate::secret::Secret;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Commands that describe or change clusters.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Print a Clusterfile for these images and hosts (nothing is pulled or
    /// contacted). The arch role is left out: when an image is stored for
    /// several platforms, the installer asks each host which it needs.
    Gen(Box<GenArgs>),
}

/// `tug gen` flags.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Cluster images, the Kubernetes (rootfs) image first.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
    /// Hosts, SSH and env.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Write to this file (mode 0600) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The flags that describe a new cluster; `gen` and `run` share them.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Masters: comma list of IP, IP:PORT, [IPv6]:PORT and ranges
    /// FIRST-LAST (full addresses, e.g. 192.168.0.2-192.168.0.9).
    #[arg(long, value_name = "IPS")]
    pub masters: Option<String>,
    /// Workers, written like --masters.
    #[arg(long, value_name = "IPS")]
    pub nodes: Option<String>,
    /// This machine alone is the cluster (its first address that is not
    /// loopback is the one master), as `sealos run --single`.
    #[arg(long, conflicts_with_all = ["masters", "nodes"])]
    pub single: bool,
    /// SSH user.
    #[arg(short = 'u', long, value_name = "USER", default_value = DEFAULT_SSH_USER)]
    pub user: String,
    /// SSH password (or TUG_SSH_PASSWD, which keeps it off the process list).
    #[arg(short = 'p', long = "passwd", value_name = "PASS", env = "TUG_SSH_PASSWD",
          hide_env_values = true, value_parser = secret)]
    pub passwd: Option<Secret>,
    /// SSH private key [default: ~/.ssh/id_rsa when it exists and no password is given].
    #[arg(short = 'i', long = "pk", value_name = "FILE")]
    pub pk: Option<PathBuf>,
    /// Passphrase of the private key (or TUG_SSH_PK_PASSWD).
    #[arg(long = "pk-passwd", value_name = "P", env = "TUG_SSH_PK_PASSWD",
          hide_env_values = true, value_parser = secret)]
    pub pk_passwd: Option<Secret>,
    /// SSH port for addresses written without one.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SSH_PORT,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// Environment for the images, NAME=VALUE; repeatable, one entry each
    /// (values may contain commas).
    #[arg(short = 'e', long = "env", value_name = "K=V", value_parser = env_entry)]
    pub env: Vec<String>,
    /// Replace the first image's CMD; repeatable, one command each.
    #[arg(long = "cmd", value_name = "CMD")]
    pub cmd: Vec<String>,
    /// Cluster name: its state lives under this name.
    #[arg(long = "cluster", value_name = "NAME", default_value = "default", value_parser = cluster_name)]
    pub cluster: String,
}

/// A flag's value as a [`Secret`].
pub(super) fn secret(s: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::from(s))
}

fn env_entry(s: &str) -> Result<String, String> {
    check_env(s).map(|()| s.to_string())
}

fn cluster_name(s: &str) -> Result<String, String> {
    check_name(s).map(|()| s.to_string())
}

impl ClusterArgs {
    /// The new cluster these flags describe. `home` is where `~/.ssh/id_rsa`
    /// is looked for when neither a key nor a password is given.
    pub fn new_cluster(
        &self,
        ctx: &Context,
        images: Vec<String>,
        home: Option<&Path>,
    ) -> anyhow::Result<NewCluster> {
        let list = |flag: &str, v: &Option<String>| {
            parse_ip_list(v.as_deref().unwrap_or("")).with_context(|| format!("--{flag}"))
        };
        // An empty TUG_SSH_PASSWD means no password.
        let passwd = self.passwd.clone().filter(|p| !p.is_empty());
        let pk = self.pk.clone().or_else(|| {
            let default = home?.join(".ssh").join("id_rsa");
            (passwd.is_none() && default.is_file()).then_some(default)
        });
        let masters = if self.single {
            vec![this_machine()?]
        } else {
            list("masters", &self.masters)?
        };
        Ok(NewCluster {
            name: self.cluster.clone(),
            images,
            masters,
            nodes: list("nodes", &self.nodes)?,
            ssh: Ssh {
                user: Some(self.user.clone()),
                passwd,
                pk: pk.map(|p| p.to_string_lossy().into_owned()),
                pk_passwd: self.pk_passwd.clone(),
                port: Some(self.port),
                // `--bastion` is recorded, so later commands go through it too.
                bastion: ctx.bastion.as_ref().map(|b| b.addr.to_string()),
                bastion_pk: (ctx.bastion.as_ref())
                    .and_then(|b| b.key.as_ref())
                    .map(|k| k.to_string_lossy().into_owned()),
                bastion_passwd: ctx.bastion.as_ref().and_then(|b| b.password.clone()),
                ..Ssh::default()
            },
            env: self.env.clone(),
            command: self.cmd.clone(),
        })
    }
}

/// This machine as a cluster host: its first IPv4 address that is not
/// loopback (kubeadm advertises it, so 127.0.0.1 would not do).
fn this_machine() -> anyhow::Result<Address> {
    let ip = local_addresses()
        .context("--single: cannot list this machine's addresses")?
        .into_iter()
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        .context("--single: this machine has no IPv4 address besides loopback")?;
    Ok(Address { ip, port: None })
}

impl ClusterCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            ClusterCommand::Gen(args) => {
                let GenArgs {
                    images,
                    cluster,
                    output,
                } = *args;
                let home = std::env::var_os("HOME").map(PathBuf::from);
                let cf = generate(cluster.new_cluster(ctx, images, home.as_deref())?)?;
                report(&cf)?;
                match output {
                    Some(path) => cf.save(&path)?,
                    None => {
                        let mut out = std::io::stdout().lock();
                        out.write_all(cf.to_yaml()?.as_bytes())
                            .and_then(|()| out.flush())
                            .context("cannot write to standard output")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Print warnings to stderr; fail on the first error.
fn report(cf: &Clusterfile) -> anyhow::Result<()> {
    for p in cf.problems() {
        match p.severity {
            Severity::Error => anyhow::bail!("{p}"),
            Severity::Warning => eprintln!("warning: {p}"),
        }
    }
    Ok(())
}

//! `tug version [--json]`: what this tug is (version, git commit, build
//! date) and which Kubernetes versions it configures, with the kubeadm
//! configuration API each range speaks.

use super::output::print_json;
use crate::kubeadm::ApiVersion;
use clap::Args;
use serde::Serialize;

/// `tug version` flags.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Everything `tug version` tells.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Version {
    version: &'static str,
    git_commit: &'static str,
    build_date: &'static str,
    kubernetes: Vec<Range>,
}

/// The Kubernetes versions one kubeadm API serves.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Range {
    kubeadm_api_version: &'static str,
    kubernetes: &'static str,
}

/// Print it.
pub fn run(args: &VersionArgs) -> anyhow::Result<()> {
    let v = Version {
        version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("TUG_GIT_COMMIT"),
        build_date: env!("TUG_BUILD_DATE"),
        kubernetes: ApiVersion::ALL
            .iter()
            .map(|a| Range {
                kubeadm_api_version: a.as_str(),
                kubernetes: a.kubernetes(),
            })
            .collect(),
    };
    if args.json {
        return print_json(&v);
    }
    println!(
        "tug {} ({} built {})",
        v.version, v.git_commit, v.build_date
    );
    println!("kubernetes versions it configures:");
    for r in &v.kubernetes {
        println!("  {:<14} {}", r.kubernetes, r.kubeadm_api_version);
    }
    Ok(())
}

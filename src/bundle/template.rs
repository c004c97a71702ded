//! The two texts a bundle carries for the engineer: the Clusterfile
//! template (with a comment saying what to edit) and README.txt (the two
//! commands to run).

use super::{BINARY, CLUSTERFILE, IMAGES, README, SUMS};
use crate::image::Reference;
use std::net::IpAddr;

/// The master address a template holds when no hosts were given: from
/// TEST-NET-1 (RFC 5737), which is never a real host.
pub const PLACEHOLDER_MASTER: &str = "192.0.2.10";
/// The worker address a template holds when no hosts were given.
pub const PLACEHOLDER_NODE: &str = "192.0.2.20";

/// Whether `ip` is a placeholder a template holds instead of a real host:
/// any TEST-NET-1 address (192.0.2.0/24), like [`PLACEHOLDER_MASTER`] and
/// [`PLACEHOLDER_NODE`]. Readers of a template (the wizard) skip these.
pub fn is_placeholder(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.octets()[..3] == [192, 0, 2])
}

/// The Clusterfile text: `yaml` under a comment telling what to change.
pub(super) fn clusterfile(yaml: &str, placeholders: bool) -> String {
    let what = if placeholders {
        format!(
            "# Replace the placeholder addresses ({PLACEHOLDER_MASTER}, {PLACEHOLDER_NODE}) with\n\
             # your masters and nodes, and set spec.ssh (user, pk or passwd) before\n"
        )
    } else {
        "# Check the hosts and spec.ssh (add passwd if you use one) before\n".to_string()
    };
    format!(
        "# Cluster template from a tug bundle.\n{what}# running: ./tug apply -f {CLUSTERFILE}\n{yaml}"
    )
}

/// README.txt.
pub(super) fn readme(images: &[Reference], placeholders: bool, notes: &[String]) -> String {
    let mut text = format!(
        "tug air-gapped bundle\n\
         =====================\n\
         Made by tug {} on {} for these images:\n",
        env!("CARGO_PKG_VERSION"),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    for r in images {
        text.push_str(&format!("  {r}\n"));
    }
    let edit = if placeholders {
        format!(
            "replace the placeholder hosts ({PLACEHOLDER_MASTER}, {PLACEHOLDER_NODE}) and set spec.ssh"
        )
    } else {
        "check the hosts and spec.ssh".to_string()
    };
    text.push_str(&format!(
        "\nFiles\n\
         \x20 {BINARY:<15} the tug program ({arch} Linux)\n\
         \x20 {IMAGES:<15} the images, as an OCI archive\n\
         \x20 {CLUSTERFILE:<15} the cluster to install (a template: edit it)\n\
         \x20 {README:<15} this file\n\
         \x20 {SUMS:<15} checksums of the files above\n\
         \n\
         On the machine that runs the install, in this directory (no network needed):\n\
         \n\
         \x20 1. ./tug bundle load\n\
         \x20    checks every file against {SUMS}, then loads the images into tug's store.\n\
         \x20 2. Edit {CLUSTERFILE} ({edit}), then:\n\
         \x20    ./tug apply -f {CLUSTERFILE}\n\
         \n\
         To check the copy by hand: sha256sum -c {SUMS}\n\
         ({CLUSTERFILE} is listed too; once you edit it, sha256sum reports it as changed\n\
         and `./tug bundle verify` notes it as edited.)\n",
        arch = std::env::consts::ARCH,
    ));
    if !notes.is_empty() {
        text.push_str("\nNotes\n");
        for n in notes {
            text.push_str(&format!("  - {n}\n"));
        }
    }
    text
}

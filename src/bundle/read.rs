//! The hosts a bundle's Clusterfile template names, for whoever opens the
//! bundle on the air-gapped side (the wizard fills its hosts and SSH
//! screens with them). Placeholder addresses are left out; a template
//! holding only those names no cluster yet. A bundle tar is not unpacked:
//! its entries are skipped (seeking past the images) until the Clusterfile.

use super::template::is_placeholder;
use super::verify::bundle_name;
use super::{BundleError, CLUSTERFILE};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::hosts::Address;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Largest Clusterfile template read; a real one is a few kilobytes.
const MAX_TEMPLATE: u64 = 1 << 20;

/// The Clusterfile of the bundle at `path` (a directory or a tar) without
/// its placeholder addresses, or `None` when no real host is left.
pub fn read_template(path: &Path) -> Result<Option<Clusterfile>, BundleError> {
    let shown = path.join(CLUSTERFILE);
    let text = if path.is_dir() {
        let file = File::open(&shown).map_err(BundleError::io(&shown, "read"))?;
        read_text(file, &shown)?
    } else {
        from_tar(path)?
    };
    let mut cf = Clusterfile::parse(&shown, text)?;
    let hosts = &mut cf.cluster.spec.hosts;
    for host in hosts.iter_mut() {
        host.ips.retain(|ip| {
            ip.parse::<Address>()
                .map_or(true, |a| !is_placeholder(a.ip))
        });
    }
    hosts.retain(|h| !h.ips.is_empty());
    Ok((!hosts.is_empty()).then_some(cf))
}

/// The Clusterfile's text out of a bundle tar.
fn from_tar(path: &Path) -> Result<String, BundleError> {
    let damaged = BundleError::io(path, "read the bundle tar (truncated or damaged?)");
    let file = File::open(path).map_err(BundleError::io(path, "read"))?;
    let mut tar = tar::Archive::new(BufReader::new(file));
    for entry in tar.entries_with_seek().map_err(&damaged)? {
        let entry = entry.map_err(&damaged)?;
        if entry.header().entry_type() == tar::EntryType::Regular
            && bundle_name(&entry.path_bytes()) == CLUSTERFILE
        {
            return read_text(entry, &path.join(CLUSTERFILE));
        }
    }
    Err(BundleError::Missing {
        path: path.join(CLUSTERFILE),
    })
}

fn read_text(r: impl Read, shown: &Path) -> Result<String, BundleError> {
    let mut text = String::new();
    r.take(MAX_TEMPLATE)
        .read_to_string(&mut text)
        .map_err(BundleError::io(shown, "read"))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BINARY, IMAGES, template};
    use crate::cluster::create::{NewCluster, generate};
    use crate::cluster::hosts::parse_ip_list;
    use crate::cluster::model::Ssh;

    /// A template as `tug bundle create` writes it, for these hosts.
    fn template_text(masters: &str, nodes: &str, placeholders: bool) -> String {
        let cf = generate(NewCluster {
            name: "prod".into(),
            images: vec!["tugtest/kubernetes:v1.28.9".into()],
            masters: parse_ip_list(masters).unwrap(),
            nodes: parse_ip_list(nodes).unwrap(),
            ssh: Ssh {
                user: Some("ops".into()),
                pk: Some("/keys/id".into()),
                port: Some(2222),
                ..Ssh::default()
            },
            ..NewCluster::default()
        })
        .unwrap();
        template::clusterfile(&cf.to_yaml().unwrap(), placeholders)
    }

    /// A bundle directory holding `clusterfile` (and stand-ins for the rest).
    fn bundle_dir(root: &Path, clusterfile: &str) -> std::path::PathBuf {
        let dir = root.join("b");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(BINARY), "#!/bin/sh\n").unwrap();
        std::fs::write(dir.join(IMAGES), vec![7u8; 300_000]).unwrap();
        std::fs::write(dir.join(CLUSTERFILE), clusterfile).unwrap();
        dir
    }

    /// The directory as one tar holding `b/…`, the Clusterfile after the images.
    fn bundle_tar(dir: &Path) -> std::path::PathBuf {
        let out = dir.with_extension("tar");
        let mut tar = tar::Builder::new(File::create(&out).unwrap());
        for name in [BINARY, IMAGES, CLUSTERFILE] {
            tar.append_path_with_name(dir.join(name), format!("b/{name}"))
                .unwrap();
        }
        tar.finish().unwrap();
        out
    }

    fn ips(cf: &Clusterfile) -> Vec<(String, Vec<String>)> {
        cf.cluster
            .spec
            .hosts
            .iter()
            .map(|h| (h.roles.join(","), h.ips.clone()))
            .collect()
    }

    #[test]
    fn reads_real_hosts_and_ssh_from_a_directory_and_a_tar() {
        let root = tempfile::tempdir().unwrap();
        let text = template_text("10.0.0.2,10.0.0.3:22", "10.0.0.9", false);
        let dir = bundle_dir(root.path(), &text);
        let tar = bundle_tar(&dir);
        for path in [&dir, &tar] {
            let cf = read_template(path).unwrap().expect("real hosts");
            assert_eq!(
                ips(&cf),
                [
                    ("master".into(), vec!["10.0.0.2:2222".into()]),
                    ("master".into(), vec!["10.0.0.3:22".into()]),
                    ("node".into(), vec!["10.0.0.9:2222".into()]),
                ],
                "{}",
                path.display()
            );
            let ssh = cf.cluster.spec.ssh.as_ref().unwrap();
            assert_eq!(ssh.user.as_deref(), Some("ops"));
            assert_eq!(ssh.pk.as_deref(), Some("/keys/id"));
            assert_eq!(cf.cluster.name(), "prod");
        }
    }

    #[test]
    fn placeholders_are_no_hosts() {
        assert!(is_placeholder(
            crate::bundle::PLACEHOLDER_MASTER.parse().unwrap()
        ));
        assert!(is_placeholder(
            crate::bundle::PLACEHOLDER_NODE.parse().unwrap()
        ));
        assert!(!is_placeholder("192.0.3.10".parse().unwrap()));
        let root = tempfile::tempdir().unwrap();
        let text = template_text(
            crate::bundle::PLACEHOLDER_MASTER,
            crate::bundle::PLACEHOLDER_NODE,
            true,
        );
        let dir = bundle_dir(root.path(), &text);
        let tar = bundle_tar(&dir);
        assert!(read_template(&dir).unwrap().is_none());
        assert!(read_template(&tar).unwrap().is_none());

        // Real nodes under a placeholder master (--nodes without --masters).
        let text = template_text(crate::bundle::PLACEHOLDER_MASTER, "10.0.0.9", true);
        std::fs::write(dir.join(CLUSTERFILE), text).unwrap();
        let cf = read_template(&dir).unwrap().expect("the node");
        assert_eq!(ips(&cf), [("node".into(), vec!["10.0.0.9:2222".into()])]);
    }

    #[test]
    fn a_missing_or_broken_template_is_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = bundle_dir(root.path(), "spec: [\n");
        let e = read_template(&dir).unwrap_err().to_string();
        assert!(
            e.contains(&format!("{}", dir.join(CLUSTERFILE).display())),
            "{e}"
        );
        std::fs::remove_file(dir.join(CLUSTERFILE)).unwrap();
        let out = dir.with_extension("tar");
        let mut tar = tar::Builder::new(File::create(&out).unwrap());
        tar.append_path_with_name(dir.join(BINARY), "b/tug")
            .unwrap();
        tar.finish().unwrap();
        let e = read_template(&out).unwrap_err().to_string();
        assert!(e.contains("Clusterfile: missing from the bundle"), "{e}");
    }
}

//! Which platform of a multi-arch image a cluster gets (SPEC §1: images
//! "resolve to the hosts' architecture"). Arch roles in the Clusterfile
//! decide when a host has one. Otherwise, when an image is stored as an
//! index with more than one platform present, every host is asked
//! (`uname -m`, normalised as preflight does) before the images are read,
//! and all hosts must agree: a cluster is one architecture, as the spec
//! checks every host against every image. The asking lives in the
//! application layer, with its connections, so the engine stays free of
//! SSH; nothing is contacted
//! when the question does not arise, and plans and dry runs contact
//! nothing at all (they assume this machine's platform and say so).

use super::connect::connect_hosts;
use super::{Context, Notice, Notify};
use crate::engine::resolve::SpecInputs;
use crate::engine::spec::HostSpec;
use crate::engine::transport::arch::arch_of;
use crate::engine::transport::select::Unreachable;
use crate::image::oci::{Index, Platform, media, normalise_arch};
use crate::image::{Reference, Store};
use std::collections::BTreeMap;

/// An image the hosts' arch has to choose a platform of.
#[derive(Debug, PartialEq, Eq)]
struct Open {
    /// The image as the Clusterfile names it.
    image: String,
    /// The architectures present in the store for it, in index order.
    archs: Vec<String>,
}

/// For plans and dry runs, which contact nothing: when the choice is open
/// (no arch role, an image stored for several platforms), resolve for
/// this machine's platform and warn that a real run asks the hosts.
pub fn assume(store: &Store, inputs: &mut SpecInputs, notify: Notify<'_>) {
    let open = open_images(store, inputs);
    let Some(first) = open.first() else {
        return;
    };
    let (arch, why) = assumption(&open);
    notify(Notice::Warning(format!(
        "{}; this plan assumes linux/{arch} ({why}); a real run asks the hosts \
         their arch, or arch roles in the Clusterfile decide",
        several(first)
    )));
    set(inputs, arch);
}

/// For runs: when the choice is open, ask every host its arch and resolve
/// for the one they all have. With [`Unreachable::Tolerate`] (teardown)
/// hosts that cannot be reached are left out, and when none answers this
/// machine's platform is assumed, with a warning.
pub async fn ask(
    ctx: &Context,
    store: &Store,
    inputs: &mut SpecInputs,
    unreachable: Unreachable,
    notify: Notify<'_>,
) -> anyhow::Result<()> {
    let open = open_images(store, inputs);
    let Some(first) = open.first() else {
        return Ok(());
    };
    let answers = answers(ctx, &inputs.hosts, unreachable, notify).await?;
    let arch = match pick(&answers, unreachable, notify)? {
        Some(arch) => arch,
        None => {
            let (arch, why) = assumption(&open);
            notify(Notice::Warning(format!(
                "{} and no host answered which it needs; assuming linux/{arch} ({why})",
                several(first)
            )));
            arch
        }
    };
    set(inputs, arch);
    Ok(())
}

/// `image … holds several platforms (linux/a, linux/b)`.
fn several(open: &Open) -> String {
    format!(
        "image {} holds several platforms (linux/{})",
        open.image,
        open.archs.join(", linux/")
    )
}

/// Resolve every image of `inputs` for `arch`, as an arch role would.
fn set(inputs: &mut SpecInputs, arch: String) {
    for host in &mut inputs.hosts {
        host.arch = arch.clone();
    }
}

/// The images of `inputs` whose choice of platform is open: none when a
/// host has an arch role; otherwise each image stored as an index with
/// more than one Linux architecture present. An image the store cannot
/// give is left to the resolver to report.
fn open_images(store: &Store, inputs: &SpecInputs) -> Vec<Open> {
    if inputs.hosts.iter().any(|h| !h.arch.is_empty()) {
        return Vec::new();
    }
    inputs
        .images
        .iter()
        .filter_map(|r| {
            let archs = present_archs(store, r)?;
            (archs.len() > 1).then(|| Open {
                image: r.to_string(),
                archs,
            })
        })
        .collect()
}

/// The distinct Linux architectures of an index whose manifests the store
/// holds; `None` for a single manifest or what cannot be read.
fn present_archs(store: &Store, r: &Reference) -> Option<Vec<String>> {
    let top = store.resolve(r).ok()?;
    if !media::is_index(&top.media_type) {
        return None;
    }
    let index: Index = store.read_json(&top.digest, "index").ok()?;
    let mut archs: Vec<String> = Vec::new();
    for d in &index.manifests {
        let Some(p) = &d.platform else { continue };
        let arch = normalise_arch(&p.architecture).to_string();
        if p.os == "linux" && store.has_blob(&d.digest) && !archs.contains(&arch) {
            archs.push(arch);
        }
    }
    Some(archs)
}

/// The arch a plan assumes: this machine's when every open image has it,
/// else the first one stored of the first open image; with the reason.
fn assumption(open: &[Open]) -> (String, &'static str) {
    let mine = Platform::current().architecture;
    if open.iter().all(|o| o.archs.contains(&mine)) {
        (mine, "this machine's")
    } else {
        (open[0].archs[0].clone(), "the first stored")
    }
}

/// Ask every host its arch, all at once: (host, arch) in host order. A
/// host that cannot be reached or told is an error naming it, except with
/// [`Unreachable::Tolerate`], where it is left out.
async fn answers(
    ctx: &Context,
    hosts: &[HostSpec],
    unreachable: Unreachable,
    notify: Notify<'_>,
) -> anyhow::Result<Vec<(String, String)>> {
    let transports = connect_hosts(ctx, hosts, unreachable, notify).await?;
    let asks = hosts.iter().map(|h| {
        let t = transports[&h.id].clone();
        async move { (h, arch_of(t.as_ref()).await) }
    });
    let mut out = Vec::new();
    for (host, answer) in futures_util::future::join_all(asks).await {
        match answer {
            Ok(arch) => out.push((host.id.to_string(), arch)),
            // A host a teardown cannot reach: its steps will say so.
            Err(_) if unreachable == Unreachable::Tolerate => {}
            Err(e) => anyhow::bail!("host {}: cannot tell its arch: {e}", host.id),
        }
    }
    Ok(out)
}

/// The one arch of the hosts that answered, `None` when none did. Hosts
/// of different archs are an error naming the hosts of each; a teardown
/// ([`Unreachable::Tolerate`]) warns instead and goes on with the first
/// host's, so a cluster can always be removed.
fn pick(
    answers: &[(String, String)],
    unreachable: Unreachable,
    notify: Notify<'_>,
) -> anyhow::Result<Option<String>> {
    let mut by_arch: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (host, arch) in answers {
        by_arch.entry(arch).or_default().push(host);
    }
    if by_arch.len() < 2 {
        return Ok(by_arch.into_keys().next().map(str::to_string));
    }
    let groups: Vec<String> = by_arch
        .iter()
        .map(|(arch, hosts)| format!("{} {arch}", hosts.join(", ")))
        .collect();
    let mixed = format!(
        "hosts are of different architectures: {} — a cluster is one architecture \
         (every host gets the same platform of each image)",
        groups.join("; ")
    );
    if unreachable == Unreachable::Refuse {
        anyhow::bail!(mixed);
    }
    let (host, arch) = &answers[0];
    notify(Notice::Warning(format!(
        "{mixed}; going on with linux/{arch}, {host}'s"
    )));
    Ok(Some(arch.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::HostId;
    use crate::engine::spec::{Role, SshSpec};
    use crate::image::oci::Descriptor;

    /// A store holding `name` as an index of these (arch, present) entries,
    /// and `single` as one manifest.
    fn store(dir: &std::path::Path, entries: &[(&str, bool)]) -> Store {
        let store = Store::open(dir).unwrap();
        let mut index = Index::default();
        for (arch, present) in entries {
            let manifest = format!(r#"{{"schemaVersion":2,"arch":"{arch}"}}"#);
            let digest = if *present {
                store.put_bytes(manifest.as_bytes()).unwrap()
            } else {
                crate::image::Digest::of(manifest.as_bytes())
            };
            let mut d = Descriptor::new(media::OCI_MANIFEST, digest, manifest.len() as u64);
            d.platform = Platform::parse(&format!("linux/{arch}"));
            index.manifests.push(d);
        }
        let bytes = serde_json::to_vec(&index).unwrap();
        let digest = store.put_bytes(&bytes).unwrap();
        let top = Descriptor::new(media::OCI_INDEX, digest, bytes.len() as u64);
        store
            .set_name(&"x.io/multi:v1".parse().unwrap(), top)
            .unwrap();
        let bytes = br#"{"schemaVersion":2}"#;
        let digest = store.put_bytes(bytes).unwrap();
        let one = Descriptor::new(media::OCI_MANIFEST, digest, bytes.len() as u64);
        store
            .set_name(&"x.io/single:v1".parse().unwrap(), one)
            .unwrap();
        store
    }

    fn inputs(images: &[&str], arch: &str) -> SpecInputs {
        let host = HostSpec {
            id: HostId::new("127.0.0.9"),
            ip: "127.0.0.9".parse().unwrap(),
            port: 22,
            roles: vec![Role::Master],
            arch: arch.into(),
            ssh: SshSpec {
                user: "root".into(),
                password: None,
                key: None,
                key_data: None,
                key_passphrase: None,
                bastion: None,
            },
            env: Vec::new(),
        };
        SpecInputs {
            name: "c".into(),
            hosts: vec![host],
            images: images.iter().map(|i| i.parse().unwrap()).collect(),
            cluster_env: Vec::new(),
            flag_env: Vec::new(),
            command: None,
            kubeadm_docs: Vec::new(),
            configs: Vec::new(),
            admin_kubeconfig_on_nodes: false,
            data_root: "/var/lib/sealos".into(),
            local_dir: "/nonexistent".into(),
        }
    }

    #[test]
    fn only_an_index_with_several_present_platforms_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let two = store(dir.path(), &[("amd64", true), ("arm64", true)]);
        let open = open_images(&two, &inputs(&["x.io/single:v1", "x.io/multi:v1"], ""));
        assert_eq!(
            open,
            [Open {
                image: "x.io/multi:v1".into(),
                archs: vec!["amd64".into(), "arm64".into()],
            }]
        );
        // An arch role decides; a missing image is the resolver's to report.
        assert!(open_images(&two, &inputs(&["x.io/multi:v1"], "arm64")).is_empty());
        assert!(open_images(&two, &inputs(&["x.io/gone:v1"], "")).is_empty());
        let dir = tempfile::tempdir().unwrap();
        let one = store(dir.path(), &[("amd64", false), ("arm64", true)]);
        assert!(open_images(&one, &inputs(&["x.io/multi:v1"], "")).is_empty());
    }

    #[test]
    fn a_plan_assumes_this_machine_when_it_can() {
        let mine = Platform::current().architecture;
        let with_mine = Open {
            image: "a".into(),
            archs: vec!["s390x".into(), mine.clone()],
        };
        assert_eq!(
            assumption(std::slice::from_ref(&with_mine)),
            (mine, "this machine's")
        );
        let without = Open {
            image: "b".into(),
            archs: vec!["riscv64".into(), "s390x".into()],
        };
        assert_eq!(
            assumption(&[without, with_mine]),
            ("riscv64".into(), "the first stored")
        );
    }

    #[test]
    fn hosts_of_two_archs_are_named_per_arch() {
        let answers = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(h, a)| (h.to_string(), a.to_string()))
                .collect()
        };
        let same = answers(&[("10.0.0.4", "arm64"), ("10.0.0.6", "arm64")]);
        let one = pick(&same, Unreachable::Refuse, &crate::app::notice::ignore).unwrap();
        assert_eq!(one.as_deref(), Some("arm64"));
        assert_eq!(
            pick(&[], Unreachable::Tolerate, &crate::app::notice::ignore).unwrap(),
            None
        );
        let mixed = answers(&[
            ("10.0.0.4", "arm64"),
            ("10.0.0.3", "amd64"),
            ("10.0.0.5", "amd64"),
        ]);
        let e = pick(&mixed, Unreachable::Refuse, &crate::app::notice::ignore)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "hosts are of different architectures: 10.0.0.3, 10.0.0.5 amd64; 10.0.0.4 arm64 \
                 — a cluster is one architecture"
            ),
            "{e}"
        );
        // A teardown goes on, with the first host's.
        let first = pick(&mixed, Unreachable::Tolerate, &crate::app::notice::ignore).unwrap();
        assert_eq!(first.as_deref(), Some("arm64"));
    }
}

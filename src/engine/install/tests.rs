//! Plan-level tests: the install plan for a cluster, checked as data and as
//! printed, with no host involved.

use super::fixture::spec;
use super::*;
use crate::engine::plan::{Action, Source};

fn plan() -> Plan {
    plan_install(&spec(vec![]), &InstallOptions::default())
        .unwrap()
        .plan
}

/// (stage index, order, host, shown action) of every step whose shown action contains `needle`.
fn find<'a>(plan: &'a Plan, needle: &str) -> Vec<(usize, Order, &'a str, String)> {
    let mut out = Vec::new();
    for (i, stage) in plan.stages.iter().enumerate() {
        for s in &stage.steps {
            let shown = s.action.to_string();
            if shown.contains(needle) {
                out.push((i, stage.order, s.host.as_str(), shown));
            }
        }
    }
    out
}

fn hosts_of(found: &[(usize, Order, &str, String)]) -> Vec<String> {
    found.iter().map(|f| f.2.to_string()).collect()
}

#[test]
fn registry_init_and_kubeadm_init_run_once_on_master0() {
    let p = plan();
    assert_eq!(hosts_of(&find(&p, "bash init-registry.sh")), ["10.0.0.1"]);
    let init = find(&p, "run: kubeadm init ");
    assert_eq!(hosts_of(&init), ["10.0.0.1"]);
    assert!(
        init[0]
            .3
            .contains("--config=/var/lib/sealos/data/default/etc/kubeadm-init.yaml")
    );
    let written = find(
        &p,
        "write /var/lib/sealos/data/default/etc/kubeadm-init.yaml",
    );
    assert_eq!(hosts_of(&written), ["10.0.0.1"]);
    assert!(written[0].3.contains("mode 600"), "{}", written[0].3);
}

#[test]
fn check_and_init_hooks_run_everywhere_from_the_scripts_dir() {
    let p = plan();
    let check = find(&p, "bash check.sh $registryData");
    assert_eq!(check.len(), 5);
    assert!(
        check[0]
            .3
            .contains("cd -- /var/lib/sealos/data/default/rootfs/scripts")
    );
    let init = find(
        &p,
        "bash init-cri.sh $registryDomain $registryPort && bash init.sh",
    );
    assert_eq!(init.len(), 5);
    assert!(check[0].0 < find(&p, "bash init-registry.sh")[0].0);
    assert!(find(&p, "bash init-registry.sh")[0].0 < init[0].0);
}

#[test]
fn an_init_cri_label_runs_after_the_registry_and_before_init_everywhere() {
    assert!(
        find(&plan(), "bash k3s-cri.sh").is_empty(),
        "only when labelled"
    );
    let mut s = spec(vec![]);
    s.images[0]
        .labels
        .insert("init-cri".into(), "k3s-cri.sh $criData".into());
    let p = plan_install(&s, &InstallOptions::default()).unwrap().plan;
    let cri = find(&p, "bash k3s-cri.sh $criData");
    assert_eq!(cri.len(), 5);
    assert!(
        cri[0]
            .3
            .contains("cd -- /var/lib/sealos/data/default/rootfs/scripts")
    );
    assert!(find(&p, "bash init-registry.sh")[0].0 < cri[0].0);
    assert!(cri[0].0 < find(&p, "bash init.sh")[0].0);
}

#[test]
fn masters_join_one_by_one_with_control_plane_and_nodes_in_parallel() {
    let p = plan();
    let joins = find(&p, "kubeadm join ");
    assert_eq!(
        hosts_of(&joins),
        ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]
    );
    assert_eq!(joins[0].1, Order::OneByOne);
    assert_eq!(joins[0].0, joins[1].0);
    assert!(joins[0].3.contains("kubeadm-join-master.yaml"));
    assert!(matches!(joins[2].1, Order::Parallel(n) if n > 1));
    assert!(joins[2].3.contains("kubeadm-join-node.yaml"));
    let master_cfg = p
        .steps()
        .find_map(|s| match &s.action {
            Action::WriteFile { path, content, .. }
                if s.host.as_str() == "10.0.0.2" && path.ends_with("join-master.yaml.tug") =>
            {
                Some(content.expose().to_string())
            }
            _ => None,
        })
        .unwrap();
    assert!(master_cfg.contains("controlPlane"), "{master_cfg}");
    assert!(
        master_cfg.contains("TUG_JOIN_CERTIFICATE_KEY"),
        "{master_cfg}"
    );
    let ipvs = find(&p, "ipvs --vs");
    assert_eq!(hosts_of(&ipvs), ["10.0.0.4", "10.0.0.5"]);
    assert!(ipvs[0].0 < joins[2].0);
    let lvscare = find(&p, "kube-sealos-lvscare.yaml");
    assert_eq!(hosts_of(&lvscare), ["10.0.0.4", "10.0.0.5"]);
}

#[test]
fn the_join_secrets_reach_joining_hosts_only_through_a_fetched_file() {
    let p = plan();
    let fetched: Vec<_> = p
        .steps()
        .filter(|s| {
            matches!(
                &s.action,
                Action::Send {
                    source: Source::Fetched { .. },
                    ..
                }
            )
        })
        .map(|s| s.host.to_string())
        .collect();
    assert_eq!(fetched, ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]);
    let secrets = find(
        &p,
        "fetch /var/lib/sealos/data/default/etc/kubeadm-join-secrets",
    );
    assert_eq!(hosts_of(&secrets), ["10.0.0.1"]);
}

#[test]
fn registry_data_goes_only_to_the_registry_host_and_apps_only_to_master0() {
    let p = plan();
    let sends = |blob: &str| {
        p.steps()
            .filter(|s| match &s.action {
                Action::Send {
                    source: Source::Files(f),
                    ..
                } => f[0].path.ends_with(blob),
                _ => false,
            })
            .map(|s| (s.host.to_string(), s.action.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(sends("blobs/1").len(), 5);
    let registry_only = sends("blobs/3");
    assert_eq!(registry_only.len(), 1);
    assert_eq!(registry_only[0].0, "10.0.0.1");
    let app = sends("blobs/4");
    assert_eq!(app.len(), 2, "{app:?}");
    assert!(app.iter().all(|(h, _)| h == "10.0.0.1"));
    assert!(app[0].1.contains("applications/calico-v3.24.1/workdir"));
    assert!(app[0].1.contains("no-registry"));
    assert!(app[1].1.contains("only-registry"));
    // Whiteouts reach the host in a list file written just before the layer.
    let lists: Vec<_> = p
        .steps()
        .filter_map(|s| match &s.action {
            Action::WriteFile { path, content, .. } if path.ends_with(".list") => {
                Some(content.expose().to_string())
            }
            _ => None,
        })
        .collect();
    assert!(lists.iter().any(|l| l.contains("w:bin/old\0")), "{lists:?}");
    let distribute = p.stages.iter().filter(|s| s.phase == Phase::Distribute);
    assert!(
        distribute
            .flat_map(|s| &s.steps)
            .all(|s| s.skip_when.is_some())
    );
}

#[test]
fn each_host_receives_its_layers_in_image_order_in_one_parallel_stage() {
    let p = plan();
    let stages: Vec<_> = p
        .stages
        .iter()
        .filter(|s| s.phase == Phase::Distribute)
        .collect();
    assert_eq!(stages.len(), 1);
    assert!(matches!(stages[0].order, Order::Parallel(_)));
    for host in ["10.0.0.1", "10.0.0.4"] {
        // Step ids are `phase/host/<image>#<layer position>/hash`.
        let positions: Vec<usize> = stages[0]
            .steps
            .iter()
            .filter(|s| s.host.as_str() == host)
            .map(|s| {
                let id = s.id.to_string();
                let key = id.rsplit('/').nth(1).unwrap().to_string();
                key.rsplit('#').next().unwrap().parse().unwrap()
            })
            .collect();
        assert!(positions.len() > 1, "{host}: {positions:?}");
        assert!(
            positions.is_sorted(),
            "{host}: layers out of order: {positions:?}"
        );
    }
}

#[test]
fn application_cmd_runs_on_master0_in_its_workdir() {
    let p = plan();
    let app = find(&p, "helm upgrade");
    assert_eq!(hosts_of(&app), ["10.0.0.1"]);
    assert!(
        app[0]
            .3
            .contains("cd -- /var/lib/sealos/data/default/applications/calico-v3.24.1/workdir")
    );
    // The value in place of $(NAME), as sealos expands it.
    assert!(
        app[0]
            .3
            .ends_with("&& helm upgrade -i calico charts/calico")
    );
    assert_eq!(p.stages.last().unwrap().phase, Phase::Applications);
}

#[test]
fn hosts_entries_follow_the_contract() {
    let p = plan();
    assert_eq!(find(&p, "tug 10.0.0.1 sealos.hub").len(), 5);
    let apiserver = find(&p, " apiserver.cluster.local");
    let m2: Vec<_> = apiserver.iter().filter(|f| f.2 == "10.0.0.2").collect();
    assert!(m2[0].3.ends_with("tug 10.0.0.1 apiserver.cluster.local"));
    assert!(m2[1].3.ends_with("tug 10.0.0.2 apiserver.cluster.local"));
    assert!(m2[0].0 < m2[1].0);
    let n4: Vec<_> = apiserver.iter().filter(|f| f.2 == "10.0.0.4").collect();
    assert!(n4[0].3.ends_with("tug 10.103.97.2 apiserver.cluster.local"));
    let lvscare = find(&p, "lvscare.node.ip");
    assert_eq!(hosts_of(&lvscare), ["10.0.0.4", "10.0.0.5"]);
    assert!(lvscare[1].3.ends_with("tug 10.0.0.5 lvscare.node.ip"));
}

#[test]
fn secrets_are_masked_in_the_printed_plan() {
    let text = plan().to_string();
    assert!(!text.contains("passw0rd"), "{text}");
    assert!(!text.contains("rootpw"));
    assert!(text.contains("registryPassword='******'"));
    assert!(text.contains("registry_htpasswd (mode 600"));
    // The rendered file holds the registry password: root alone reads it.
    assert!(text.contains("registry.yml (mode 600"));
    assert!(text.contains(", secret)"));
}

#[test]
fn hostile_env_values_are_quoted() {
    let hostile = vec!["EVIL=$(touch /tmp/pwned); rm -rf x 'q\"\nz".to_string()];
    let p = plan_install(&spec(hostile), &InstallOptions::default())
        .unwrap()
        .plan;
    for step in p.steps() {
        for cmd in step.action.commands() {
            let line = cmd.render().unwrap();
            if let Some(at) = line.find("EVIL=") {
                assert!(
                    line[at..].starts_with("EVIL='$(touch /tmp/pwned); rm -rf x '\\''q\"\nz'"),
                    "{line}"
                );
            }
        }
    }
}

#[test]
fn skip_checks_drops_preflight_and_a_rerun_is_the_same_plan() {
    let s = spec(vec![]);
    let with = plan_install(&s, &InstallOptions::default()).unwrap().plan;
    assert_eq!(with.stages[0].phase, Phase::Preflight);
    let opts = InstallOptions {
        skip_checks: true,
        ..InstallOptions::default()
    };
    let without = plan_install(&s, &opts).unwrap().plan;
    assert!(without.stages.iter().all(|st| st.phase != Phase::Preflight));
    let ids = |p: &Plan| p.steps().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&with),
        ids(&plan_install(&s, &InstallOptions::default()).unwrap().plan)
    );
}

#[test]
fn a_host_of_another_arch_is_refused() {
    let mut s = spec(vec![]);
    s.hosts[4].arch = "arm64".into();
    let e = plan_install(&s, &InstallOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "host 10.0.0.5 is arm64 but image docker.io/labring/kubernetes:v1.25.16 is amd64"
    );
}

#[test]
fn a_bad_template_names_image_host_and_line() {
    let mut s = spec(vec![]);
    s.images[0].templates[0].source = "a\n{{ range .x }}".into();
    let e = plan_install(&s, &InstallOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "image docker.io/labring/kubernetes:v1.25.16, host 10.0.0.1: etc/registry.yml.tmpl:2:"
        ),
        "{e}"
    );
}

#[test]
fn htpasswd_is_bcrypt_and_stable() {
    let a = bootstrap::htpasswd("c", "admin", "pw").unwrap();
    assert_eq!(a, bootstrap::htpasswd("c", "admin", "pw").unwrap());
    let hash = a.strip_prefix("admin:").unwrap();
    assert!(hash.starts_with("$2y$10$"), "{hash}");
    assert!(bcrypt::verify("pw", hash).unwrap());
}

#[test]
fn with_a_layer_cache_a_mixed_layer_goes_without_its_registry_data() {
    let s = spec(vec![]);
    let mixed = s.images[1].layers[0].digest.to_string();
    assert!(s.images[1].layers[0].content.registry && s.images[1].layers[0].content.other);
    let opts = InstallOptions {
        layer_cache: Some("/cache".into()),
        ..InstallOptions::default()
    };
    let split = |p: &Plan| -> Vec<String> {
        p.steps()
            .filter_map(|st| match &st.action {
                Action::Send {
                    source: Source::WithoutRegistry { file, cache, .. },
                    to,
                } if file.identity == mixed && cache == std::path::Path::new("/cache") => {
                    Some(to.render().unwrap())
                }
                _ => None,
            })
            .collect()
    };
    let sends = split(&plan_install(&s, &opts).unwrap().plan);
    assert_eq!(sends.len(), 1, "master0's app dir");
    assert!(
        sends[0].contains(" no-registry ") && sends[0].ends_with(" gzip"),
        "{}",
        sends[0]
    );
    assert!(
        split(&plan()).is_empty(),
        "without a cache the layer goes whole"
    );
}

#[test]
fn plain_layers_with_files_are_gzipped_on_the_wire_and_registry_data_is_not() {
    let mut s = spec(vec![]);
    for l in &mut s.images[0].layers {
        l.media_type = crate::image::oci::media::OCI_LAYER_TAR.into();
    }
    let registry_only = s.images[0].layers[2].digest.to_string();
    assert!(!s.images[0].layers[2].content.other);
    let p = plan_install(&s, &InstallOptions::default()).unwrap().plan;
    let mut seen = (0, 0);
    for st in p.steps() {
        let Action::Send { source, to } = &st.action else {
            continue;
        };
        let cmd = to.render().unwrap();
        match source {
            Source::Compressed { file, .. } => {
                assert_ne!(file.identity, registry_only);
                assert!(
                    cmd.contains(" gzip") && !cmd.contains(" only-registry "),
                    "{cmd}"
                );
                seen.0 += 1;
            }
            Source::Files(f) if f[0].identity == registry_only => {
                assert!(cmd.ends_with(" none"), "{cmd}");
                seen.1 += 1;
            }
            _ => {}
        }
    }
    assert!(seen.0 > 0 && seen.1 > 0, "{seen:?}");
}

//! A layer holding registry data and other files (one `COPY . .` of a
//! context with both) reaches a host that runs no registry without its
//! registry data: the jump host derives that part once and keeps it by
//! the layer's digest.

mod support;

use support::fixture;
use support::hosts::Hosts;
use support::tug::Tug;

const DATA: &str = "/var/lib/sealos/data/default";
const BLOB: &str = fixture::MIXED_BLOB;

/// Bytes tug reports sent to `ip` (`sent 2.1 MiB to 127.0.10.3`).
fn sent(stderr: &str, ip: &str) -> u64 {
    let suffix = format!(" to {ip}");
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("sent ")?.strip_suffix(&suffix))
        .unwrap_or_else(|| panic!("nothing sent to {ip}:\n{stderr}"));
    line.parse::<bytesize::ByteSize>().unwrap().as_u64()
}

#[test]
fn a_mixed_layer_reaches_a_node_without_its_registry_data() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let mut images = fixture::build_images(&tug);
    fixture::put_mixed_patch(&tug, 3 << 20, "split-extra.conf");
    images.insert(1, fixture::MIXED.into());

    let args = fixture::run_args_of(images, &hosts, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tug.run(&argv).ok();

    let (master, node) = (&hosts[0], &hosts[1]);
    assert!(sent(&out.stderr, &master.ip) > 3 << 19, "{}", out.stderr);
    assert!(sent(&out.stderr, &node.ip) < 1 << 20, "{}", out.stderr);
    let has = |h: &support::hosts::Host, path: &str| {
        h.exec_output(&format!("test -f {DATA}/rootfs/{path}"))
            .status
            .success()
    };
    assert!(has(node, "etc/split-extra.conf") && has(master, "etc/split-extra.conf"));
    assert!(has(master, BLOB), "the registry host gets the whole layer");
    assert!(!has(node, BLOB), "the node does not");
    let kept = std::fs::read_dir(tug.home().join("data/layer-derived"))
        .unwrap()
        .count();
    assert_eq!(kept, 1, "one derived layer, kept by its digest");

    // Removing the image frees what was derived from its layer; the
    // rootfs's layers keep their scans.
    let scans = || {
        std::fs::read_dir(tug.home().join("data/layer-scans"))
            .unwrap()
            .count()
    };
    let before = scans();
    let rmi = tug.run(&["rmi", fixture::MIXED]).ok();
    assert!(
        rmi.stdout
            .contains("2 file(s) derived from their layers removed"),
        "{}",
        rmi.stdout
    );
    let kept = std::fs::read_dir(tug.home().join("data/layer-derived"))
        .unwrap()
        .count();
    assert_eq!(kept, 0, "{}", rmi.stdout);
    assert_eq!(scans(), before - 1, "{}", rmi.stdout);
}

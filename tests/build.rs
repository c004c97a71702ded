//! `tug build` with real pulls: the FROM image and every discovered image
//! come from a real docker-registry (images made by umoci, pushed by
//! skopeo); the result is served by another real registry, pushed and
//! pulled back.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::registry::Registry;
use support::tug::{Run, Tug};
use support::{have, sh};
use tug::image::oci::media;
use tug::image::{Reference, Store};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Push a small image to `dest`: a layer every test image shares and one
/// of its own, so shared blobs are exercised.
fn push_image(layout: &Path, dest: &str) {
    if !layout.join("index.json").exists() {
        sh(Command::new("umoci").args(["init", "--layout"]).arg(layout));
    }
    let tag = dest.rsplit(':').next().unwrap().replace('.', "-");
    let tag = format!(
        "{}-{tag}",
        dest.rsplit('/').next().unwrap().replace([':', '.'], "-")
    );
    let image = format!("{}:{tag}", layout.display());
    sh(Command::new("umoci").args(["new", "--image", &image]));
    let src = tempfile::tempdir().unwrap();
    for (name, body) in [("shared", "in every image"), ("own", dest)] {
        let f = src.path().join(name);
        std::fs::write(&f, body).unwrap();
        sh(Command::new("umoci")
            .args(["insert", "--image", &image])
            .arg(&f)
            .arg(format!("/{name}")));
    }
    sh(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--os",
        "linux",
        "--architecture",
        tug::image::oci::Platform::current().architecture.as_str(),
    ]));
    sh(Command::new("skopeo").args([
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{image}"),
        &format!("docker://{dest}"),
    ]));
}

/// The manifest digest a registry serves for `reference`.
fn remote_digest(reference: &str) -> String {
    let v: Value = serde_json::from_str(&sh(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        &format!("docker://{reference}"),
    ])))
    .unwrap();
    v["Digest"].as_str().unwrap().to_string()
}

fn built_digest(run: &Run) -> String {
    run.stdout.trim().rsplit('@').next().unwrap().to_string()
}

/// `tug build` without helm on PATH (charts are read from their values).
fn build(tug: &Tug, tag: &str, ctx: &Path) -> Run {
    tug.cmd()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .args(["build", "-t", tag, ctx.to_str().unwrap()])
        .output()
        .unwrap()
        .into()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The application context, naming images of registry `reg`.
fn app_context(root: &Path, reg: &str) {
    write(
        root,
        "Kubefile",
        &format!(
            "FROM {reg}/tugtest/rootfs:v1.28.9\nCOPY manifests manifests\nCOPY charts charts\nCOPY imageList manifests\nENV NAME=app\nLABEL app.owner=tests\nCMD [\"kubectl apply -f manifests/app.yaml\"]\n"
        ),
    );
    write(
        root,
        "manifests/app.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n      - {{name: i, image: {reg}/tugtest/pause:3.9}}\n      containers:\n      - name: echo\n        image: {reg}/tugtest/echo:v1\n"
        ),
    );
    write(
        root,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    );
    write(
        root,
        "charts/web/values.yaml",
        &format!("image:\n  registry: {reg}\n  repository: tugtest/web\n  tag: \"\"\n"),
    );
    write(
        root,
        "imageList",
        &format!("# extra\n{reg}/tugtest/extra:v2\n"),
    );
}

fn names(tug: &Tug) -> Vec<String> {
    Store::open(&tug.store())
        .unwrap()
        .names()
        .unwrap()
        .into_iter()
        .map(|(r, _)| r.to_string())
        .collect()
}

#[test]
fn a_build_pulls_its_base_and_images_and_the_result_serves_pushes_and_pulls_back() {
    assert!(
        have("skopeo") && have("umoci") && have("docker-registry"),
        "skopeo, umoci and docker-registry are needed"
    );
    let mut reg = Registry::start();
    let host = reg.addr.clone();
    // The base image is built elsewhere and only reaches us by a pull.
    let elsewhere = Tug::new();
    let base = format!("{host}/tugtest/rootfs:v1.28.9");
    build(&elsewhere, &base, &fixture("rootfs")).ok();
    elsewhere.run(&["push", &base]).ok();

    let layout = tempfile::tempdir().unwrap();
    let images: Vec<String> = ["echo:v1", "pause:3.9", "web:1.0", "extra:v2"]
        .iter()
        .map(|i| format!("{host}/tugtest/{i}"))
        .collect();
    for i in &images {
        push_image(&layout.path().join("oci"), i);
    }
    let ctx = tempfile::tempdir().unwrap();
    app_context(ctx.path(), &host);

    let tug = Tug::new();
    let first = build(&tug, "tugtest/app:v1", ctx.path()).ok();
    let pulled = first
        .stderr
        .lines()
        .filter(|l| l.starts_with("pulled "))
        .count();
    assert_eq!(pulled, 5, "the base and 4 images:\n{}", first.stderr);
    assert!(first.stderr.contains("helm not found"), "{}", first.stderr);

    // The registry/ layer, served by a real registry, answers for each image.
    let store = Store::open(&tug.store()).unwrap();
    let app = store
        .image(&"tugtest/app:v1".parse().unwrap(), None)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let registry_layer = app.manifest.layers.last().unwrap();
    assert_eq!(registry_layer.media_type, media::OCI_LAYER_TAR);
    sh(Command::new("tar")
        .arg("-xf")
        .arg(store.blob_path(&registry_layer.digest))
        .arg("-C")
        .arg(dir.path()));
    let served = Registry::serve(&dir.path().join("registry"));
    for i in &images {
        let r: Reference = i.parse().unwrap();
        let inside = format!("{}/{}:{}", served.addr, r.repository(), r.tag().unwrap());
        assert_eq!(remote_digest(&inside), remote_digest(i), "{i}");
    }

    let inspect: Value = serde_json::from_str(
        &tug.run(&["inspect", "tugtest/app:v1", "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    let text = inspect.to_string();
    assert!(
        text.contains("\"app.owner\":\"tests\"")
            && text.contains("kubectl apply -f manifests/app.yaml")
            && inspect["env"]["NAME"] == "app",
        "{inspect:#}"
    );

    // Push, pull back elsewhere: the same digest.
    let digest = built_digest(&first);
    let dest = format!("{host}/tugtest/app:v1");
    let pushed = tug.run(&["push", "tugtest/app:v1", &dest]).ok();
    assert!(pushed.stdout.contains(&digest), "{}", pushed.stdout);
    assert_eq!(remote_digest(&dest), digest);
    let fresh = Tug::new();
    let back = fresh.run(&["pull", &dest]).ok();
    assert!(back.stdout.contains(&digest), "{}", back.stdout);

    // A warm cache builds the same image without any registry.
    reg.kill();
    let second = build(&tug, "tugtest/app:v2", ctx.path()).ok();
    assert_eq!(built_digest(&second), digest);
    assert!(!second.stderr.contains("pulled "), "{}", second.stderr);
}

#[test]
fn an_image_no_registry_has_fails_the_build_naming_it_and_its_manifest() {
    assert!(
        have("skopeo") && have("umoci") && have("docker-registry"),
        "skopeo, umoci and docker-registry are needed"
    );
    let reg = Registry::start();
    let host = reg.addr.clone();
    let layout = tempfile::tempdir().unwrap();
    push_image(
        &layout.path().join("oci"),
        &format!("{host}/tugtest/echo:v1"),
    );
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Kubefile",
        "FROM scratch\nCOPY manifests manifests\n",
    );
    write(
        ctx.path(),
        "manifests/pods.yaml",
        &format!(
            "kind: Pod\nspec:\n  containers:\n  - image: {host}/tugtest/echo:v1\n---\nkind: Pod\nspec:\n  containers:\n  - image: {host}/tugtest/ghost:v1\n"
        ),
    );
    let tug = Tug::new();
    let err = build(&tug, "tugtest/ghost-app:v1", ctx.path()).fails();
    assert!(
        err.stderr.contains(&format!(
            "cannot pull {host}/tugtest/ghost:v1 (named in manifests/pods.yaml:9)"
        )),
        "{}",
        err.stderr
    );
    assert!(names(&tug).is_empty(), "{:?}", names(&tug));
    let listed = tug.run(&["images"]).ok().stdout;
    assert!(!listed.contains("ghost"), "{listed}");
    let blobs = std::fs::read_dir(tug.store().join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, 0, "nothing was written to the store");

    // An unreachable base registry fails naming the base image.
    write(
        ctx.path(),
        "Kubefile",
        "FROM 127.0.0.1:1/tugtest/rootfs:v1\n",
    );
    let err = build(&tug, "tugtest/x:v1", ctx.path()).fails();
    assert!(
        err.stderr
            .contains("pull the base image 127.0.0.1:1/tugtest/rootfs:v1 (FROM)"),
        "{}",
        err.stderr
    );
    assert!(names(&tug).is_empty());
}

/// The layer digests of an image in `tug`'s store.
fn layer_digests(tug: &Tug, name: &str) -> Vec<String> {
    let store = Store::open(&tug.store()).unwrap();
    let img = store.image(&name.parse().unwrap(), None).unwrap();
    img.manifest
        .layers
        .iter()
        .map(|l| l.digest.hex().to_string())
        .collect()
}

/// The layer digests scanned for the installer in `tug`'s home.
fn scanned(tug: &Tug) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(tug.home().join("data/layer-scans"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter_map(|n| {
                    n.strip_prefix("v2-sha256-")?
                        .strip_suffix(".json")
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn cluster_images_are_scanned_for_the_installer_when_built_pulled_or_loaded_and_others_are_not() {
    let tug = Tug::new();
    let images = support::fixture::build_images(&tug);
    let mut want: Vec<String> = images.iter().flat_map(|i| layer_digests(&tug, i)).collect();
    want.sort();
    want.dedup();
    assert_eq!(scanned(&tug), want);

    let plain = support::cluster_image::put_image(
        &Store::open(&tug.store()).unwrap(),
        "example.com/plain:v1",
        serde_json::json!({"architecture": "amd64", "os": "linux", "config": {},
                           "rootfs": {"type": "layers", "diff_ids": []}}),
        &[support::cluster_image::gz_tar(&[("a", "b", 0o644)])],
    );
    let archive = tug.home().join("all.tar");
    let mut save = vec!["save", "-o", archive.to_str().unwrap()];
    let plain = plain.to_string();
    save.push(&plain);
    save.extend(images.iter().map(String::as_str));
    tug.run(&save).ok();

    let elsewhere = Tug::new();
    elsewhere
        .run(&["load", "-i", archive.to_str().unwrap()])
        .ok();
    assert_eq!(scanned(&elsewhere), want, "only the cluster images' layers");

    let registry = Registry::start();
    let remote = registry.reference("tugtest/kubernetes:v1.28.9");
    tug.run(&["push", &images[0], &remote]).ok();
    let puller = Tug::new();
    puller.run(&["pull", &remote]).ok();
    let mut rootfs = layer_digests(&tug, &images[0]);
    rootfs.sort();
    assert_eq!(scanned(&puller), rootfs);
}

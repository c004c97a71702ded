//! Kubefile parsing: real labring/sealer Kubefiles and every form the lite
//! build accepts, and invalid ones with the line and column they fail at.

use std::collections::BTreeMap;
use std::path::Path;
use tug::build::kubefile::{Base, Command, Instruction, Kubefile, parse};

fn ok(src: &str) -> Kubefile {
    ok_with(src, &[])
}

fn ok_with(src: &str, args: &[(&str, &str)]) -> Kubefile {
    let args: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse(src, Path::new("Kubefile"), &args).unwrap_or_else(|e| panic!("{e}\n---\n{src}"))
}

fn labels(k: &Kubefile) -> BTreeMap<String, String> {
    k.steps
        .iter()
        .filter_map(|s| match &s.instruction {
            Instruction::Label(p) => Some(p.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn env(k: &Kubefile) -> Vec<(String, String)> {
    k.steps
        .iter()
        .filter_map(|s| match &s.instruction {
            Instruction::Env(p) => Some(p.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

const CONTAINERD: &str = r#"FROM scratch
LABEL init="init-cri.sh \$registryDomain \$registryPort && bash init.sh" \
      clean="clean.sh && bash clean-cri.sh \$criData" \
      check="check.sh \$registryData" \
      init-registry="init-registry.sh \$registryData \$registryConfig" \
      clean-registry="clean-registry.sh \$registryData \$registryConfig" \
      vip="\$defaultVIP"
ENV criData=/var/lib/containerd registryData=/var/lib/registry registryConfig=/etc/registry \
    registryDomain=sealos.hub registryPort=5000 registryUsername=admin registryPassword=passw0rd \
    disableApparmor=false SEALOS_SYS_CRI_ENDPOINT=/var/run/containerd/containerd.sock \
    SEALOS_SYS_IMAGE_ENDPOINT=/var/run/image-cri-shim.sock
COPY . .
"#;

#[test]
fn the_official_containerd_kubefile_keeps_hook_variables_literal() {
    let k = ok(CONTAINERD);
    assert_eq!(k.base, Base::Scratch);
    let l = labels(&k);
    assert_eq!(
        l["init"],
        "init-cri.sh $registryDomain $registryPort && bash init.sh"
    );
    assert_eq!(l["check"], "check.sh $registryData");
    assert_eq!(
        l["clean-registry"],
        "clean-registry.sh $registryData $registryConfig"
    );
    assert_eq!(l["vip"], "$defaultVIP");
    let e = env(&k);
    assert_eq!(e.len(), 10);
    assert_eq!(e[3], ("registryDomain".into(), "sealos.hub".into()));
    assert!(k.warnings.is_empty(), "{:?}", k.warnings);
    assert_eq!(k.steps[2].line, 12);
    assert_eq!(
        k.steps[2].instruction,
        Instruction::Copy {
            sources: vec![".".into()],
            dest: ".".into()
        }
    );
}

#[test]
fn the_sealer_seed_kubefile_with_shell_form_cmds() {
    let k = ok(
        "FROM kubernetes:v1.19.8\nCOPY imageList manifests\nCOPY apollo charts\nCOPY helm /bin\nCMD helm install charts/apollo\nCOPY recommended.yaml manifests\nCMD kubectl apply -f manifests/recommended.yaml\n",
    );
    match &k.base {
        Base::Image { reference, .. } => {
            assert_eq!(
                reference.to_string(),
                "docker.io/library/kubernetes:v1.19.8"
            )
        }
        b => panic!("{b:?}"),
    }
    let cmds: Vec<_> = k
        .steps
        .iter()
        .filter_map(|s| match &s.instruction {
            Instruction::Cmd(c) => Some(c.elements()),
            _ => None,
        })
        .collect();
    assert_eq!(
        cmds,
        vec![
            vec!["helm install charts/apollo".to_string()],
            vec!["kubectl apply -f manifests/recommended.yaml".to_string()]
        ]
    );
}

#[test]
fn json_forms_flags_and_keyword_case() {
    let k = ok(
        "from --platform=linux/arm64 labring/kubernetes:v1.24.0\nenv version v1.1.0\nCopy [\"manifests\", \"./manifests\"]\nENTRYPOINT [\"kubectl apply -f manifests/tigera-operator.yaml\"]\ncmd [\"kubectl\", \"apply\", \"-f\", \"x.yaml\"]\nMAINTAINER  tug team <t@example.com>\n",
    );
    assert_eq!(
        k.base,
        Base::Image {
            reference: "labring/kubernetes:v1.24.0".parse().unwrap(),
            platform: Some("linux/arm64".into())
        }
    );
    assert_eq!(env(&k), vec![("version".into(), "v1.1.0".into())]);
    let ins: Vec<_> = k.steps.iter().map(|s| s.instruction.clone()).collect();
    assert_eq!(
        ins[1],
        Instruction::Copy {
            sources: vec!["manifests".into()],
            dest: "./manifests".into()
        }
    );
    assert_eq!(
        ins[2],
        Instruction::Entrypoint(Command::Exec(vec![
            "kubectl apply -f manifests/tigera-operator.yaml".into()
        ]))
    );
    assert_eq!(
        ins[3],
        Instruction::Cmd(Command::Exec(vec![
            "kubectl".into(),
            "apply".into(),
            "-f".into(),
            "x.yaml".into()
        ]))
    );
    assert_eq!(
        ins[4],
        Instruction::Maintainer("tug team <t@example.com>".into())
    );
}

#[test]
fn arg_substitution_defaults_and_build_arg_overrides() {
    let src = "ARG VERSION=v1.25.0\nARG REPO\nFROM ${REPO:-labring}/kubernetes:$VERSION\nARG NAME=calico\nENV NAME=${NAME:-\"x\"} NS=${NAMESPACE:-\"tigera-operator\"} OPTS=${HELM_OPTS:-\"\"}\nLABEL version=${VERSION} both=\"$NAME-${NS}\" single='$NAME'\nCOPY charts/${NAME} charts/\nCMD [\"helm upgrade -i $(NAME) charts/calico -n $(NAMESPACE)\"]\n";
    let k = ok(src);
    match &k.base {
        Base::Image { reference, .. } => {
            assert_eq!(
                reference.to_string(),
                "docker.io/labring/kubernetes:v1.25.0"
            )
        }
        b => panic!("{b:?}"),
    }
    let e = env(&k);
    assert_eq!(e[0], ("NAME".into(), "calico".into()));
    assert_eq!(e[1], ("NS".into(), "tigera-operator".into()));
    assert_eq!(e[2], ("OPTS".into(), "".into()));
    let l = labels(&k);
    assert_eq!(l["version"], "v1.25.0");
    assert_eq!(l["both"], "calico-tigera-operator");
    assert_eq!(l["single"], "$NAME");
    assert!(
        matches!(&k.steps[2].instruction, Instruction::Copy { sources, .. } if sources == &["charts/calico"])
    );
    assert_eq!(
        k.steps[3].instruction,
        Instruction::Cmd(Command::Exec(vec![
            "helm upgrade -i $(NAME) charts/calico -n $(NAMESPACE)".into()
        ]))
    );
    let k = ok_with(src, &[("VERSION", "v1.28.9"), ("REPO", "127.0.0.1:5000/x")]);
    match &k.base {
        Base::Image { reference, .. } => {
            assert_eq!(reference.to_string(), "127.0.0.1:5000/x/kubernetes:v1.28.9")
        }
        b => panic!("{b:?}"),
    }
    let k = ok_with("FROM scratch\n", &[("UNUSED", "1")]);
    assert!(k.warnings[0].contains("UNUSED"), "{:?}", k.warnings);
}

#[test]
fn unescaped_dollars_warn_with_their_position() {
    let k = ok("FROM scratch\nLABEL check=\"check.sh $registryData\"\n");
    assert_eq!(labels(&k)["check"], "check.sh ");
    assert!(
        k.warnings[0].starts_with("Kubefile:2:23: $registryData is not set"),
        "{:?}",
        k.warnings
    );
}

#[test]
fn comments_and_blank_lines_inside_continuations() {
    let k = ok(
        "# leading comment\n\nFROM scratch\n   # indented comment\nENV A=1 \\\n    # a comment inside\n\n    B=\"two words\" \\\n    C=3\nLABEL \"quoted.key\"=\"v\" plain=x\\ y\n",
    );
    assert_eq!(
        env(&k),
        vec![
            ("A".into(), "1".into()),
            ("B".into(), "two words".into()),
            ("C".into(), "3".into())
        ]
    );
    let l = labels(&k);
    assert_eq!(l["quoted.key"], "v");
    assert_eq!(l["plain"], "x y");
    assert_eq!(k.steps[1].line, 10);
}

#[test]
fn invalid_kubefiles_fail_at_the_right_line_and_column() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("", 1, 1, "no FROM instruction"),
        ("COPY a b\n", 1, 1, "expected FROM before COPY"),
        (
            "FROM scratch\nRUN make\n",
            2,
            1,
            "a lite build runs nothing",
        ),
        ("FROM scratch\n  RUN \\\n  make\n", 2, 3, "COPY them"),
        ("FROM scratch\nADD x.tgz /\n", 2, 1, "ADD is not supported"),
        (
            "FROM scratch\nWORKDIR /x\n",
            2,
            1,
            "WORKDIR is not supported",
        ),
        (
            "FROM scratch\nFOO bar\n",
            2,
            1,
            "unknown instruction \"FOO\"",
        ),
        ("FROM scratch\nFROM scratch\n", 2, 1, "multi-stage"),
        ("FROM\n", 1, 5, "FROM needs an image"),
        ("FROM Bad/Name\n", 1, 6, "lowercase"),
        ("FROM --arch=x scratch\n", 1, 6, "unsupported FROM flag"),
        ("FROM scratch AS build\n", 1, 14, "stage names"),
        (
            "FROM scratch\nCOPY onlyone\n",
            2,
            6,
            "needs a source and a destination",
        ),
        (
            "FROM scratch\nCOPY --chown=1:1 a b\n",
            2,
            6,
            "--chown is not supported",
        ),
        ("FROM scratch\nCOPY --from=build a b\n", 2, 6, "multi-stage"),
        ("FROM scratch\nENV\n", 2, 4, "ENV needs a key and a value"),
        ("FROM scratch\nENV A=1 B\n", 2, 9, "\"B\" is not KEY=VALUE"),
        (
            "FROM scratch\nENV ONLYKEY\n",
            2,
            12,
            "ENV ONLYKEY needs a value",
        ),
        (
            "FROM scratch\nLABEL a=\"open\n",
            2,
            9,
            "unterminated \" quote",
        ),
        (
            "FROM scratch\nLABEL a='open\n",
            2,
            9,
            "unterminated ' quote",
        ),
        ("FROM scratch\nLABEL a=${oops\n", 2, 9, "unterminated ${"),
        (
            "FROM scratch\nLABEL a=${1x}\n",
            2,
            11,
            "expected a variable name",
        ),
        (
            "FROM scratch\nLABEL a=${X/y/z}\n",
            2,
            12,
            "unsupported modifier",
        ),
        (
            "FROM scratch\nLABEL \\\n  a=1 \\\n  b\n",
            4,
            3,
            "\"b\" is not KEY=VALUE",
        ),
        (
            "FROM scratch\nCMD [\"a\", 1]\n",
            2,
            11,
            "not a valid JSON array",
        ),
        ("FROM scratch\nENTRYPOINT []\n", 2, 12, "runs nothing"),
        ("FROM scratch\nCMD\n", 2, 4, "CMD needs a command"),
        (
            "FROM scratch\nMAINTAINER\n",
            2,
            11,
            "MAINTAINER needs a name",
        ),
        ("ARG 9lives\nFROM scratch\n", 1, 5, "is not a variable name"),
    ];
    for (src, line, column, needle) in cases {
        let e = parse(src, Path::new("dir/Kubefile"), &BTreeMap::new())
            .err()
            .unwrap_or_else(|| panic!("parsed: {src:?}"));
        let msg = e.to_string();
        assert!(
            e.line == *line && e.column == *column && msg.contains(needle),
            "{src:?}: expected {line}:{column} containing {needle:?}, got {msg}"
        );
        assert!(
            msg.starts_with(&format!("dir/Kubefile:{line}:{column}: ")),
            "{msg}"
        );
    }
}

// ---------------------------------------------------------------------------
// `tug build` end to end: the fixture contexts, the registry/ layer served
// by a real docker-registry, interop with skopeo, reproducibility.

mod support;

use support::registry::Registry;
use support::tug::Tug;
use support::{have, sh};
use tug::image::oci::{Descriptor, media};
use tug::image::{Digest, Reference, Store};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Put a one-layer image named `name` into `store`; `shared` is a layer
/// file every image gets (so blobs are shared), `own` one of its own.
fn put_image(store: &Store, name: &str, own: &str) -> Digest {
    let mut layer_digests = Vec::new();
    let mut diff_ids = Vec::new();
    for (file, body) in [("shared.txt", "the same in every image"), ("own.txt", own)] {
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, file, body.as_bytes()).unwrap();
        let raw = tar.into_inner().unwrap();
        diff_ids.push(Digest::of(&raw));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let bytes = gz.finish().unwrap();
        let d = store.put_bytes(&bytes).unwrap();
        layer_digests.push(Descriptor::new(
            media::OCI_LAYER_GZIP,
            d,
            bytes.len() as u64,
        ));
    }
    let config = serde_json::json!({"architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/own"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids}});
    let cb = serde_json::to_vec(&config).unwrap();
    let cd = store.put_bytes(&cb).unwrap();
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": Descriptor::new(media::OCI_CONFIG, cd, cb.len() as u64), "layers": layer_digests});
    let mb = serde_json::to_vec(&manifest).unwrap();
    let md = store.put_bytes(&mb).unwrap();
    let r: Reference = name.parse().unwrap();
    store
        .set_name(
            &r,
            Descriptor::new(media::OCI_MANIFEST, md.clone(), mb.len() as u64),
        )
        .unwrap();
    md
}

fn built_digest(run: &support::tug::Run) -> String {
    run.stdout.trim().rsplit('@').next().unwrap().to_string()
}

#[test]
fn the_fixture_rootfs_builds_reproducibly_with_its_labels_and_env() {
    let tug = Tug::new();
    let ctx = fixture("rootfs");
    let a = tug
        .run(&[
            "build",
            "-t",
            "tugtest/rootfs:v1.28.9",
            ctx.to_str().unwrap(),
        ])
        .ok();
    let b = tug
        .run(&[
            "build",
            "-t",
            "tugtest/rootfs:v1.28.9",
            ctx.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(built_digest(&a), built_digest(&b));
    let other = Tug::new();
    let c = other
        .run(&["build", "-t", "tugtest/rootfs:again", ctx.to_str().unwrap()])
        .ok();
    assert_eq!(
        built_digest(&a),
        built_digest(&c),
        "the name must not change the image"
    );

    let store = Store::open(&tug.store()).unwrap();
    let img = store
        .image(&"tugtest/rootfs:v1.28.9".parse().unwrap(), None)
        .unwrap();
    assert_eq!(
        img.manifest.layers.len(),
        1,
        "no registry layer without images"
    );
    let rc = img.config.config.clone().unwrap();
    let labels = rc.labels.unwrap();
    assert_eq!(labels["sealos.io.type"], "rootfs");
    assert_eq!(labels["check"], "check.sh $registryData");
    assert_eq!(labels["version"], "v1.28.9");
    let env = rc.env.unwrap();
    assert!(
        env.contains(&"registryDomain=sealos.hub".to_string()),
        "{env:?}"
    );
    assert!(
        env.contains(&"BIN_DIR=/usr/local/bin".to_string()),
        "{env:?}"
    );

    // skopeo reads the store and sees the same config; umoci unpacks the layer.
    let layout = format!(
        "oci:{}:docker.io/tugtest/rootfs:v1.28.9",
        tug.store().display()
    );
    let out = sh(std::process::Command::new("skopeo").args(["inspect", "--config", &layout]));
    let cfg: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        cfg["config"]["Labels"]["init"],
        "init-cri.sh $registryDomain $registryPort && bash init.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let blob = store.blob_path(&img.manifest.layers[0].digest);
    sh(std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&blob)
        .arg("-C")
        .arg(dir.path()));
    let kubeadm = dir.path().join("bin/kubeadm");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&kubeadm).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert!(dir.path().join("etc/kubelet.service.tmpl").is_file());
    assert!(dir.path().join("Kubefile").is_file());
}

fn app_context(root: &Path) {
    let w = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "Kubefile",
        "FROM tugtest/rootfs:v1.28.9\nCOPY manifests manifests\nCOPY charts charts\nCOPY imageList manifests\nENV NAME=app\nLABEL app.owner=tests\nCMD [\"kubectl apply -f manifests/app.yaml\"]\n",
    );
    w(
        "manifests/app.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n      - {name: i, image: registry.k8s.io/pause:3.9}\n      containers:\n      - name: echo\n        image: docker.io/tugtest/echo:v1\n",
    );
    w(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    );
    w(
        "charts/web/values.yaml",
        "image:\n  repository: tugtest/web\n  tag: \"\"\n",
    );
    w("imageList", "# extra\nquay.io/tugtest/extra:v2\n");
}

const APP_IMAGES: [&str; 4] = [
    "docker.io/tugtest/echo:v1",
    "docker.io/tugtest/web:1.0",
    "quay.io/tugtest/extra:v2",
    "registry.k8s.io/pause:3.9",
];

#[test]
fn an_image_built_from_the_rootfs_carries_every_discovered_image_in_its_registry() {
    assert!(
        have("skopeo") && have("docker-registry"),
        "skopeo and docker-registry are needed"
    );
    let tug = Tug::new();
    tug.run(&[
        "build",
        "-t",
        "tugtest/rootfs:v1.28.9",
        fixture("rootfs").to_str().unwrap(),
    ])
    .ok();
    let cache = Store::open(&tug.home().join("data/build-cache")).unwrap();
    let digests: Vec<Digest> = APP_IMAGES.iter().map(|n| put_image(&cache, n, n)).collect();
    let ctx = tempfile::tempdir().unwrap();
    app_context(ctx.path());

    let listed = tug
        .cmd()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .args(["build", "--list-images", ctx.path().to_str().unwrap()])
        .output()
        .unwrap();
    let listed = support::tug::Run::from(listed).ok();
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", listed.stdout);
    assert_eq!(lines[0], "docker.io/tugtest/echo:v1\tmanifests/app.yaml:10");
    assert_eq!(lines[2], "quay.io/tugtest/extra:v2\tmanifests/imageList:2");
    assert!(
        listed.stderr.contains("helm not found on PATH"),
        "{}",
        listed.stderr
    );

    let run = |tag: &str| {
        let out = tug
            .cmd()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .args(["build", "-t", tag, ctx.path().to_str().unwrap()])
            .output()
            .unwrap();
        support::tug::Run::from(out).ok()
    };
    let first = run("tugtest/app:v1");
    assert_eq!(built_digest(&first), built_digest(&run("tugtest/app:v1")));

    let store = Store::open(&tug.store()).unwrap();
    let app = store
        .image(&"tugtest/app:v1".parse().unwrap(), None)
        .unwrap();
    let base = store
        .image(&"tugtest/rootfs:v1.28.9".parse().unwrap(), None)
        .unwrap();
    assert_eq!(app.manifest.layers.len(), 3);
    assert_eq!(
        app.manifest.layers[0], base.manifest.layers[0],
        "base layer reused as is"
    );
    let rc = app.config.config.clone().unwrap();
    assert_eq!(rc.cmd.unwrap(), ["kubectl apply -f manifests/app.yaml"]);
    let labels = rc.labels.unwrap();
    assert_eq!(labels["app.owner"], "tests");
    assert_eq!(
        labels["init"],
        "init-cri.sh $registryDomain $registryPort && bash init.sh"
    );
    assert!(rc.env.unwrap().contains(&"NAME=app".to_string()));

    // The last layer holds registry/ and nothing else; serve it for real.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        app.manifest.layers[2].media_type,
        tug::image::oci::media::OCI_LAYER_TAR,
        "registry/ holds compressed blobs; gzip would only cost time"
    );
    let blob = store.blob_path(&app.manifest.layers[2].digest);
    sh(std::process::Command::new("tar")
        .arg("-xf")
        .arg(&blob)
        .arg("-C")
        .arg(dir.path()));
    let top: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top, ["registry"]);
    let blobs = walk_count(&dir.path().join("registry/docker/registry/v2/blobs"));
    assert_eq!(blobs, 1 + 4 * 3, "the shared layer is stored once");
    let registry = Registry::serve(&dir.path().join("registry"));
    for (name, digest) in APP_IMAGES.iter().zip(&digests) {
        let r: Reference = name.parse().unwrap();
        let url = format!(
            "docker://{}/{}:{}",
            registry.addr,
            r.repository(),
            r.tag().unwrap()
        );
        let out =
            sh(std::process::Command::new("skopeo").args(["inspect", "--tls-verify=false", &url]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["Digest"], digest.to_string(), "{name}");
    }
    let out = tempfile::tempdir().unwrap();
    sh(std::process::Command::new("skopeo").args([
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{}/tugtest/echo:v1", registry.addr),
        &format!("dir:{}", out.path().display()),
    ]));
    assert!(out.path().join("manifest.json").is_file());

    // The built image itself pushes to a registry and comes back the same.
    let dest = Registry::start();
    let layout = format!("oci:{}:docker.io/tugtest/app:v1", tug.store().display());
    // --preserve-digests: skopeo would otherwise gzip the plain registry/
    // layer on the way and the digest would change.
    sh(std::process::Command::new("skopeo").args([
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &layout,
        &format!("docker://{}/tugtest/app:v1", dest.addr),
    ]));
    let v = sh(std::process::Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        &format!("docker://{}/tugtest/app:v1", dest.addr),
    ]));
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["Digest"], built_digest(&first));

    // A build FROM that image needs neither the cache nor a second copy of
    // the images its registry already holds.
    std::fs::remove_dir_all(tug.home().join("data/build-cache")).unwrap();
    let child = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(child.path().join("manifests")).unwrap();
    std::fs::write(
        child.path().join("Kubefile"),
        "FROM tugtest/app:v1\nCOPY m.yaml manifests/\n",
    )
    .unwrap();
    std::fs::write(
        child.path().join("m.yaml"),
        "kind: Pod\nspec:\n  containers:\n  - image: tugtest/echo:v1\n  - image: registry.k8s.io/pause:3.9\n",
    )
    .unwrap();
    let built = tug
        .run(&[
            "build",
            "-t",
            "tugtest/child:v1",
            child.path().to_str().unwrap(),
        ])
        .ok();
    assert!(
        built
            .stderr
            .contains("2 images are already in the base image's registry"),
        "{}",
        built.stderr
    );
    let img = store
        .image(&"tugtest/child:v1".parse().unwrap(), None)
        .unwrap();
    assert_eq!(
        img.manifest.layers.len(),
        4,
        "base layers and one COPY layer"
    );
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk_count(&p)
            } else {
                usize::from(p.ends_with("data"))
            }
        })
        .sum()
}

#[test]
fn a_missing_kubefile_or_a_run_step_fails_the_build_naming_the_file() {
    let tug = Tug::new();
    let missing = tug
        .run(&["build", "-t", "x:1", "-f", "/nonexistent/Kubefile", "."])
        .fails();
    assert!(
        missing.stderr.contains("/nonexistent/Kubefile"),
        "{}",
        missing.stderr
    );
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Kubefile"), "FROM scratch\nRUN make\n").unwrap();
    let bad = tug
        .run(&["build", "-t", "x:1", ctx.path().to_str().unwrap()])
        .fails();
    assert!(
        bad.stderr.contains("Kubefile:2:1: RUN is not supported"),
        "{}",
        bad.stderr
    );
    assert!(
        Store::open(&tug.store())
            .unwrap()
            .names()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_app_fixture_builds_once_its_image_is_cached() {
    let tug = Tug::new();
    let cache = Store::open(&tug.home().join("data/build-cache")).unwrap();
    put_image(&cache, "docker.io/tugtest/echo:v1", "echo");
    let run = tug
        .run(&[
            "build",
            "-t",
            "tugtest/echo-app:v1",
            fixture("app").to_str().unwrap(),
        ])
        .ok();
    let store = Store::open(&tug.store()).unwrap();
    let img = store
        .image(&"tugtest/echo-app:v1".parse().unwrap(), None)
        .unwrap();
    let labels = img.config.config.clone().unwrap().labels.unwrap();
    assert_eq!(labels["sealos.io.type"], "application");
    assert_eq!(img.manifest.layers.len(), 2);
    assert!(
        run.stdout
            .starts_with("docker.io/tugtest/echo-app:v1@sha256:"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_demo_context_builds_as_a_rootfs_image() {
    let tug = Tug::new();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    tug.run(&["build", "-t", "tug/demo:v1.28.9", demo.to_str().unwrap()])
        .ok();
    let store = Store::open(&tug.store()).unwrap();
    let img = store
        .image(&"tug/demo:v1.28.9".parse().unwrap(), None)
        .unwrap();
    let labels = img.config.config.clone().unwrap().labels.unwrap();
    assert_eq!(labels["sealos.io.type"], "rootfs");
    assert_eq!(labels["io.tug.demo"], "true");
}

//! Image discovery over a context: manifests of every kind, imageList,
//! shim lists, charts without helm (values, with a warning) and with a
//! `helm` test double on PATH whose output is what gets scanned.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tug::build::discover::{Discovery, Options, discover_with};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn refs(d: &Discovery) -> Vec<String> {
    d.images.iter().map(|f| f.reference.to_string()).collect()
}

fn origin_of(d: &Discovery, r: &str) -> Vec<String> {
    d.images
        .iter()
        .find(|f| f.reference.to_string() == r)
        .unwrap_or_else(|| panic!("{r} not found in {:?}", refs(d)))
        .origins
        .iter()
        .map(|o| o.to_string())
        .collect()
}

const WORKLOADS: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
  - name: init
    image: busybox:1.36
  containers:
  - name: app
    image: "nginx:1.25"
  ephemeralContainers:
  - name: debug
    image: 'registry.k8s.io/e2e-test-images/agnhost:2.39'
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: d
        image: quay.io/example/deploy:v1
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - {name: c, image: ghcr.io/example/cron:v2}
---
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  spec:
    template:
      spec:
        containers:
        - name: ds
          image: docker.io/library/nginx:1.25
- apiVersion: apps/v1
  kind: StatefulSet
  spec:
    template:
      spec:
        containers:
        - name: ss
          image: example.com/db/postgres:16
"#;

const CRD: &str = r#"apiVersion: example.com/v1
kind: Widget
spec:
  image: example.com/operator/widget:v3
  description: "image: not a reference at all!"
  other:
    image: NOT A REF
"#;

fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "manifests/apps/workloads.yaml", WORKLOADS);
    write(r, "manifests/crd.yml", CRD);
    write(
        r,
        "manifests/templated.yaml.tmpl",
        "spec:\n  containers:\n  - image: {{ .registryDomain }}/x:1\n  - image: example.com/tmpl/fixed:v1 # pinned\n  {{ if .x }}\n",
    );
    write(r, "manifests/notes.txt", "image: example.com/ignored:v1\n");
    write(
        r,
        "manifests/imageList",
        "# extra images\n\nexample.com/list/one:v1\n  mysql:5.6  \n",
    );
    write(
        r,
        "images/shim/DefaultImageList",
        "registry.k8s.io/pause:3.9\n",
    );
    write(
        r,
        "images/shim/sub/LvscareImageList",
        "ghcr.io/labring/lvscare:v4.3.0\n",
    );
    write(
        r,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"2.4.1\"\n",
    );
    write(
        r,
        "charts/web/values.yaml",
        "image:\n  registry: quay.io\n  repository: example/web\n  tag: \"\"\nsidecar:\n  exporterImage: example.com/exporter:0.9\nworkers:\n  - image:\n      repository: example/worker\n      tag: 7\n",
    );
    write(r, "charts/web.values.yaml", "image:\n  tag: 2.5.0\n");
    write(
        r,
        "charts/web/charts/cache/Chart.yaml",
        "apiVersion: v2\nname: cache\nversion: 1.0.0\nappVersion: 7.2.4\n",
    );
    write(r, "charts/web/charts/cache/values.yaml", "image: redis\n");
    write(
        r,
        "charts/web/templates/deployment.yaml",
        "spec:\n  containers:\n  - image: {{ .Values.image.registry }}/{{ .Values.image.repository }}\n",
    );
    dir
}

#[test]
fn manifests_lists_and_chart_values_without_helm() {
    let ctx = context();
    let d = discover_with(ctx.path(), &Options { helm: None }).unwrap();
    assert_eq!(
        refs(&d),
        [
            "docker.io/example/worker:7",
            "docker.io/library/busybox:1.36",
            "docker.io/library/mysql:5.6",
            "docker.io/library/nginx:1.25",
            "docker.io/library/redis:7.2.4",
            "example.com/db/postgres:16",
            "example.com/exporter:0.9",
            "example.com/list/one:v1",
            "example.com/operator/widget:v3",
            "example.com/tmpl/fixed:v1",
            "ghcr.io/example/cron:v2",
            "ghcr.io/labring/lvscare:v4.3.0",
            "quay.io/example/deploy:v1",
            "quay.io/example/web:2.5.0",
            "registry.k8s.io/e2e-test-images/agnhost:2.39",
            "registry.k8s.io/pause:3.9",
        ]
        .map(String::from)
    );
    assert_eq!(
        origin_of(&d, "docker.io/library/nginx:1.25"),
        [
            "manifests/apps/workloads.yaml:10",
            "manifests/apps/workloads.yaml:44"
        ]
    );
    assert_eq!(
        origin_of(&d, "docker.io/library/mysql:5.6"),
        ["manifests/imageList:4"]
    );
    assert_eq!(
        origin_of(&d, "ghcr.io/labring/lvscare:v4.3.0"),
        ["images/shim/sub/LvscareImageList:1"]
    );
    assert_eq!(
        origin_of(&d, "example.com/tmpl/fixed:v1"),
        ["manifests/templated.yaml.tmpl:4"]
    );
    assert_eq!(
        origin_of(&d, "quay.io/example/web:2.5.0"),
        ["charts/web/values.yaml:3"]
    );
    assert_eq!(
        origin_of(&d, "docker.io/library/redis:7.2.4"),
        ["charts/web/charts/cache/values.yaml:1"]
    );
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert!(d.warnings[0].starts_with("helm not found on PATH: images of charts/web"));
}

#[test]
fn a_helm_on_path_renders_charts_and_its_output_is_scanned() {
    let ctx = context();
    let bin = tempfile::tempdir().unwrap();
    let calls = bin.path().join("calls");
    let helm: PathBuf = bin.path().join("helm");
    std::fs::write(
        &helm,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\ncat <<'YAML'\n---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: quay.io/example/web:rendered\n---\n# Source: web/charts/cache/templates/sts.yaml\nkind: StatefulSet\nspec:\n  template:\n    spec:\n      containers:\n      - image: redis:rendered\nYAML\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let d = discover_with(
        ctx.path(),
        &Options {
            helm: Some(helm.clone()),
        },
    )
    .unwrap();
    let all = refs(&d);
    assert!(
        all.contains(&"quay.io/example/web:rendered".to_string()),
        "{all:?}"
    );
    assert!(
        !all.iter()
            .any(|r| r.contains("web:2.5.0") || r.contains("redis:7.2.4")),
        "{all:?}"
    );
    assert_eq!(
        origin_of(&d, "docker.io/library/redis:rendered"),
        ["charts/web/charts/cache/templates/sts.yaml"]
    );
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let called = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        called.trim(),
        "template dryrun charts/web -f charts/web.values.yaml"
    );

    std::fs::write(
        &helm,
        "#!/bin/sh\necho 'Error: parse error in values' >&2\nexit 1\n",
    )
    .unwrap();
    let e = discover_with(ctx.path(), &Options { helm: Some(helm) })
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("helm template charts/web: exit status: 1"),
        "{e}"
    );
    assert!(e.contains("parse error in values"), "{e}");
}

#[test]
fn bad_lists_and_bad_yaml_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "images/shim/list", "ok:v1\n\nBad Image\n");
    let e = discover_with(dir.path(), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("images/shim/list:3: invalid image reference"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "manifests/a.yaml",
        "kind: Pod\nspec:\n  containers:\n  - image: UPPER:1\n",
    );
    let e = discover_with(dir.path(), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("manifests/a.yaml:4: container image: invalid image reference"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "manifests/b.yaml", "a: [1, 2\nb: c\n");
    let e = discover_with(dir.path(), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("manifests/b.yaml:"), "{e}");
    assert!(e.contains("not valid YAML"), "{e}");
}

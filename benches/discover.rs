//! Discovery over 2,000 generated manifest files (target: under a second in
//! a release build). Run with `cargo bench --bench discover`.

use std::time::Instant;
use tug::build::discover::{Options, discover_with};

fn main() {
    // Only under `cargo bench` (which passes --bench); test runners list and
    // run every target, and a benchmark is not a test.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for i in 0..2000 {
        let sub = dir
            .path()
            .join("manifests")
            .join(format!("group{}", i % 40));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let text = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\n  labels: {{app: app{i}}}\nspec:\n  replicas: 2\n  template:\n    metadata:\n      labels: {{app: app{i}}}\n    spec:\n      initContainers:\n      - name: init\n        image: busybox:1.{}\n      containers:\n      - name: main\n        image: example.com/team{}/app{i}:v{}\n        ports: [{{containerPort: 8080}}]\n        env:\n        - {{name: A, value: b}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: app{i}}}\nspec:\n  ports: [{{port: 80}}]\n",
            i % 7,
            i % 13,
            i % 5
        );
        std::fs::write(sub.join(format!("app{i}.yaml")), text).expect("write");
    }
    let start = Instant::now();
    let found = discover_with(dir.path(), &Options { helm: None }).expect("discover");
    let took = start.elapsed();
    println!(
        "discover: 2000 manifest files, {} distinct images, {:.3} s (target < 1 s)",
        found.images.len(),
        took.as_secs_f64()
    );
}

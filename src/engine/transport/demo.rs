//! Simulated hosts for `tug demo` only: nothing is connected and nothing
//! runs. Each command is answered after a short delay with the kind of
//! lines the real one prints (kubeadm, the image's scripts, preflight);
//! bytes sent are really read from the plan's sources, at a simulated link
//! speed, so the runner's own progress events move. Never used for real
//! hosts or by tests of the SSH paths.

use super::{BoxFuture, ByteStream, LineSink, Transport, TransportError};
use crate::engine::command::Command;
use crate::engine::event::Stream;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// One simulated host.
#[derive(Clone, Debug)]
pub struct DemoTransport {
    hostname: String,
    /// Simulated link speed, bytes per second.
    speed: u64,
    /// The base delay of a command.
    pace: Duration,
    /// The simulated cluster's nodes (name, address), all Ready, for
    /// `kubectl get nodes`.
    nodes: Vec<(String, String)>,
}

impl DemoTransport {
    /// A host called `hostname` with a link of `speed` bytes per second;
    /// commands take about `pace` each.
    pub fn new(hostname: impl Into<String>, speed: u64, pace: Duration) -> Self {
        DemoTransport {
            hostname: hostname.into(),
            speed: speed.max(1),
            pace,
            nodes: Vec::new(),
        }
    }

    /// This host, answering `kubectl get nodes` with `nodes` (name, address) Ready.
    pub fn with_nodes(mut self, nodes: Vec<(String, String)>) -> Self {
        self.nodes = nodes;
        self
    }

    /// A delay between half and one and a half `pace`, varying with the
    /// host and command but the same on every run.
    fn delay(&self, cmd: &str) -> Duration {
        let mut h = DefaultHasher::new();
        (&self.hostname, cmd).hash(&mut h);
        let permille = 500 + h.finish() % 1000;
        self.pace * u32::try_from(permille).unwrap_or(1000) / 1000
    }

    async fn answer(&self, cmd: &str, out: LineSink<'_>) -> i32 {
        if cmd.starts_with("test ") {
            // Marker checks: a fresh simulated host has nothing yet.
            tokio::time::sleep(self.pace / 10).await;
            return 1;
        }
        let lines = if cmd.starts_with("kubectl get nodes") && cmd.contains("conditions") {
            self.nodes
                .iter()
                .flat_map(|(name, ip)| {
                    [
                        format!("node\t{name}\t{ip}\tv1.28.9"),
                        "cond\tReady\tTrue\tKubeletReady\tkubelet is posting ready status".into(),
                    ]
                })
                .collect()
        } else {
            lines_for(cmd, &self.hostname)
        };
        let pause = self.delay(cmd) / u32::try_from(lines.len() + 1).unwrap_or(1);
        for line in lines {
            tokio::time::sleep(pause).await;
            out(Stream::Stdout, &line);
        }
        tokio::time::sleep(pause).await;
        0
    }
}

impl Transport for DemoTransport {
    fn run<'a>(
        &'a self,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(async move { Ok(self.answer(&cmd.masked(), out).await) })
    }

    fn send<'a>(
        &'a self,
        mut data: ByteStream<'a>,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(async move {
            let mut buf = vec![0u8; 256 << 10];
            loop {
                let n = data.read(&mut buf).await.map_err(TransportError::Source)?;
                if n == 0 {
                    break;
                }
                let secs = n as f64 / self.speed as f64;
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            }
            Ok(self.answer(&cmd.masked(), out).await)
        })
    }

    fn fetch<'a>(
        &'a self,
        path: &'a str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, TransportError>> {
        Box::pin(async move {
            tokio::time::sleep(self.pace / 4).await;
            let body = fetched(path, &self.hostname);
            if body.len() as u64 > limit {
                return Err(TransportError::TooLarge {
                    path: path.to_string(),
                    limit,
                });
            }
            Ok(body.into_bytes())
        })
    }
}

/// What a simulated file holds.
fn fetched(path: &str, hostname: &str) -> String {
    if path.ends_with("/hostname") {
        format!("{hostname}\n")
    } else if path.ends_with("admin.conf") {
        format!(
            "# tug demo: a simulated kubeconfig; no cluster exists\n\
             apiVersion: v1\nkind: Config\nclusters:\n- name: demo\n  cluster:\n    \
             server: https://apiserver.cluster.local:6443\n    certificate-authority-data: ZGVtbw==\n\
             contexts:\n- name: kubernetes-admin@demo\n  context:\n    cluster: demo\n    user: kubernetes-admin\n\
             current-context: kubernetes-admin@demo\nusers:\n- name: kubernetes-admin\n  user:\n    \
             client-certificate-data: ZGVtbw==\n    client-key-data: ZGVtbw==\n# fetched from {hostname}\n"
        )
    } else {
        // The join secrets: token, CA hash and certificate key (all fake).
        "abcdef.0123456789abcdef\nsha256:0000000000000000000000000000000000000000000000000000000000000000\n\
         0000000000000000000000000000000000000000000000000000000000000000\n"
            .to_string()
    }
}

/// The lines a command of this kind prints on a real host.
fn lines_for(cmd: &str, hostname: &str) -> Vec<String> {
    let has = |s: &str| cmd.contains(s);
    let v: &[&str] = if has("problems=0") {
        &[
            "arch amd64, Linux 6.8, tar gzip systemctl present",
            "disk: 41 GiB free under /var/lib/sealos",
            "ports 10250 6443 2379 free, swap off",
        ]
    } else if has("read -r now") {
        &["clock within 1s of the machine running tug"]
    } else if has("kubeadm") && has(" init") {
        &[
            "[init] Using Kubernetes version: v1.28.9",
            "[preflight] Running pre-flight checks",
            "[certs] Generating \"ca\" certificate and key",
            "[certs] Generating \"apiserver\" certificate and key",
            "[certs] Generating \"etcd/ca\" certificate and key",
            "[kubeconfig] Writing \"admin.conf\" kubeconfig file",
            "[etcd] Creating static Pod manifest for local etcd",
            "[control-plane] Creating static Pod manifest for \"kube-apiserver\"",
            "[control-plane] Creating static Pod manifest for \"kube-controller-manager\"",
            "[control-plane] Creating static Pod manifest for \"kube-scheduler\"",
            "[kubelet-start] Starting the kubelet",
            "[apiclient] All control plane components are healthy after 11.5 seconds",
            "[upload-certs] Storing the certificates in Secret \"kubeadm-certs\"",
            "[bootstrap-token] Configured RBAC rules for node bootstrap tokens",
            "[addons] Applied essential addon: CoreDNS",
            "[addons] Applied essential addon: kube-proxy",
            "Your Kubernetes control-plane has initialized successfully!",
        ]
    } else if has("kubeadm") && has(" join") {
        &[
            "[preflight] Running pre-flight checks",
            "[preflight] Reading configuration from the cluster...",
            "[kubelet-start] Writing kubelet configuration to file \"/var/lib/kubelet/config.yaml\"",
            "[kubelet-start] Starting the kubelet",
            "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap...",
            "This node has joined the cluster.",
        ]
    } else if has("kubeadm") && has("token") {
        &[
            "[upload-certs] Using certificate key: <masked>",
            "join token created (valid 24h)",
        ]
    } else if has("init-registry") {
        &[
            "[demo] init-registry.sh: registry started on :5000",
            "registry sealos.hub:5000 answers",
        ]
    } else if has("init-cri") || has("init.sh") {
        &[
            "[demo] init-cri.sh: containerd unpacked and started",
            "[demo] init.sh: kubelet, kubeadm, kubectl installed",
            "[demo] init.sh: pulled sealos.hub:5000/pause:3.9, kubelet enabled",
        ]
    } else if has("check.sh") {
        &["[demo] check.sh: ports 10249-10259 and 5050-5054 are free"]
    } else if has("/etc/hosts") {
        &["/etc/hosts: sealos.hub and apiserver.cluster.local added"]
    } else if has("lvscare") {
        &["lvscare static pod written: apiserver.cluster.local -> masters"]
    } else if has("tar ") {
        &["layer unpacked into /var/lib/sealos/data/demo/rootfs"]
    } else {
        &[]
    };
    let mut lines: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    if has("kubeadm") && has(" join") {
        lines.insert(
            0,
            format!("[join] {hostname} joining via apiserver.cluster.local:6443"),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commands_answer_with_plausible_lines_and_bytes_are_read() {
        let t = DemoTransport::new("demo-master-1", 1 << 30, Duration::from_millis(1));
        let mut seen = Vec::new();
        let code = t
            .run(&Command::shell("kubeadm init --config=x"), &mut |_, l| {
                seen.push(l.to_string())
            })
            .await
            .unwrap();
        assert_eq!(code, 0);
        assert!(seen.iter().any(|l| l.contains("initialized successfully")));
        assert_eq!(
            t.run(&Command::shell("test -e /x"), &mut |_, _| {})
                .await
                .unwrap(),
            1
        );
        let data: &[u8] = &[7u8; 300_000];
        let mut reader = data;
        let code = t
            .send(
                Box::new(&mut reader),
                &Command::shell("tar -x"),
                &mut |_, _| {},
            )
            .await
            .unwrap();
        assert_eq!((code, reader.len()), (0, 0), "every byte is read");
        let name = t.fetch("/proc/sys/kernel/hostname", 100).await.unwrap();
        assert_eq!(name, b"demo-master-1\n");
        assert!(t.fetch("/etc/kubernetes/admin.conf", 10).await.is_err());
    }
}

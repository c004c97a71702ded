//! The namespace testbed of `install_local`: hosts as mount+UTS
//! namespaces driven through `nsenter`, fixture images, fake kubeadm and
//! kubectl that record into each host's journal.

use super::support::cluster_image::{gz_tar, put_image};
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use tug::engine::command::quote;
use tug::engine::install::JUMP_HOST;
use tug::engine::journal::Journal;
use tug::engine::plan::{HostId, Plan};
use tug::engine::resolve::SpecInputs;
use tug::engine::runner::{Report, RunError, Runner};
use tug::engine::spec::{HostSpec, Role, SshSpec};
use tug::engine::transport::local::LocalTransport;
use tug::engine::transport::{BoxFuture, ByteStream, LineSink, Transport, TransportError};
use tug::image::{Reference, Store};

/// A namespace that stands for one host; killed on drop.
pub struct NsHost {
    pub holder: Child,
    pub bin: PathBuf,
    home: String,
    local: LocalTransport,
}

impl NsHost {
    /// Start the namespace `name` with a private /etc and /var/lib.
    pub fn start(root: &Path, name: &str, bin: &Path) -> NsHost {
        let etc = root.join(format!("{name}-etc"));
        let copied = Process::new("cp")
            .arg("-a")
            .arg("/etc")
            .arg(&etc)
            .status()
            .unwrap();
        assert!(copied.success());
        let setup = format!(
            "mount --bind {etc} /etc && mount -t tmpfs tmpfs /var/lib && hostname {name} && exec sleep 100000",
            etc = quote(&etc.display().to_string())
        );
        let holder = Process::new("unshare")
            .args(["-m", "-u", "--propagation", "private", "bash", "-c", &setup])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let host = NsHost {
            holder,
            bin: bin.to_path_buf(),
            home: "/var/lib/home".into(),
            local: LocalTransport::new(),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if host.exec(format!("hostname | grep -qx {name}")) {
                return host;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("namespace for {name} did not come up");
    }

    fn wrap(&self, cmd: &str) -> String {
        format!(
            "exec nsenter -t {} -m -u -- env PATH={}:/usr/sbin:/usr/bin:/sbin:/bin HOME={} bash -c {}",
            self.holder.id(),
            quote(&self.bin.display().to_string()),
            self.home,
            quote(cmd)
        )
    }

    /// Run a command in the namespace; whether it succeeded.
    pub fn exec(&self, cmd: String) -> bool {
        Process::new("bash")
            .arg("-c")
            .arg(self.wrap(&cmd))
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    /// A file's text in the namespace ("" when unreadable).
    pub fn read(&self, path: &str) -> String {
        self.try_read(path).unwrap_or_default()
    }

    fn try_read(&self, path: &str) -> Option<String> {
        let out = Process::new("bash")
            .arg("-c")
            .arg(self.wrap(&format!("cat -- {}", quote(path))))
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for NsHost {
    fn drop(&mut self) {
        self.exec("[ -f /var/lib/registry.pid ] && kill $(cat /var/lib/registry.pid); true".into());
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// The engine transport over one namespace.
pub struct Shared(pub Arc<NsHost>);

impl Transport for Shared {
    fn run<'a>(
        &'a self,
        cmd: &'a str,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(async move { self.0.local.run(&self.0.wrap(cmd), out).await })
    }

    fn send<'a>(
        &'a self,
        data: ByteStream<'a>,
        cmd: &'a str,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(async move { self.0.local.send(data, &self.0.wrap(cmd), out).await })
    }

    fn fetch<'a>(
        &'a self,
        path: &'a str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, TransportError>> {
        Box::pin(async move {
            let text = self
                .0
                .try_read(path)
                .ok_or_else(|| TransportError::Other(format!("cannot read {path}")))?;
            if text.len() as u64 > limit {
                return Err(TransportError::TooLarge {
                    path: path.into(),
                    limit,
                });
            }
            Ok(text.into_bytes())
        })
    }
}

pub const JOURNAL: &str = "/var/lib/journal.log";

pub const KUBEADM: &str = r#"#!/bin/bash
echo "kubeadm $*" >> /var/lib/journal.log
case "$1" in
  init) [ "$2" = phase ] && exit 0
        mkdir -p /etc/kubernetes; echo "apiVersion: v1 # admin.conf of $(hostname)" > /etc/kubernetes/admin.conf
        touch /etc/kubernetes/kubelet.conf ;;
  join) cfg=${2#--config=}
        grep -q 'abcdef.0123456789abcdef' "$cfg" && grep -q 'sha256:1111' "$cfg" || { echo "join config without secrets" >&2; exit 1; }
        mkdir -p /etc/kubernetes; touch /etc/kubernetes/kubelet.conf
        if grep -q controlPlane "$cfg"; then
          grep -q 'certificateKey: 0123abcd' "$cfg" || exit 1
          echo "apiVersion: v1 # admin.conf of $(hostname)" > /etc/kubernetes/admin.conf
        fi ;;
  certs) echo 0123abcd ;;
  token) echo "kubeadm join apiserver.cluster.local:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:1111 " ;;
esac
"#;

/// A kubectl that records its calls and knows one node, host6.
pub fn kubectl(host6_ip: &str) -> String {
    format!(
        "#!/bin/bash\necho \"kubectl $*\" >> /var/lib/journal.log\n\
         if [ \"$1 $2\" = \"get nodes\" ]; then echo \"host6 {host6_ip}\"; fi\n"
    )
}

/// init.sh fails while `/var/lib/fail-init` exists on its host.
const FAIL_ON_FLAG: &str =
    "if [ -f /var/lib/fail-init ]; then echo 'init failed on purpose'; exit 1; fi\n";

const INIT_REGISTRY: &str = r#"echo "init-registry $* htpasswd=$(cut -d: -f1 ../etc/registry_htpasswd) link=$(readlink /var/lib/registry)" >> /var/lib/journal.log
setsid /usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
open("/var/lib/registry.pid", "w").write(str(os.getpid()))
while True: s.accept()[0].close()
' "$registryDomain" "$registryPort" >/dev/null 2>&1 < /dev/null &
for i in $(seq 50); do [ -f /var/lib/registry.pid ] && exit 0; sleep 0.1; done
"#;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn images(store: &Store, registry_port: u16) -> Vec<Reference> {
    let record = |what: &str| format!("echo \"{what} $*\" >> /var/lib/journal.log\n");
    let rootfs = put_image(
        store,
        "example.com/kubernetes:v1.25.16",
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {
                "Env": ["registryDomain=sealos.hub", format!("registryPort={registry_port}"),
                        "registryUsername=admin", "registryPassword=passw0rd", "registryData=/var/lib/registry"],
                "Labels": {
                    "sealos.io.type": "rootfs", "version": "v1.25.16",
                    "check": "check.sh $registryData", "init": "init.sh $registryDomain",
                    "init-registry": "init-registry.sh $registryData",
                    "clean": "clean.sh", "clean-registry": "clean-registry.sh $registryData",
                    "image": "sealos.hub:5000/labring/lvscare:v5",
                },
            },
            "rootfs": {"type": "layers", "diff_ids": []},
        }),
        &[
            gz_tar(&[
                ("scripts/check.sh", &record("check"), 0o755),
                (
                    "scripts/init.sh",
                    &(FAIL_ON_FLAG.to_string()
                        + &record("init")
                        + "echo \"port $registryPort\" >> /var/lib/journal.log\n"),
                    0o755,
                ),
                ("scripts/init-registry.sh", INIT_REGISTRY, 0o755),
                ("scripts/clean.sh", &record("clean"), 0o755),
                (
                    "scripts/clean-registry.sh",
                    &(record("clean-registry")
                        + "kill $(cat /var/lib/registry.pid) && rm -f /var/lib/registry.pid\n"),
                    0o755,
                ),
                (
                    "opt/sealctl",
                    &format!("#!/bin/bash\n{}", record("sealctl")),
                    0o755,
                ),
                (
                    "etc/registry.yml.tmpl",
                    "domain: {{ .registryDomain }}\nmode: {{ .SEALOS_SYS_RUN_MODE }}\n",
                    0o644,
                ),
                ("etc/old.conf", "old", 0o644),
            ]),
            gz_tar(&[
                ("etc/.wh.old.conf", "", 0o644),
                ("registry/docker/registry/v2/blob", "data", 0o644),
            ]),
        ],
    );
    let app = put_image(
        store,
        "example.com/calico:v3",
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["NAME=calico"], "Cmd": ["echo app $(NAME) $(pwd) >> /var/lib/journal.log"]},
            "rootfs": {"type": "layers", "diff_ids": []},
        }),
        &[gz_tar(&[
            ("charts/calico/Chart.yaml", "name: calico", 0o644),
            ("registry/docker/registry/v2/app", "img", 0o644),
        ])],
    );
    vec![rootfs, app]
}

/// Namespace hosts with the given roles at `127.<net>.<octet>.N`, the
/// fixture images in a store, fake kubeadm/kubectl, and the spec inputs.
pub struct Testbed {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub store: Store,
    pub ns: Vec<Arc<NsHost>>,
    pub transports: HashMap<HostId, Arc<dyn Transport>>,
    pub inputs: SpecInputs,
    pub cluster: PathBuf,
    pub net: u32,
}

pub fn testbed(roles: &[Role], octet: u8) -> Testbed {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bin = root.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let net = 20 + std::process::id() % 200;
    let tools = [
        ("kubeadm", KUBEADM.to_string()),
        ("kubectl", kubectl(&format!("127.{net}.{octet}.6"))),
    ];
    for (name, text) in tools {
        std::fs::write(bin.join(name), text).unwrap();
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let store = Store::open(&root.join("store")).unwrap();
    let refs = images(&store, free_port());
    let mut hosts = Vec::new();
    let mut transports: HashMap<HostId, Arc<dyn Transport>> = HashMap::new();
    let mut ns = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let ip = format!("127.{net}.{octet}.{}", i + 1);
        let host = Arc::new(NsHost::start(root, &format!("host{}", i + 1), &bin));
        transports.insert(HostId::new(&ip), Arc::new(Shared(Arc::clone(&host))));
        ns.push(host);
        hosts.push(HostSpec {
            id: HostId::new(&ip),
            ip: ip.parse().unwrap(),
            port: 22,
            roles: vec![*role],
            arch: "amd64".into(),
            ssh: SshSpec::default(),
            env: vec![],
        });
    }
    transports.insert(HostId::new(JUMP_HOST), Arc::new(LocalTransport::new()));
    let cluster = root.join("cluster");
    let inputs = SpecInputs {
        name: "c1".into(),
        hosts,
        images: refs,
        cluster_env: vec![],
        flag_env: vec![],
        command: None,
        kubeadm_docs: vec![],
        data_root: "/var/lib/sealos".into(),
        local_dir: cluster.clone(),
    };
    Testbed {
        dir,
        bin,
        store,
        ns,
        transports,
        inputs,
        cluster,
        net,
    }
}

/// Run a plan over the testbed's transports, draining the events.
pub async fn run(
    plan: &Plan,
    hosts: &HashMap<HostId, Arc<dyn Transport>>,
    cluster: &Path,
    journal: &mut Journal,
) -> Result<Report, RunError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let r = Runner::new(hosts.clone(), cluster.join("logs"), tx)
        .run(plan, journal)
        .await;
    drain.await.unwrap();
    r
}

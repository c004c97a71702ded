//! The commands the install sends, built so nothing from an image, a host
//! or a user is ever read as shell code: fixed scripts take their inputs as
//! quoted positional arguments (`bash -c SCRIPT tug ARG…`), and the only
//! verbatim text is an image's own hook or CMD line.

use crate::cluster::env::Env;
use crate::engine::command::{Command, Secret, Value};

/// `bash -c SCRIPT tug ARGS…`: a fixed script with quoted arguments (`$1`…).
pub fn script<I, V>(text: &str, args: I) -> Command
where
    I: IntoIterator<Item = V>,
    V: Into<Value>,
{
    Command::new("bash")
        .arg("-c")
        .arg(text)
        .arg("tug")
        .args(args)
}

pub use crate::cluster::env::is_secret_key;

/// `env` as exports on `cmd`, secret-looking values masked when shown.
pub fn with_env(cmd: Command, env: &Env) -> Command {
    env.vars().iter().fold(cmd, |c, (k, v)| {
        let value = if is_secret_key(k) && !v.is_empty() {
            Value::Secret(Secret::new(v.as_str()))
        } else {
            Value::Plain(v.clone())
        };
        c.env(k.as_str(), value)
    })
}

/// Every non-empty secret value of `env`, to mask in rendered files.
pub fn secret_values(env: &Env) -> Vec<&str> {
    env.vars()
        .iter()
        .filter(|(k, v)| is_secret_key(k) && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A label hook as sealos runs it: `cd <rootfs>/scripts && export … && bash <label>`.
pub fn hook(rootfs: &str, env: &Env, label_value: &str) -> Command {
    let scripts = format!("{}/scripts", rootfs.trim_end_matches('/'));
    with_env(Command::shell(format!("bash {label_value}")), env).cwd(scripts)
}

/// Replace (or add) one name in a hosts file, keeping every other name and
/// line as it is; written in place, since `/etc/hosts` may be a bind mount.
pub const HOSTS_ENTRY: &str = r#"set -e
ip=$1 name=$2 file=${3:-/etc/hosts}
tmp=$(mktemp)
TUG_NAME=$name awk '
  /^[[:space:]]*#/ || NF < 2 { print; next }
  { hit = 0; for (i = 2; i <= NF; i++) if ($i == ENVIRON["TUG_NAME"]) hit = 1
    if (!hit) { print; next }
    out = $1; n = 0
    for (i = 2; i <= NF; i++) {
      if ($i ~ /^#/) break
      if ($i != ENVIRON["TUG_NAME"]) { out = out " " $i; n++ }
    }
    if (n > 0) print out }' "$file" > "$tmp"
printf '%s %s\n' "$ip" "$name" >> "$tmp"
cat "$tmp" > "$file"
rm -f "$tmp""#;

/// Map `name` to `ip` in `/etc/hosts`.
pub fn hosts_entry(ip: &str, name: &str) -> Command {
    script(HOSTS_ENTRY, [ip, name])
}

/// Copy admin.conf to the login user's `~/.kube/config`.
pub const KUBECONFIG: &str = r#"set -e
mkdir -p "$HOME/.kube"
cp -f /etc/kubernetes/admin.conf "$HOME/.kube/config"
chmod 600 "$HOME/.kube/config""#;

/// Copy the image's audit policy where the kubeadm config expects it.
pub const AUDIT_POLICY: &str = r#"set -e
mkdir -p /etc/kubernetes
if [ -f "$1/statics/audit-policy.yml" ]; then cp -f "$1/statics/audit-policy.yml" /etc/kubernetes/audit-policy.yml; fi"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::install::fixture::env_of as env;

    #[test]
    fn passwords_are_masked_in_hooks() {
        let e = env(&[("registryPassword", "s3cret"), ("registryPort", "5000")]);
        let c = hook("/r", &e, "init-registry.sh $registryData");
        assert!(c.render().unwrap().contains("s3cret"));
        assert!(!c.to_string().contains("s3cret"));
        assert!(c.to_string().contains("registryPort=5000"));
    }

    #[tokio::test]
    async fn a_hooks_own_error_is_named_after_the_hook_and_its_line() {
        use crate::engine::transport::{Transport, local::LocalTransport};
        let dir = tempfile::tempdir().unwrap();
        let scripts = dir.path().join("scripts");
        std::fs::create_dir(&scripts).unwrap();
        std::fs::write(
            scripts.join("init.sh"),
            "#!/usr/bin/env bash\necho start\nno-such-program-here\nexit 3\n",
        )
        .unwrap();
        let cmd = hook(dir.path().to_str().unwrap(), &env(&[("A", "1")]), "init.sh");
        let mut lines = Vec::new();
        let code = LocalTransport::new()
            .run(&cmd, &mut |_, l| lines.push(l.to_string()))
            .await
            .unwrap();
        assert_eq!(code, 3);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("init.sh: line 3: no-such-program-here")),
            "{lines:?}"
        );
        assert!(!lines.iter().any(|l| l.starts_with("tug:")), "{lines:?}");
    }

    #[test]
    fn hosts_entries_replace_old_ones_and_keep_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hosts");
        std::fs::write(
            &file,
            "# c\n127.0.0.1\tlocalhost\n10.0.0.9 sealos.hub other\n10.0.0.8 sealos.hub\n",
        )
        .unwrap();
        for _ in 0..2 {
            let cmd = script(
                HOSTS_ENTRY,
                ["10.0.0.2", "sealos.hub", file.to_str().unwrap()],
            );
            let ok = std::process::Command::new("bash")
                .arg("-c")
                .arg(cmd.render().unwrap())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "# c\n127.0.0.1\tlocalhost\n10.0.0.9 other\n10.0.0.2 sealos.hub\n"
        );
    }
}

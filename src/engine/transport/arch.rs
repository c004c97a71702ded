//! Asking a host its CPU architecture (`uname -m`, named as OCI names it
//! and as the install's preflight does): the CLI asks when an image is
//! stored for several platforms, the wizard's connection test to show it.

use super::Transport;
use crate::engine::command::Command;
use crate::engine::event::Stream;
use crate::image::oci::normalise_arch;
use std::time::Duration;

/// How long a host may take to say its arch once connected.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(20);

/// A host's arch as OCI names it (`amd64`, `arm64`): the first line
/// `uname -m` prints; why not, when it cannot be told.
pub async fn arch_of(host: &dyn Transport) -> Result<String, String> {
    let mut first: Option<String> = None;
    let mut sink = |stream: Stream, line: &str| {
        if stream == Stream::Stdout && first.is_none() {
            first = Some(line.trim().to_string());
        }
    };
    let uname = Command::new("uname").arg("-m");
    let code = match tokio::time::timeout(ASK_TIMEOUT, host.run(&uname, &mut sink)).await {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err(format!("no answer within {}s", ASK_TIMEOUT.as_secs())),
    };
    match first.filter(|a| !a.is_empty()) {
        Some(arch) if code == 0 => Ok(normalise_arch(&arch).to_string()),
        Some(_) => Err(format!("`uname -m` exited with {code}")),
        None => Err("`uname -m` printed nothing".into()),
    }
}

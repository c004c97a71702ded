//! Registry commands: pull, push, login, logout.

use super::Context;
use clap::Subcommand;

/// Commands that talk to registries.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {}

impl RegistryCommand {
    /// Run the command.
    pub async fn run(self, _ctx: &Context) -> anyhow::Result<()> {
        match self {}
    }
}

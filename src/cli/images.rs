//! Local store commands: images, inspect, tag, rmi, save, load.

use super::Context;
use clap::Subcommand;

/// Commands on the local image store.
#[derive(Debug, Subcommand)]
pub enum ImagesCommand {}

impl ImagesCommand {
    /// Run the command.
    pub async fn run(self, _ctx: &Context) -> anyhow::Result<()> {
        match self {}
    }
}

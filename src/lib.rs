//! tug: install Kubernetes onto bare Linux hosts from sealos/sealer-style
//! cluster images. The library holds the engine and the application layer
//! ([`app`]) under two faces, [`cli`] and [`tui`]; `src/main.rs` picks the
//! face.

pub mod app;
pub mod build;
pub mod bundle;
pub mod cli;
pub mod cluster;
pub mod engine;
pub mod fsutil;
pub mod image;
pub mod kubeadm;
pub mod paths;
pub mod sanitize;
pub mod secret;
pub mod ssh;
pub mod template;
pub mod tui;

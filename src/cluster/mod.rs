//! The Clusterfile: hosts, images, SSH settings, env, status.
//!
//! [`clusterfile::Clusterfile`] is the file (the sealos `Cluster` in
//! [`model`] plus kubeadm and `Config` documents); [`hosts`] turns its hosts
//! into [`hosts::Machine`]s; [`validate`] finds what is wrong, by file, line
//! and field ([`typos`]: unknown fields, with the one probably meant);
//! [`create`] builds a new one from flags; [`state`] keeps a
//! cluster's own directory; [`env`] resolves the environment images see;
//! [`verbatim`] keeps each document's text as the user wrote it.

pub mod cert_sans;
pub mod clusterfile;
pub mod conditions;
pub mod create;
pub mod env;
pub mod hosts;
pub mod model;
pub mod problem;
pub mod state;
pub mod typos;
pub mod validate;
pub mod verbatim;

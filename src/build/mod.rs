//! Building cluster images from a Kubefile (lite build): parse the Kubefile,
//! plan what COPY adds, discover the container images the cluster needs,
//! write them as a docker-distribution tree, and assemble the new image.

pub mod base_registry;
pub mod builder;
pub mod config;
pub mod discover;
pub mod fetch;
pub mod glob;
pub mod kubefile;
pub mod layer_writer;
pub mod plan;
pub mod registry_dir;

//! Cluster images as OCI images: references, the local store, registries,
//! layers, archives and the sealos contract read from an image config.

pub mod archive;
pub mod auth;
pub mod cluster_image;
pub mod digest;
pub mod layer;
pub mod oci;
pub mod reference;
pub mod registry;
pub mod rootfs;
pub mod store;
pub mod vet;

pub use digest::Digest;
pub use reference::Reference;
pub use store::Store;

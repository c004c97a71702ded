//! Building cluster images from a Kubefile (lite build).

//! kubeadm configuration: defaults per apiVersion, merging, computed fields.

//! The Go-template subset cluster images use in their `*.tmpl` files.

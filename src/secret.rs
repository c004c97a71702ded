//! Passwords, passphrases, tokens and keys: sent where they are needed and
//! written to files only with mode 0600, but shown as [`MASK`] by `Display`
//! and `Debug`, so they cannot leak into logs, plans, screens or error chains.

use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What a secret looks like wherever it is shown.
pub const MASK: &str = "******";

/// A secret string: a Clusterfile's `passwd`, `pkPasswd`, `pkData`, a sudo
/// password, a join token.
#[derive(Clone, Default)]
pub struct Secret(SecretString);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The plain text, for the bytes that go to a host or into a 0600 file.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(SecretString::from(s))
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(SecretString::from(s))
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({MASK})")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

/// Any scalar: `passwd: 123456` is a password too, and a type error must
/// not echo the secret the way serde's "invalid type: integer" would.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl Visitor<'_> for SecretVisitor {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret::from(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret::from(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Secret, E> {
                Ok(Secret::from(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Secret, E> {
                Ok(Secret::from(v.to_string()))
            }
        }
        d.deserialize_any(SecretVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_serialise_shows() {
        let s = Secret::from("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.to_string(), MASK);
        assert_eq!(serde_yaml::to_string(&s).unwrap().trim(), "hunter2");
    }

    #[test]
    fn numbers_are_passwords_and_errors_do_not_echo() {
        let s: Secret = serde_yaml::from_str("123456").unwrap();
        assert_eq!(s.expose(), "123456");
        let e = serde_yaml::from_str::<Secret>("{a: hunter2}").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}

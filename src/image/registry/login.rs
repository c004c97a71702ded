//! Checking credentials before they are saved, as `docker login` does:
//! `GET /v2/` tells which scheme the registry wants; Basic registries must
//! then answer 200 to the same request with the credentials, Bearer
//! registries must hand out a token for them.

use super::errors::{At, no_answer};
use super::{RegistryError, RegistryOptions, Result};
use crate::image::auth::Credentials;
use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;
use secrecy::ExposeSecret;

pub(super) async fn check(
    options: &RegistryOptions,
    registry: &str,
    creds: &Credentials,
) -> Result<()> {
    let at = At {
        registry,
        image: registry,
        blob: None,
    };
    let unreachable = |e: reqwest::Error| RegistryError::Unreachable {
        registry: registry.to_string(),
        reason: no_answer(&e),
    };
    let http = reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .user_agent(concat!("tug/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| RegistryError::Client {
            registry: registry.to_string(),
            reason: no_answer(&e),
        })?;
    let url = format!("{}://{registry}/v2/", options.scheme(registry));
    let probe = http.get(&url).send().await.map_err(unreachable)?;
    if probe.status().is_success() {
        return Ok(());
    }
    if probe.status() != StatusCode::UNAUTHORIZED {
        return Err(at.protocol(format!("GET /v2/ answered {}", probe.status())));
    }
    let challenge = probe
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let user = creds.username.clone();
    let pass = creds.password.expose_secret().to_string();
    let answer = match bearer_params(&challenge) {
        Some(params) => {
            let realm = params
                .iter()
                .find(|(k, _)| k == "realm")
                .map(|(_, v)| v.clone())
                .ok_or_else(|| at.protocol("Bearer challenge without a realm".into()))?;
            let mut query = vec![("account".to_string(), user.clone())];
            query.extend(params.into_iter().filter(|(k, _)| k == "service"));
            http.get(&realm)
                .query(&query)
                .basic_auth(user, Some(pass))
                .send()
                .await
                .map_err(unreachable)?
        }
        None => http
            .get(&url)
            .basic_auth(user, Some(pass))
            .send()
            .await
            .map_err(unreachable)?,
    };
    match answer.status() {
        s if s.is_success() => Ok(()),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(RegistryError::LoginRefused {
            registry: registry.to_string(),
        }),
        s => Err(at.protocol(format!("the login request answered {s}"))),
    }
}

/// The `key="value"` parameters of a `Bearer` challenge, or None for others.
fn bearer_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim();
    let (scheme, params) = rest.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut out = Vec::new();
    let mut s = params.trim();
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        out.push((key, value.to_string()));
        s = tail.trim_start_matches([',', ' ']);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::bearer_params;

    #[test]
    fn bearer_challenges_parse_and_basic_ones_do_not() {
        let p = bearer_params(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull""#,
        )
        .unwrap();
        assert_eq!(p[0], ("realm".into(), "https://auth.example/token".into()));
        assert_eq!(p[1], ("service".into(), "registry.example".into()));
        assert_eq!(p.len(), 3);
        assert!(bearer_params(r#"Basic realm="tug-test""#).is_none());
        assert!(bearer_params("").is_none());
    }
}

//! Bearer-token authentication and the optional global rate limit.

use std::sync::Mutex;
use std::time::Instant;

use axum::http::{HeaderMap, StatusCode, header};

use super::error::ScimError;

/// Checks `Authorization: Bearer <token>`; an empty configured token disables the check.
pub fn check_bearer(headers: &HeaderMap, token: &str) -> Result<(), ScimError> {
    if token.is_empty() {
        return Ok(());
    }
    let presented = bearer_value(headers);
    let (detail, challenge) = match presented {
        Some(value) if constant_time_eq(value.as_bytes(), token.as_bytes()) => return Ok(()),
        Some(_) => (
            "the bearer token is not valid",
            "Bearer realm=\"scimreplay\", error=\"invalid_token\"",
        ),
        None => (
            "a bearer token is required (Authorization: Bearer <token>)",
            "Bearer realm=\"scimreplay\"",
        ),
    };
    Err(ScimError::new(StatusCode::UNAUTHORIZED, detail)
        .with_header(header::WWW_AUTHENTICATE, challenge))
}

/// The value of `Authorization: Bearer <value>`, if the request has one.
pub fn bearer_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, value)| value.trim())
}

/// Compares without an early exit, so response timing does not reveal the token prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, byte) in b.iter().enumerate() {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ byte);
    }
    diff == 0
}

/// A token bucket shared by all requests: `per_second` tokens a second, bursts of the same.
pub struct RateLimiter {
    per_second: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` requests a second (at least one).
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        RateLimiter {
            per_second: rate,
            bucket: Mutex::new((rate, Instant::now())),
        }
    }

    /// Takes a token, or says how many whole seconds until one is available.
    pub fn try_acquire(&self) -> Result<(), u64> {
        self.try_acquire_at(Instant::now())
    }

    fn try_acquire_at(&self, now: Instant) -> Result<(), u64> {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_duration_since(bucket.1).as_secs_f64();
        bucket.0 = (bucket.0 + elapsed * self.per_second).min(self.per_second);
        bucket.1 = now;
        if bucket.0 >= 1.0 {
            bucket.0 -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.0) / self.per_second;
        Err((wait.ceil() as u64).max(1))
    }
}

/// The 429 answer, with `Retry-After` in seconds.
pub fn too_many_requests(retry_after: u64) -> ScimError {
    ScimError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("rate limit exceeded; retry after {retry_after} s"),
    )
    .with_header(header::RETRY_AFTER, retry_after.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::time::Duration;

    fn headers(auth: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(auth) {
            map.insert(header::AUTHORIZATION, value);
        }
        map
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_token_exact() {
        assert!(check_bearer(&headers("Bearer s3cret"), "s3cret").is_ok());
        assert!(check_bearer(&headers("bearer s3cret"), "s3cret").is_ok());
        assert!(check_bearer(&headers("Bearer s3cre"), "s3cret").is_err());
        assert!(check_bearer(&headers("Bearer s3cretX"), "s3cret").is_err());
        assert!(check_bearer(&headers("Basic s3cret"), "s3cret").is_err());
        assert!(check_bearer(&HeaderMap::new(), "").is_ok());
    }

    #[test]
    fn rejection_is_401_with_a_challenge_and_no_token_echo() {
        let err = check_bearer(&headers("Bearer wrong"), "s3cret").err();
        let Some(err) = err else {
            panic!("expected rejection")
        };
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        assert!(
            err.headers
                .iter()
                .any(|(n, v)| n == header::WWW_AUTHENTICATE && v.contains("invalid_token"))
        );
        assert!(!err.detail.contains("s3cret") && !err.detail.contains("wrong"));
        let missing = check_bearer(&HeaderMap::new(), "s3cret").err();
        assert!(missing.is_some_and(|e| e.detail.contains("required")));
    }

    #[test]
    fn bucket_allows_a_burst_then_asks_to_wait_then_refills() {
        let limiter = RateLimiter::new(2);
        let start = Instant::now();
        assert!(limiter.try_acquire_at(start).is_ok());
        assert!(limiter.try_acquire_at(start).is_ok());
        assert_eq!(limiter.try_acquire_at(start), Err(1));
        assert!(
            limiter
                .try_acquire_at(start + Duration::from_millis(600))
                .is_ok()
        );
    }

    #[test]
    fn too_many_requests_carries_retry_after() {
        let err = too_many_requests(3);
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            err.headers
                .iter()
                .any(|(n, v)| n == header::RETRY_AFTER && v == "3")
        );
    }
}

//! Calls to other services (a model API, Slack, an embeddings server): the rules every such
//! call follows, whichever part of the server makes it.
use std::time::Duration;

use reqwest::header::HeaderMap;

/// Why a capped body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Transport(#[from] reqwest::Error),
}

/// Reads a response body, refused once it passes `max` bytes: an upstream (a model API, Slack,
/// an embeddings server) that sends more than its answers ever hold must not fill the memory.
pub async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge(max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `retry-after-ms`, then `retry-after` in seconds, honoured when at most 60 s. Whatever the
/// header holds (`inf`, `NaN`, `-1`, `1e300`, a date) gives a wait or none, never a panic.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::trim);
    let seconds = |raw: &str, scale: f64| {
        raw.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .and_then(|v| Duration::try_from_secs_f64(v.max(0.0) / scale).ok())
    };
    let wait = get("retry-after-ms")
        .and_then(|v| seconds(v, 1000.0))
        .or_else(|| get("retry-after").and_then(|v| seconds(v, 1.0)))?;
    (wait <= Duration::from_secs(60)).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_headers_are_read_in_seconds_or_milliseconds() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3600".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
        for odd in ["inf", "-inf", "NaN", "1e300", "31536000", "-5"] {
            let mut h = HeaderMap::new();
            h.insert("retry-after", odd.parse().unwrap());
            let wait = retry_after(&h);
            assert!(wait.is_none_or(|w| w <= Duration::from_secs(60)), "{odd}");
            let mut h = HeaderMap::new();
            h.insert("retry-after-ms", odd.parse().unwrap());
            let wait = retry_after(&h);
            assert!(
                wait.is_none_or(|w| w <= Duration::from_secs(60)),
                "{odd} ms"
            );
        }
    }
}

//! The crawler's HTTP: only the configured hosts, never a private address a hostname turns
//! into (unless the configured site itself is there), no redirect followed by the client (the
//! crawl decides), bodies capped, a timeout on everything.
use std::{
    collections::{HashMap, HashSet},
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::{
    StatusCode,
    dns::{Addrs, Name, Resolve, Resolving},
    header,
};
use url::Url;

use super::{PER_HOST, USER_AGENT};
use crate::outbound::{BodyError, read_capped};

/// What one GET came back with.
#[derive(Debug)]
pub enum Fetched {
    /// 200 (of HTML when HTML was asked for).
    Body {
        bytes: Vec<u8>,
        /// `Content-Type`, for the charset.
        content_type: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// 304: the kept copy is current.
    NotModified,
    /// 404 or 410: not (or no longer) on the site.
    Gone(u16),
    /// A redirect to this address (the crawl decides whether to go).
    Redirect(Url),
    /// Not to be indexed as it is (not HTML, too large): why.
    Skipped(String),
    /// Could not be read now (a timeout, the network, a 5xx…): why. Tried again next crawl.
    Failed(String),
}

pub struct Fetcher {
    client: reqwest::Client,
    /// Hosts whose own address is private or local (the configured site is there).
    trusted: Arc<HashSet<String>>,
    /// Per host: at most [`PER_HOST`] requests at a time, and the rate (whichever sites of the
    /// host are being crawled).
    gates: HashMap<String, Gate>,
}

struct Gate {
    at_once: tokio::sync::Semaphore,
    rate: governor::DefaultDirectRateLimiter,
}

impl Fetcher {
    /// A client for `hosts` (the configured sites'): a host that is an internal address, is
    /// `localhost` or resolves now only to internal addresses is trusted to stay one; any
    /// other host that later resolves to one (DNS rebinding) is refused.
    pub async fn new(hosts: &[String], rate: f64, timeout: Duration) -> Self {
        let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
        let gates = hosts
            .iter()
            .map(|h| {
                let quota = governor::Quota::with_period(period)
                    .expect("a period above zero")
                    .allow_burst(std::num::NonZeroU32::MIN);
                let gate = Gate {
                    at_once: tokio::sync::Semaphore::new(PER_HOST),
                    rate: governor::RateLimiter::direct(quota),
                };
                (h.to_ascii_lowercase(), gate)
            })
            .collect();
        let mut trusted = HashSet::new();
        for host in hosts {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let internal_now = match bare.parse::<IpAddr>() {
                Ok(ip) => internal(ip),
                Err(_) if bare.eq_ignore_ascii_case("localhost") => true,
                // Bounded: a slow resolver must not hold the server's start.
                Err(_) => {
                    tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host((bare, 0)))
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .map(|a| a.map(|a| a.ip()).collect::<Vec<_>>())
                        .is_some_and(|ips| !ips.is_empty() && ips.into_iter().all(internal))
                }
            };
            if internal_now {
                tracing::info!(%host, "docs site on a private or local address: crawled as configured");
                trusted.insert(bare.to_ascii_lowercase());
            }
        }
        let trusted = Arc::new(trusted);
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .dns_resolver(Arc::new(Guarded {
                trusted: trusted.clone(),
            }))
            .build()
            .expect("the crawler's HTTP client builds");
        Self {
            client,
            trusted,
            gates,
        }
    }

    /// Whether `url` is on a configured host (the only ones ever fetched).
    pub fn serves(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|h| self.gates.contains_key(&h.to_ascii_lowercase()))
    }

    /// GETs `url`, with the kept copy's validators (`If-None-Match`, `If-Modified-Since`);
    /// `html` refuses any other type. Bodies over `max` bytes are skipped, never read whole.
    pub async fn get(
        &self,
        url: &Url,
        kept: Option<(Option<&str>, Option<&str>)>,
        html: bool,
        max: usize,
    ) -> Fetched {
        if let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host()
            && let Some(Ok(ip)) = url.host_str().map(|h| {
                h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
            })
            && internal(ip)
            && !self.trusted.contains(&ip.to_string())
        {
            return Fetched::Failed(format!("{ip} is a private or local address"));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let Some(gate) = self.gates.get(&host) else {
            return Fetched::Failed(format!("{host} is not a configured docs site's host"));
        };
        let Ok(_permit) = gate.at_once.acquire().await else {
            return Fetched::Failed("the crawler is stopping".into());
        };
        gate.rate.until_ready().await;
        let mut request = self.client.get(url.clone());
        if let Some((etag, modified)) = kept {
            if let Some(etag) = etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = modified {
                request = request.header(header::IF_MODIFIED_SINCE, modified);
            }
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Fetched::Failed("timed out".into()),
            Err(e) => return Fetched::Failed(error_chain(&e)),
        };
        let status = response.status();
        let headers = response.headers();
        let get = |h: header::HeaderName| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            return match get(header::LOCATION).and_then(|l| url.join(&l).ok()) {
                Some(to) => Fetched::Redirect(to),
                None => Fetched::Failed(format!("{status} without a valid Location")),
            };
        }
        match status.as_u16() {
            304 => return Fetched::NotModified,
            404 | 410 => return Fetched::Gone(status.as_u16()),
            200 => {}
            _ => return Fetched::Failed(format!("HTTP {status}")),
        }
        let content_type = get(header::CONTENT_TYPE).unwrap_or_default();
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if html && !mime.is_empty() && mime != "text/html" && mime != "application/xhtml+xml" {
            return Fetched::Skipped(format!("not HTML ({mime})"));
        }
        let (etag, last_modified) = (get(header::ETAG), get(header::LAST_MODIFIED));
        match read_capped(response, max).await {
            Ok(bytes) => Fetched::Body {
                bytes,
                content_type: (!content_type.is_empty()).then_some(content_type),
                etag,
                last_modified,
            },
            Err(BodyError::TooLarge(_)) => {
                Fetched::Skipped(format!("larger than {} MB", max / (1024 * 1024)))
            }
            Err(BodyError::Transport(e)) if e.is_timeout() => Fetched::Failed("timed out".into()),
            Err(BodyError::Transport(e)) => Fetched::Failed(error_chain(&e)),
        }
    }
}

/// An error with its causes (reqwest's own message is only "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Resolves as the system does, then drops private and local addresses unless the host is
/// trusted to be on one.
struct Guarded {
    trusted: Arc<HashSet<String>>,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let trusted = self.trusted.contains(&host);
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| trusted || !internal(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to private or local addresses, where the crawler does not go"
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Loopback, private, link-local, shared (CGNAT), unspecified, broadcast, multicast,
/// benchmarking and documentation ranges, IPv4 and IPv6 (and IPv4 inside IPv6).
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_known() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(!internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_hostname_is_not_resolved_to_a_local_address_unless_trusted() {
        let guarded = Guarded {
            trusted: Arc::new(HashSet::new()),
        };
        let err = match guarded.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost resolved for an untrusted host"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("private or local"), "{err}");
        let trusted = Guarded {
            trusted: Arc::new(HashSet::from(["localhost".to_string()])),
        };
        let addrs: Vec<SocketAddr> = trusted
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    #[tokio::test]
    async fn an_untrusted_internal_address_is_not_fetched() {
        let f = Fetcher::new(&["93.184.216.34".into()], 1.0, Duration::from_secs(1)).await;
        let url = Url::parse("http://169.254.169.254/latest/meta-data/").unwrap();
        let got = f.get(&url, None, true, 1024).await;
        assert!(
            matches!(got, Fetched::Failed(ref r) if r.contains("private")),
            "{got:?}"
        );
        let other = Url::parse("http://other.example.com/").unwrap();
        let got = f.get(&other, None, true, 1024).await;
        assert!(
            matches!(got, Fetched::Failed(ref r) if r.contains("not a configured")),
            "{got:?}"
        );
    }
}

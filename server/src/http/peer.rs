//! Who is asking, and over what: the client address (rate limits) and whether the browser
//! talks HTTPS (the `Secure` cookie flag). Proxy headers are believed only with `TRUST_PROXY`,
//! since any client can send them.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};

/// The client's address: with a trusted proxy the last `X-Forwarded-For` entry (the one the
/// proxy appended; earlier ones come from the client), else the peer's address.
pub fn client_ip(req: &Request, trust_proxy: bool) -> Option<IpAddr> {
    if trust_proxy
        && let Some(last) = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
        && let Ok(ip) = last.parse()
    {
        return Some(ip);
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The address limits count by: IPv4 as it is, IPv6 grouped by its /64 (one host or household
/// commonly holds a whole /64, so counting single IPv6 addresses would let it pick a fresh one
/// for every request). An IPv4-mapped IPv6 address counts as its IPv4 address.
pub fn client_key(req: &Request, trust_proxy: bool) -> Option<IpAddr> {
    client_ip(req, trust_proxy).map(group)
}

pub fn group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Whether the browser reached us over HTTPS (TLS ends at the trusted proxy).
pub fn is_https(req: &Request, trust_proxy: bool) -> bool {
    trust_proxy
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut b = axum::http::Request::builder().uri("/");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let mut req = b.body(Body::empty()).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo("10.0.0.9:5000".parse::<SocketAddr>().unwrap()));
        req
    }

    fn ip(req: &Request, trust_proxy: bool) -> Option<String> {
        client_ip(req, trust_proxy).map(|ip| ip.to_string())
    }

    #[test]
    fn proxy_headers_count_only_when_trusted() {
        let req = request(&[
            ("x-forwarded-for", "1.1.1.1, 203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(ip(&req, false).as_deref(), Some("10.0.0.9"));
        assert!(!is_https(&req, false));
        assert_eq!(ip(&req, true).as_deref(), Some("203.0.113.7"));
        assert!(is_https(&req, true));
        let junk = request(&[
            ("x-forwarded-for", "not-an-ip"),
            ("x-forwarded-proto", "http"),
        ]);
        assert_eq!(ip(&junk, true).as_deref(), Some("10.0.0.9"));
        assert!(!is_https(&junk, true));
    }

    #[test]
    fn ipv6_addresses_group_by_their_64() {
        let key = |raw: &str| group(raw.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:3::1"), "2001:db8:1:2::");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
    }
}

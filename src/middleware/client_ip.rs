//! The client's address for rate limiting: the TCP peer, unless the peer is a trusted
//! proxy, in which case the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy (entries further left are whatever the client chose to send).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use crate::state::AppState;

pub fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// The rate-limit key for an anonymous client (`ip:unknown` for in-process calls without a peer).
pub fn ip_key(parts: &Parts, trusted: &[IpAddr]) -> String {
    match client_ip(parts, trusted) {
        Some(ip) => key_for(ip),
        None => "ip:unknown".to_string(),
    }
}

/// The caller's address key (see [`key_for`]), as an extractor.
pub struct ClientKey(pub String);

impl FromRequestParts<AppState> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientKey(ip_key(parts, &state.config.trusted_proxies)))
    }
}

/// One budget per client network: an IPv4 address, or an IPv6 /64 (one subscriber's
/// allocation: a host that owns a /64 can use any of its 2^64 addresses, so keying by
/// /128 would give it unlimited budgets). IPv4-mapped IPv6 addresses count as IPv4.
pub fn key_for(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("ip:{net}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(peer: &str, xff: Option<&str>) -> Parts {
        let mut b = Request::builder().uri("/");
        if let Some(x) = xff {
            b = b.header("x-forwarded-for", x);
        }
        let (mut parts, _) = b.body(()).unwrap().into_parts();
        parts.extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let spoof = parts("203.0.113.9:5000", Some("1.2.3.4"));
        assert_eq!(client_ip(&spoof, &[proxy]), Some("203.0.113.9".parse().unwrap()));
        let via_proxy = parts("10.0.0.1:5000", Some("1.2.3.4, 198.51.100.7"));
        assert_eq!(client_ip(&via_proxy, &[proxy]), Some("198.51.100.7".parse().unwrap()));
        let garbage = parts("10.0.0.1:5000", Some("not-an-ip"));
        assert_eq!(client_ip(&garbage, &[proxy]), Some(proxy));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_network() {
        let a = ip_key(&parts("[2001:db8:1:2::1]:5000", None), &[]);
        let b = ip_key(&parts("[2001:db8:1:2:ffff:ffff:ffff:fffe]:5000", None), &[]);
        let other = ip_key(&parts("[2001:db8:1:3::1]:5000", None), &[]);
        assert_eq!(a, "ip:2001:db8:1:2::/64");
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(ip_key(&parts("[::ffff:203.0.113.9]:1", None), &[]), "ip:203.0.113.9");
        assert_eq!(ip_key(&parts("203.0.113.9:1", None), &[]), "ip:203.0.113.9");
    }
}

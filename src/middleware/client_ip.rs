//! The client's address for rate limiting: the TCP peer, unless the peer is a trusted
//! proxy, in which case the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy (entries further left are whatever the client chose to send).

use std::net::{IpAddr, SocketAddr};

use axum::{extract::ConnectInfo, http::request::Parts};

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
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".to_string(),
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
}

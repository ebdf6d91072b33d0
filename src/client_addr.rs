//! Which address a request comes from: the TCP peer, unless the peer is a trusted proxy, in
//! which case the nearest untrusted address its `X-Forwarded-For` or `Forwarded` header
//! names. Only trusted proxies are believed, so a client cannot choose its own address to
//! dodge a per-address limit.

use std::net::IpAddr;
use std::str::FromStr;

/// A block of addresses, as `10.0.0.0/8`, `::1/128` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let bad = || format!("{text:?}: expected an address or a block like 10.0.0.0/8");
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = addr.parse().map_err(|_| bad())?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(bad)?,
            None => bits,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    /// Whether `addr` is in the block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, canonical(addr)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: `peer` itself unless it is in `trusted`; then, walking the
/// forwarding chain from the nearest hop back, the first address not in `trusted`.
/// `forwarded` is the `Forwarded` header (RFC 7239), `x_forwarded_for` the older one; the
/// standard header wins when both are present.
pub fn client_addr(
    peer: IpAddr,
    trusted: &[Cidr],
    forwarded: Option<&str>,
    x_forwarded_for: Option<&str>,
) -> IpAddr {
    let is_trusted = |addr: IpAddr| trusted.iter().any(|cidr| cidr.contains(addr));
    if !is_trusted(peer) {
        return canonical(peer);
    }
    let chain: Vec<IpAddr> = match (forwarded, x_forwarded_for) {
        (Some(header), _) => header
            .split(',')
            .filter_map(|hop| {
                // Parameter names are case-insensitive (RFC 7239, section 4).
                hop.split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| forwarded_node(node))
            })
            .collect(),
        (None, Some(header)) => header
            .split(',')
            .filter_map(|hop| hop.trim().parse().ok())
            .collect(),
        (None, None) => Vec::new(),
    };
    let mut client = canonical(peer);
    for hop in chain.into_iter().rev() {
        client = canonical(hop);
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// The address in a `Forwarded` node: `192.0.2.1`, `"192.0.2.1:4711"` or `"[2001:db8::1]:80"`.
fn forwarded_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse().ok().or_else(|| {
        node.rsplit_once(':')
            .and_then(|(addr, _)| addr.parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn blocks_parse_and_contain_their_addresses() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.200.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert!("127.0.0.1"
            .parse::<Cidr>()
            .unwrap()
            .contains(ip("::ffff:127.0.0.1")));
        assert!("fd00::/8".parse::<Cidr>().unwrap().contains(ip("fd12::1")));
        assert!(!"fd00::/8".parse::<Cidr>().unwrap().contains(ip("10.0.0.1")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::1/129", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let peer = ip("203.0.113.9");
        assert_eq!(
            client_addr(peer, &[], None, Some("198.51.100.1")),
            peer,
            "nobody is trusted by default"
        );
        let trusted = cidrs(&["10.0.0.0/8"]);
        assert_eq!(
            client_addr(peer, &trusted, Some("for=198.51.100.1"), None),
            peer
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let proxy = ip("10.0.0.2");
        assert_eq!(
            client_addr(proxy, &trusted, None, Some("198.51.100.1")),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_addr(proxy, &trusted, None, None),
            proxy,
            "no header: the proxy itself"
        );
    }

    #[test]
    fn a_client_cannot_prepend_its_own_address() {
        // The client sent `X-Forwarded-For: 1.2.3.4`; the trusted proxies appended the
        // address they saw, then each other's.
        let trusted = cidrs(&["10.0.0.0/8"]);
        assert_eq!(
            client_addr(
                ip("10.0.0.2"),
                &trusted,
                None,
                Some("1.2.3.4, 198.51.100.1, 10.0.0.7")
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn the_forwarded_header_in_its_forms() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let proxy = ip("10.0.0.2");
        let cases = [
            ("for=198.51.100.1", "198.51.100.1"),
            ("for=\"198.51.100.1:4711\";proto=https", "198.51.100.1"),
            ("for=\"[2001:db8::1]:80\"", "2001:db8::1"),
            ("for=1.2.3.4, for=198.51.100.7;by=10.0.0.2", "198.51.100.7"),
        ];
        for (header, client) in cases {
            assert_eq!(
                client_addr(proxy, &trusted, Some(header), Some("9.9.9.9")),
                ip(client),
                "{header}"
            );
        }
    }
}

//! Where outbound events may go: the check of an endpoint's URL when it is added, and the
//! address check the sender repeats for every address a name resolves to when it connects
//! (a DNS name can point anywhere, so only IP literals and `localhost` are judged here).
//!
//! In development any http(s) URL is accepted, private addresses included (a receiver on
//! localhost is the usual test). In production only `https` is accepted, and hosts that are
//! not public addresses are refused unless `OUTBOUND_ALLOW_PRIVATE=true`: loopback,
//! private, link-local, unique-local, unspecified, CGNAT, documentation and reserved
//! ranges, `localhost` and `*.localhost`, and IPv6 forms that embed such an IPv4 address
//! (`::ffff:127.0.0.1`, NAT64, 6to4). Multicast and broadcast are refused everywhere.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::config::AppEnv;

/// The longest URL `endpoints.url` holds.
pub const MAX_URL_LEN: usize = 2048;

/// What the check allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Refuse `http` (production).
    pub require_https: bool,
    /// Accept hosts that are not public addresses.
    pub allow_private: bool,
}

impl UrlPolicy {
    /// The policy of `app_env`: development accepts http and private addresses; production
    /// accepts https only, and private addresses only when `allow_private`
    /// (`OUTBOUND_ALLOW_PRIVATE`).
    pub fn for_env(app_env: AppEnv, allow_private: bool) -> Self {
        match app_env {
            AppEnv::Development => UrlPolicy {
                require_https: false,
                allow_private: true,
            },
            AppEnv::Production => UrlPolicy {
                require_https: true,
                allow_private,
            },
        }
    }
}

/// What kind of non-public destination a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, fec0::/10, 64:ff9b:1::/48.
    Private,
    /// 169.254.0.0/16 (cloud metadata lives here), fe80::/10.
    LinkLocal,
    /// fc00::/7.
    UniqueLocal,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// 100.64.0.0/10, carrier-grade NAT.
    Shared,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 192.0.0/24, 198.18/15, 240/4, ::/96, 100::/64, Teredo 2001::/32.
    Reserved,
    /// 224/4, ff00::/8: never a TCP destination.
    Multicast,
    /// 255.255.255.255: never a TCP destination.
    Broadcast,
    /// `localhost` and names under it (RFC 6761).
    Localhost,
}

impl AddressKind {
    /// True for the kinds `allow_private` lets through (all but multicast and broadcast).
    fn private_but_reachable(self) -> bool {
        !matches!(self, AddressKind::Multicast | AddressKind::Broadcast)
    }
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressKind::Loopback => "a loopback address",
            AddressKind::Private => "a private address",
            AddressKind::LinkLocal => "a link-local address",
            AddressKind::UniqueLocal => "a unique-local address",
            AddressKind::Unspecified => "an unspecified address",
            AddressKind::Shared => "a carrier-grade NAT address",
            AddressKind::Documentation => "a documentation address",
            AddressKind::Reserved => "a reserved address",
            AddressKind::Multicast => "a multicast address",
            AddressKind::Broadcast => "the broadcast address",
            AddressKind::Localhost => "localhost",
        })
    }
}

/// Why a URL was refused; one line, naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// It does not parse.
    #[error("`{url}` is not a URL ({reason})")]
    NotAUrl {
        /// What was given.
        url: String,
        /// The parser's reason.
        reason: String,
    },
    /// Longer than `endpoints.url` holds.
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    /// Not http or https.
    #[error("`{0}:` URLs are not accepted (http or https only)")]
    Scheme(String),
    /// http where https is required.
    #[error("only https URLs are accepted when APP_ENV=production")]
    NotHttps,
    /// A user name or password in the URL (it would be shown by `endpoints list`).
    #[error("URLs with a user name or password are not accepted")]
    Credentials,
    /// No host to send to.
    #[error("the URL has no host")]
    NoHost,
    /// A host that is not a public address.
    #[error(
        "`{host}` is {kind}; private addresses are refused in production unless OUTBOUND_ALLOW_PRIVATE=true"
    )]
    Private {
        /// The host as written in the URL.
        host: String,
        /// What it is.
        kind: AddressKind,
    },
    /// Multicast or broadcast: never a destination.
    #[error("`{host}` is {kind}, never a webhook destination")]
    Unroutable {
        /// The host as written in the URL.
        host: String,
        /// What it is.
        kind: AddressKind,
    },
}

/// An endpoint URL that passed [`check_url`], normalized (lowercase host, `/` path when
/// none was given, no fragment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    /// The URL as stored.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Check `url` against `policy` (see the module doc). IP literals are judged by
/// [`address_kind`], including the numeric forms the URL standard reads as IPv4
/// (`http://2130706433/`, `http://0x7f.1/` are 127.0.0.1).
pub fn check_url(url: &str, policy: UrlPolicy) -> Result<EndpointUrl, UrlRefused> {
    let given = url.trim();
    let mut parsed = Url::parse(given).map_err(|e| UrlRefused::NotAUrl {
        url: given.to_owned(),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "https" => {}
        "http" if !policy.require_https => {}
        "http" => return Err(UrlRefused::NotHttps),
        other => return Err(UrlRefused::Scheme(other.to_owned())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    let kind = match parsed.host() {
        None => return Err(UrlRefused::NoHost),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            (name == "localhost" || name.ends_with(".localhost")).then_some(AddressKind::Localhost)
        }
        Some(Host::Ipv4(ip)) => address_kind(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => address_kind(IpAddr::V6(ip)),
    };
    if let Some(kind) = kind {
        let host = parsed.host_str().unwrap_or_default().to_owned();
        if !kind.private_but_reachable() {
            return Err(UrlRefused::Unroutable { host, kind });
        }
        if !policy.allow_private {
            return Err(UrlRefused::Private { host, kind });
        }
    }
    parsed.set_fragment(None);
    if parsed.as_str().len() > MAX_URL_LEN {
        return Err(UrlRefused::TooLong);
    }
    Ok(EndpointUrl(parsed))
}

/// True when the sender may connect to `ip`: a public address, or with `allow_private`
/// any address but multicast and broadcast. The sender calls this for every address a
/// name resolves to, so a public name pointing at 10.0.0.1 is refused too.
pub fn ip_allowed(ip: IpAddr, allow_private: bool) -> bool {
    match address_kind(ip) {
        None => true,
        Some(kind) => allow_private && kind.private_but_reachable(),
    }
}

/// What kind of non-public address `ip` is, or `None` for a public one.
pub fn address_kind(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<AddressKind> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => AddressKind::Unspecified,
        (10, _, _) => AddressKind::Private,
        (127, _, _) => AddressKind::Loopback,
        (169, 254, _) => AddressKind::LinkLocal,
        (172, 16..=31, _) | (192, 168, _) => AddressKind::Private,
        (100, 64..=127, _) => AddressKind::Shared,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressKind::Documentation,
        (192, 0, 0) | (198, 18..=19, _) => AddressKind::Reserved,
        _ if ip.is_broadcast() => AddressKind::Broadcast,
        (224..=239, _, _) => AddressKind::Multicast,
        (240..=255, _, _) => AddressKind::Reserved,
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<AddressKind> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    Some(match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => AddressKind::Unspecified,
        [0, 0, 0, 0, 0, 0, 0, 1] => AddressKind::Loopback,
        // IPv4-compatible (deprecated): refused whatever it embeds.
        [0, 0, 0, 0, 0, 0, _, _] => AddressKind::Reserved,
        // NAT64 well-known prefix: as the IPv4 address it reaches.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return v4_kind(embedded(hi, lo)),
        [0x64, 0xff9b, 1, ..] => AddressKind::Private,
        [0x100, 0, 0, 0, ..] => AddressKind::Reserved,
        [0x2001, 0xdb8, ..] => AddressKind::Documentation,
        // Teredo: the client address it embeds is obfuscated; refused.
        [0x2001, 0, ..] => AddressKind::Reserved,
        // 6to4: as the IPv4 address it embeds.
        [0x2002, hi, lo, ..] => return v4_kind(embedded(hi, lo)),
        [0x3fff, b, ..] if b < 0x1000 => AddressKind::Documentation,
        [first, ..] if first & 0xfe00 == 0xfc00 => AddressKind::UniqueLocal,
        [first, ..] if first & 0xffc0 == 0xfe80 => AddressKind::LinkLocal,
        [first, ..] if first & 0xffc0 == 0xfec0 => AddressKind::Private,
        [first, ..] if first & 0xff00 == 0xff00 => AddressKind::Multicast,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;

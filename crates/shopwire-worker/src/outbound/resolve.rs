//! The address guard against SSRF, applying core's address policy
//! ([`shopwire_core::outbound::url_policy::ip_allowed`]) to the addresses a delivery actually
//! connects to: [`GuardedResolver`] hands reqwest only the allowed addresses of a name, so a
//! name cannot smuggle in 127.0.0.1 (nor rebind to it after the endpoint was added), and
//! [`check_literal`] covers URLs whose host is an IP address, which reqwest connects to
//! without asking the resolver.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use shopwire_core::outbound::url_policy::{address_kind, ip_allowed};

/// A target the guard refuses: permanent, retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refused {
    /// What was refused and why (a host and its kind of address; never a URL's path or query).
    pub reason: String,
}

/// A resolver that answers with the allowed addresses of a name only — public ones, or with
/// `allow_private` all but multicast and broadcast — and with [`Refused`] when none is.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    /// Let private, loopback and link-local addresses through.
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow_private = self.allow_private;
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port (or the scheme's) in its place.
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = allowed_only(&host, found, allow_private)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The allowed addresses among those `host` resolved to, or why there are none.
fn allowed_only(
    host: &str,
    found: Vec<SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, Refused> {
    let first_refused = found
        .iter()
        .map(SocketAddr::ip)
        .find(|ip| !ip_allowed(*ip, allow_private));
    let allowed: Vec<SocketAddr> = found
        .into_iter()
        .filter(|a| ip_allowed(a.ip(), allow_private))
        .collect();
    match (allowed.is_empty(), first_refused) {
        (false, _) => Ok(allowed),
        (true, Some(ip)) => Err(Refused {
            reason: format!("{host} resolves to no allowed address ({})", judged(ip)),
        }),
        (true, None) => Err(Refused {
            reason: format!("{host} resolves to no address"),
        }),
    }
}

/// Refuse `url` if its host is an IP address the policy does not allow. A name is left to
/// [`GuardedResolver`].
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), Refused> {
    let host = url.host_str().ok_or_else(|| Refused {
        reason: "the URL has no host".to_owned(),
    })?;
    // `Url` has already normalised an IPv4 host (`2130706433`, `0x7f.1`) to dotted quads
    // and put an IPv6 one in brackets.
    let ip: IpAddr = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<Ipv6Addr>()
            .map_err(|_| Refused {
                reason: format!("{host} is not an IPv6 address"),
            })?
            .into()
    } else if let Ok(v4) = host.parse::<Ipv4Addr>() {
        v4.into()
    } else {
        return Ok(());
    };
    if ip_allowed(ip, allow_private) {
        Ok(())
    } else {
        Err(Refused { reason: judged(ip) })
    }
}

/// `ip` and what kind of address it is.
fn judged(ip: IpAddr) -> String {
    match address_kind(ip) {
        Some(kind) => format!("{ip} is {kind}"),
        None => format!("{ip} is not allowed"),
    }
}

#[cfg(test)]
mod tests;

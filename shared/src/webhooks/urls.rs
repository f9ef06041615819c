//! Which URLs an endpoint may have: parsed with the `url` crate (WHATWG
//! parsing, the same a browser does), never by hand.
//!
//! - `https://` only, unless the operator sets the Spin variable
//!   `webhook_allow_insecure_urls` to `true` (the test suites do, for their
//!   loopback receivers); then `http://` is accepted too.
//! - Hosts that name this machine or its private network are refused when
//!   written as literals or as `localhost`: loopback, private (RFC 1918,
//!   unique local), link-local (which includes the cloud metadata address
//!   169.254.169.254), carrier-grade NAT, unspecified and broadcast
//!   addresses, IPv4-mapped forms of those, and `localhost` /
//!   `*.localhost`. WHATWG parsing turns `http://2130706433/` and
//!   `http://0x7f.1/` into `127.0.0.1` first, so those are caught too. The
//!   same variable lifts this rule. (A public name that *resolves* to a
//!   private address is not caught here: Spin resolves names itself; block
//!   such egress in the platform's network policy.)
//! - An internationalised domain name is accepted in its ASCII form
//!   (`xn--bcher-kva.example`), not in Unicode (`bücher.example`): the
//!   components carry no Unicode tables (see the workspace Cargo.toml).
//! - No user name or password in the URL (they would be stored and shown
//!   in every listing), no fragment, at most [`MAX_URL_LEN`] characters.

use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Longest accepted URL.
pub const MAX_URL_LEN: usize = 2048;

/// Checks an endpoint URL; `Ok` with its normalised form, or why not.
pub fn check(text: &str, allow_insecure: bool) -> Result<String, String> {
    if text.chars().count() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    // The WHATWG parser would quietly drop them; what is stored is what was sent.
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let url = Url::parse(text).map_err(|e| match e {
        // `url` is built with its ASCII-only IDNA back end (workspace
        // Cargo.toml): a non-ASCII domain must come in its xn-- form.
        url::ParseError::IdnaError if !text.is_ascii() => {
            "must write an internationalised domain name in its ASCII form (xn--…)".to_string()
        }
        e => format!("is not a valid URL ({e})"),
    })?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        "http" => return Err("must be an https:// URL".into()),
        other => return Err(format!("must be an https:// URL, not {other}:")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    let refused = match url.host() {
        None => return Err("must name a host".into()),
        Some(Host::Domain(name)) => is_local_name(name),
        Some(Host::Ipv4(ip)) => !is_public_v4(ip),
        Some(Host::Ipv6(ip)) => !is_public_v6(ip),
    };
    if refused && !allow_insecure {
        return Err("must not point at a loopback, private, link-local or metadata address".into());
    }
    Ok(url.to_string())
}

fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name == "localhost" || name.ends_with(".localhost")
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared_nat = a == 100 && (64..128).contains(&b); // 100.64.0.0/10
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || shared_nat
        || a == 0)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7 (incl. fd00:ec2::254)
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_urls_are_accepted_and_normalised() {
        assert_eq!(
            check("https://Hooks.Example.com/in?x=1", false).as_deref(),
            Ok("https://hooks.example.com/in?x=1")
        );
        assert!(check("https://203.0.113.0.example.com:8443/", false).is_ok());
        assert!(check("https://[2606:4700::1111]/", false).is_ok());
    }

    #[test]
    fn internationalised_domains_are_accepted_in_their_ascii_form_only() {
        assert_eq!(
            check("https://XN--BCHER-KVA.example/hook", false).as_deref(),
            Ok("https://xn--bcher-kva.example/hook")
        );
        let refused = check("https://bücher.example/hook", false).unwrap_err();
        assert!(refused.contains("xn--"), "{refused}");
    }

    #[test]
    fn http_and_other_schemes_are_refused_unless_insecure_is_allowed() {
        assert!(check("http://hooks.example.com/", false).is_err());
        assert!(check("http://hooks.example.com/", true).is_ok());
        for bad in [
            "ftp://example.com/",
            "javascript:alert(1)",
            "file:///etc/passwd",
        ] {
            assert!(check(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_and_private_literals_are_refused_in_every_spelling() {
        for bad in [
            "https://localhost/",
            "https://api.localhost./",
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
        ] {
            assert!(check(bad, false).is_err(), "{bad}");
            assert!(check(bad, true).is_ok(), "allowed when insecure: {bad}");
        }
    }

    #[test]
    fn credentials_fragments_garbage_and_long_urls_are_refused() {
        for bad in [
            "https://user:pw@example.com/",
            "https://example.com/#x",
            "not a url",
            "",
            "https://",
            " https://example.com/",
            "https://exa\tmple.com/",
        ] {
            assert!(check(bad, true).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(check(&long, false).is_err());
    }
}

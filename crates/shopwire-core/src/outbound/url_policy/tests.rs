use super::*;

const DEV: UrlPolicy = UrlPolicy {
    require_https: false,
    allow_private: true,
};
const PROD: UrlPolicy = UrlPolicy {
    require_https: true,
    allow_private: false,
};
const PROD_PRIVATE: UrlPolicy = UrlPolicy {
    require_https: true,
    allow_private: true,
};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an IP address")
}

fn refused_kind(url: &str, policy: UrlPolicy) -> Option<AddressKind> {
    match check_url(url, policy) {
        Err(UrlRefused::Private { kind, .. } | UrlRefused::Unroutable { kind, .. }) => Some(kind),
        _ => None,
    }
}

#[test]
fn the_policy_follows_app_env() {
    assert_eq!(UrlPolicy::for_env(AppEnv::Development, false), DEV);
    assert_eq!(UrlPolicy::for_env(AppEnv::Production, false), PROD);
    assert_eq!(UrlPolicy::for_env(AppEnv::Production, true), PROD_PRIVATE);
}

#[test]
fn production_accepts_public_https_and_normalizes_it() {
    let url = check_url(" https://Hooks.Example.com:8443/shopwire?x=1#frag ", PROD)
        .expect("public https");
    assert_eq!(url.as_str(), "https://hooks.example.com:8443/shopwire?x=1");
    assert_eq!(
        check_url("https://example.com", PROD).expect("ok").as_str(),
        "https://example.com/"
    );
    assert!(check_url("https://93.184.215.14/hook", PROD).is_ok());
    assert!(check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/", PROD).is_ok());
}

#[test]
fn production_refuses_http_and_other_schemes() {
    assert_eq!(
        check_url("http://example.com/hook", PROD),
        Err(UrlRefused::NotHttps)
    );
    assert_eq!(
        check_url("ftp://example.com/", DEV),
        Err(UrlRefused::Scheme("ftp".into()))
    );
    assert!(matches!(
        check_url("example.com/hook", DEV),
        Err(UrlRefused::NotAUrl { .. })
    ));
    assert_eq!(
        check_url("https://user:pw@example.com/", DEV),
        Err(UrlRefused::Credentials)
    );
}

#[test]
fn production_refuses_private_literals_and_localhost() {
    for (url, kind) in [
        ("https://127.0.0.1/", AddressKind::Loopback),
        ("https://127.8.9.10:9000/x", AddressKind::Loopback),
        ("https://10.1.2.3/", AddressKind::Private),
        ("https://172.16.0.1/", AddressKind::Private),
        ("https://172.31.255.255/", AddressKind::Private),
        ("https://192.168.1.1/", AddressKind::Private),
        (
            "https://169.254.169.254/latest/meta-data",
            AddressKind::LinkLocal,
        ),
        ("https://100.64.0.1/", AddressKind::Shared),
        ("https://100.127.255.255/", AddressKind::Shared),
        ("https://0.0.0.0/", AddressKind::Unspecified),
        ("https://[::1]/", AddressKind::Loopback),
        ("https://[::]/", AddressKind::Unspecified),
        ("https://[::ffff:127.0.0.1]/", AddressKind::Loopback),
        ("https://[::ffff:10.0.0.1]/", AddressKind::Private),
        ("https://[fe80::1]/", AddressKind::LinkLocal),
        ("https://[fd12:3456::1]/", AddressKind::UniqueLocal),
        ("https://[fc00::1]/", AddressKind::UniqueLocal),
        ("https://localhost/", AddressKind::Localhost),
        ("https://LOCALHOST./", AddressKind::Localhost),
        ("https://api.localhost:8080/", AddressKind::Localhost),
        // Numeric hosts the URL standard reads as IPv4.
        ("https://2130706433/", AddressKind::Loopback),
        ("https://0x7f.1/", AddressKind::Loopback),
        ("https://017700000001/", AddressKind::Loopback),
    ] {
        assert_eq!(refused_kind(url, PROD), Some(kind), "{url}");
        assert!(
            check_url(url, PROD_PRIVATE).is_ok(),
            "{url} with allow_private"
        );
        let http = url.replacen("https", "http", 1);
        assert!(check_url(&http, DEV).is_ok(), "{http} in development");
    }
}

#[test]
fn the_private_refusal_names_the_host_and_the_way_out() {
    let err = check_url("https://[::ffff:127.0.0.1]/", PROD).expect_err("loopback");
    assert_eq!(
        err.to_string(),
        "`[::ffff:7f00:1]` is a loopback address; private addresses are refused in production \
         unless OUTBOUND_ALLOW_PRIVATE=true"
    );
}

#[test]
fn multicast_and_broadcast_are_refused_everywhere() {
    for url in [
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[ff02::1]/",
    ] {
        assert!(
            matches!(check_url(url, DEV), Err(UrlRefused::Unroutable { .. })),
            "{url}"
        );
    }
}

#[test]
fn dns_names_are_left_to_the_sender() {
    assert!(check_url("https://internal.corp.example/", PROD).is_ok());
    assert!(check_url("https://localhost.example.com/", PROD).is_ok());
}

#[test]
fn urls_longer_than_the_column_are_refused() {
    let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
    assert_eq!(check_url(&long, PROD), Err(UrlRefused::TooLong));
}

#[test]
fn public_addresses_are_allowed_and_private_ones_only_when_asked() {
    for public in [
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",
        "100.128.0.0",
        "172.32.0.1",
        "2001:4860:4860::8888",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert!(ip_allowed(ip(public), false), "{public}");
        assert_eq!(address_kind(ip(public)), None, "{public}");
    }
    for private in [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.0.1",
        "100.64.0.0",
        "192.0.2.1",
        "198.18.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "2002:7f00:1::1",
        "2002:a00:1::",
        "2001::1",
        "2001:db8::1",
        "100::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "fc00::1",
        "fdff::1",
    ] {
        assert!(!ip_allowed(ip(private), false), "{private}");
        assert!(
            ip_allowed(ip(private), true),
            "{private} with allow_private"
        );
    }
    for never in ["224.0.0.251", "255.255.255.255", "ff02::1"] {
        assert!(!ip_allowed(ip(never), true), "{never}");
    }
}

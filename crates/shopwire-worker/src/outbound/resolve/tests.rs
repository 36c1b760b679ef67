use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).expect("a URL")
}

fn addr(s: &str) -> SocketAddr {
    SocketAddr::new(s.parse().expect("an address"), 0)
}

#[test]
fn every_kind_of_private_literal_is_refused_in_every_spelling() {
    for refused in [
        "http://127.0.0.1:8080/hook?token=t0p",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://0/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://192.0.2.1/",
        "http://255.255.255.255/",
        "http://224.0.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fd12:3456::1]/",
        "http://[ff02::1]/",
        "http://[2001:db8::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
    ] {
        let err = check_literal(&url(refused), false).expect_err(refused);
        assert!(
            !err.reason.contains("hook") && !err.reason.contains("t0p"),
            "{}",
            err.reason
        );
    }
}

#[test]
fn public_literals_and_names_pass_the_literal_check() {
    for allowed in [
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]/",
        "https://[::ffff:8.8.8.8]/",
        "https://hooks.example.com/x",
        "http://localhost:8080/",
    ] {
        assert_eq!(check_literal(&url(allowed), false), Ok(()), "{allowed}");
    }
}

#[test]
fn allowing_private_addresses_still_refuses_multicast_and_broadcast() {
    for allowed in [
        "http://127.0.0.1:8080/",
        "http://[::1]/",
        "http://10.0.0.1/",
    ] {
        assert_eq!(check_literal(&url(allowed), true), Ok(()), "{allowed}");
    }
    for refused in [
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[ff02::1]/",
    ] {
        assert!(check_literal(&url(refused), true).is_err(), "{refused}");
    }
}

#[test]
fn a_name_keeps_only_its_allowed_addresses() {
    let found = vec![
        addr("127.0.0.1"),
        addr("8.8.8.8"),
        addr("10.0.0.1"),
        addr("::1"),
    ];
    assert_eq!(
        allowed_only("mixed.example", found.clone(), false),
        Ok(vec![addr("8.8.8.8")])
    );
    assert_eq!(
        allowed_only("mixed.example", found.clone(), true),
        Ok(found)
    );
    assert_eq!(
        allowed_only("evil.example", vec![addr("127.0.0.1"), addr("::1")], false),
        Err(Refused {
            reason: "evil.example resolves to no allowed address (127.0.0.1 is a loopback address)"
                .into()
        })
    );
    assert!(allowed_only("empty.example", Vec::new(), true).is_err());
}

#[tokio::test]
async fn the_resolver_refuses_a_name_for_this_machine_unless_allowed() {
    let name = || "localhost".parse::<Name>().expect("a name");
    let err = match (GuardedResolver {
        allow_private: false,
    })
    .resolve(name())
    .await
    {
        Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
        Err(e) => e,
    };
    let refused = err.downcast_ref::<Refused>().expect("a Refused");
    assert!(
        refused.reason.starts_with("localhost "),
        "{}",
        refused.reason
    );

    let found = (GuardedResolver {
        allow_private: true,
    })
    .resolve(name())
    .await
    .expect("resolves");
    assert!(found.into_iter().any(|a| a.ip().is_loopback()));
}

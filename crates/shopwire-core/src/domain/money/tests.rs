use proptest::prelude::*;

use super::*;

fn cur(code: &str) -> Currency {
    Currency::parse(code).expect("a currency code")
}

fn money(amount: &str, code: &str) -> Result<Money, AmountError> {
    Money::parse(amount, cur(code))
}

#[test]
fn currencies_are_three_letters_kept_lowercase() {
    assert_eq!(cur("usd").code(), "usd");
    assert_eq!(cur("EUR").code(), "eur");
    assert_eq!(cur(" Jpy ").to_string(), "jpy");
    assert_eq!(cur("usd"), Currency::USD);
    for bad in ["us", "usdd", "u$d", "", "12a", "éur"] {
        assert!(Currency::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Currency::parse("us").expect_err("too short").to_string(),
        "currency `us` is not a three-letter code like usd"
    );
    assert_eq!(
        serde_json::to_value(cur("JPY")).expect("serializes"),
        serde_json::json!("jpy")
    );
    let back: Currency = serde_json::from_str("\"KWD\"").expect("deserializes");
    assert_eq!(back, cur("kwd"));
}

#[test]
fn exponents_follow_stripes_lists() {
    for code in [
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
        "xaf", "xof", "xpf",
    ] {
        assert_eq!(cur(code).exponent(), 0, "{code} is zero-decimal");
        assert_eq!(cur(code).minor_per_unit(), 1);
    }
    for code in ["bhd", "jod", "kwd", "omr", "tnd"] {
        assert_eq!(cur(code).exponent(), 3, "{code} is three-decimal");
        assert_eq!(cur(code).minor_per_unit(), 1000);
    }
    // Everything else has two: including ISK, HUF and TWD, which Stripe's API keeps at
    // two decimals for compatibility, and currencies it does not list.
    for code in [
        "usd", "eur", "gbp", "isk", "huf", "twd", "inr", "iqd", "xyz",
    ] {
        assert_eq!(cur(code).exponent(), 2, "{code}");
        assert_eq!(cur(code).minor_per_unit(), 100);
    }
}

#[test]
fn human_amounts_become_minor_units_of_their_currency() {
    for (amount, code, minor) in [
        ("1500", "jpy", 1500),
        ("1500.00", "jpy", 1500),
        ("50", "krw", 50),
        ("79.99", "usd", 7999),
        ("79.9", "usd", 7990),
        ("79", "usd", 7900),
        ("0.29", "usd", 29),
        ("0.01", "eur", 1),
        ("0", "usd", 0),
        ("0.00", "usd", 0),
        ("1.05", "gbp", 105),
        (" 12.50 ", "usd", 1250),
        ("007.10", "usd", 710),
        ("79.990", "usd", 7999),
        ("1.5", "kwd", 1500),
        ("1.505", "kwd", 1505),
        ("0.1", "bhd", 100),
        ("92233720368547758.07", "usd", i64::MAX),
        ("9223372036854775807", "jpy", i64::MAX),
    ] {
        assert_eq!(
            money(amount, code),
            Ok(Money::new(minor, cur(code))),
            "{amount} {code}"
        );
    }
}

#[test]
fn more_decimals_than_the_currency_has_are_refused() {
    for (amount, code, message) in [
        (
            "79.999",
            "usd",
            "amount `79.999` has more than 2 decimals, the most usd has",
        ),
        (
            "1500.5",
            "jpy",
            "amount `1500.5` has decimals, but jpy has none (zero-decimal)",
        ),
        (
            "1.0001",
            "kwd",
            "amount `1.0001` has more than 3 decimals, the most kwd has",
        ),
    ] {
        let err = money(amount, code).expect_err("too precise");
        assert!(
            matches!(err, AmountError::TooPrecise { .. }),
            "{amount}: {err:?}"
        );
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn negative_garbage_and_overflowing_amounts_are_refused() {
    assert_eq!(
        money("-1.00", "usd"),
        Err(AmountError::Negative("-1.00".into()))
    );
    for input in [
        "abc", "79,99", "1e3", "+5", ".5", "5.", "1.2.3", "$5", "NaN", "inf", "٣", "1 000",
    ] {
        assert!(
            matches!(money(input, "usd"), Err(AmountError::Invalid(_))),
            "{input}: {:?}",
            money(input, "usd")
        );
    }
    assert_eq!(money("  ", "usd"), Err(AmountError::Empty));
    for (input, code) in [
        ("92233720368547758.08", "usd"),
        ("99999999999999999999999", "usd"),
        ("9223372036854775808", "jpy"),
        ("9223372036854775.808", "kwd"),
    ] {
        assert!(
            matches!(money(input, code), Err(AmountError::TooLarge(_))),
            "{input} {code}"
        );
    }
}

#[test]
fn amounts_format_with_the_currencys_decimals() {
    for (minor, code, shown) in [
        (1500, "jpy", "1500"),
        (7999, "usd", "79.99"),
        (5, "usd", "0.05"),
        (-150, "usd", "-1.50"),
        (1500, "kwd", "1.500"),
        (5, "kwd", "0.005"),
        (0, "eur", "0.00"),
        (i64::MIN, "usd", "-92233720368547758.08"),
    ] {
        let m = Money::new(minor, cur(code));
        assert_eq!(m.amount(), shown, "{minor} {code}");
        assert_eq!(m.to_string(), format!("{shown} {code}"));
    }
    assert_eq!(
        Money::from_stored(1500, "jpy").map(|m| m.to_string()),
        Ok("1500 jpy".to_owned())
    );
    assert!(Money::from_stored(1500, "yen!").is_err());
    assert_eq!(Money::stored_amount(1500, Some("jpy")), "1500");
    assert_eq!(Money::stored_amount(1500, Some("KWD")), "1.500");
    assert_eq!(Money::stored_amount(7999, Some("usd")), "79.99");
    assert_eq!(Money::stored_amount(7999, None), "79.99");
    assert_eq!(Money::stored_amount(7999, Some("??")), "79.99");
}

#[test]
fn stripes_published_minimums_are_known_per_currency() {
    for (code, minor) in [
        ("usd", 50),
        ("eur", 50),
        ("gbp", 30),
        ("jpy", 50),
        ("aud", 50),
        ("cad", 50),
        ("chf", 50),
        ("hkd", 400),
        ("mxn", 1000),
        ("huf", 17500),
        ("czk", 1500),
        ("thb", 1000),
    ] {
        assert_eq!(
            cur(code).stripe_minimum(),
            Some(Money::new(minor, cur(code))),
            "{code}"
        );
    }
    assert_eq!(
        cur("jpy").stripe_minimum().map(|m| m.to_string()),
        Some("50 jpy".to_owned())
    );
    assert_eq!(cur("kwd").stripe_minimum(), None, "not in Stripe's table");
}

#[test]
fn amounts_below_the_minimum_or_off_the_step_cannot_be_charged() {
    let ok = |amount: &str, code: &str| {
        money(amount, code)
            .expect("parses")
            .check_stripe_charge()
            .unwrap_or_else(|e| panic!("{amount} {code}: {e}"));
    };
    ok("0.50", "usd");
    ok("79.99", "usd");
    ok("50", "jpy");
    ok("1500", "jpy");
    ok("0.30", "gbp");
    ok("1.5", "kwd");
    ok("0.010", "kwd");
    ok("3", "isk");
    ok("0.01", "xyz");

    let err = money("0.49", "usd")
        .expect("parses")
        .check_stripe_charge()
        .expect_err("below $0.50");
    assert_eq!(
        err.to_string(),
        "0.49 usd is below Stripe's minimum charge of 0.50 usd"
    );
    let err = money("49", "jpy")
        .expect("parses")
        .check_stripe_charge()
        .expect_err("below ¥50");
    assert_eq!(
        err.to_string(),
        "49 jpy is below Stripe's minimum charge of 50 jpy"
    );
    assert!(matches!(
        money("0.29", "gbp").expect("parses").check_stripe_charge(),
        Err(ChargeError::BelowMinimum { .. })
    ));
    // An unlisted currency still needs a positive, chargeable amount.
    assert!(matches!(
        money("0", "xyz").expect("parses").check_stripe_charge(),
        Err(ChargeError::BelowMinimum { .. })
    ));
    assert!(matches!(
        money("0.005", "kwd").expect("parses").check_stripe_charge(),
        Err(ChargeError::BelowMinimum { .. })
    ));
    let err = money("1.505", "kwd")
        .expect("parses")
        .check_stripe_charge()
        .expect_err("last digit is not 0");
    assert_eq!(
        err.to_string(),
        "1.505 kwd cannot be charged: Stripe charges kwd in steps of 0.010"
    );
    let err = money("3.50", "isk")
        .expect("parses")
        .check_stripe_charge()
        .expect_err("fractional krónur");
    assert_eq!(
        err.to_string(),
        "3.50 isk cannot be charged: Stripe charges isk in steps of 1.00"
    );
}

fn any_currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(cur("usd")),
        Just(cur("jpy")),
        Just(cur("kwd")),
        Just(cur("eur")),
        Just(cur("krw")),
        Just(cur("bhd")),
        Just(cur("isk")),
        "[a-z]{3}".prop_map(|c| cur(&c)),
    ]
}

proptest! {
    #[test]
    fn formatting_then_parsing_gives_back_the_same_money(
        minor in 0..=i64::MAX,
        currency in any_currency(),
    ) {
        let m = Money::new(minor, currency);
        prop_assert_eq!(Money::parse(&m.amount(), currency), Ok(m));
    }

    #[test]
    fn parsing_then_formatting_keeps_the_value(
        whole in 0_u32..10_000_000,
        fraction in "[0-9]{0,3}",
        currency in any_currency(),
    ) {
        let typed = if fraction.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{fraction}")
        };
        match Money::parse(&typed, currency) {
            Ok(m) => {
                // Same value: the formatted amount, parsed again, and the typed one agree,
                // and the formatted one has exactly the currency's decimals.
                prop_assert_eq!(Money::parse(&m.amount(), currency), Ok(m));
                let decimals = m.amount().split_once('.').map_or(0, |(_, f)| f.len());
                prop_assert_eq!(decimals as u32, currency.exponent());
            }
            Err(AmountError::TooPrecise { .. }) => {
                prop_assert!(fraction.trim_end_matches('0').len() > currency.exponent() as usize);
            }
            Err(e) => prop_assert!(false, "{typed}: {e}"),
        }
    }
}

//! Prices typed by people (`79.99`) as integer minor units, and currency codes.
//!
//! Parsing works on the decimal digits themselves: no floating point, so `0.29` is
//! exactly 29 cents.

/// Why a price was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// Nothing was given.
    #[error("price is empty (expected e.g. 79.99)")]
    Empty,
    /// A minus sign.
    #[error("price `{0}` is negative")]
    Negative(String),
    /// Three or more digits after the point.
    #[error("price `{0}` has more than 2 decimals")]
    TooPrecise(String),
    /// Not of the form `123` or `123.45`.
    #[error("price `{0}` is not a decimal amount like 79.99")]
    Invalid(String),
    /// More cents than an i64 holds.
    #[error("price `{0}` is too large")]
    TooLarge(String),
}

/// Parse `79.99`, `79.9` or `79` into cents (7999, 7990, 7900).
pub fn parse_price_cents(input: &str) -> Result<i64, PriceError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(PriceError::Empty);
    }
    if s.starts_with('-') {
        return Err(PriceError::Negative(s.to_owned()));
    }
    let invalid = || PriceError::Invalid(s.to_owned());
    let (units, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || !all_digits(units) || !all_digits(fraction) {
        return Err(invalid());
    }
    if s.ends_with('.') {
        return Err(invalid());
    }
    if fraction.len() > 2 {
        return Err(PriceError::TooPrecise(s.to_owned()));
    }
    let too_large = || PriceError::TooLarge(s.to_owned());
    let units: i64 = units.parse().map_err(|_| too_large())?;
    // "9" after the point is 90 cents, "09" is 9.
    let cents = match fraction.len() {
        0 => 0,
        1 => i64::from(fraction.as_bytes()[0] - b'0') * 10,
        _ => fraction.parse::<i64>().map_err(|_| invalid())?,
    };
    units
        .checked_mul(100)
        .and_then(|c| c.checked_add(cents))
        .ok_or_else(too_large)
}

/// A currency that is not three ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("currency `{0}` is not a three-letter code like usd")]
pub struct CurrencyError(String);

/// Parse a three-letter currency code; stored lowercase (`USD` → `usd`).
pub fn parse_currency(input: &str) -> Result<String, CurrencyError> {
    let s = input.trim();
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(CurrencyError(input.to_owned()))
    }
}

/// Cents as a decimal amount: 7999 → `79.99`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_prices_become_exact_cents() {
        for (input, cents) in [
            ("79.99", 7999),
            ("79.9", 7990),
            ("79", 7900),
            ("0.29", 29),
            ("0.01", 1),
            ("0", 0),
            ("0.00", 0),
            ("1.05", 105),
            (" 12.50 ", 1250),
            ("007.10", 710),
            ("92233720368547758.07", i64::MAX),
        ] {
            assert_eq!(parse_price_cents(input), Ok(cents), "{input}");
        }
    }

    #[test]
    fn negative_prices_are_refused() {
        assert_eq!(
            parse_price_cents("-1.00"),
            Err(PriceError::Negative("-1.00".into()))
        );
    }

    #[test]
    fn more_than_two_decimals_are_refused() {
        assert_eq!(
            parse_price_cents("79.999"),
            Err(PriceError::TooPrecise("79.999".into()))
        );
    }

    #[test]
    fn garbage_is_refused() {
        for input in [
            "abc", "79,99", "1e3", "+5", ".5", "5.", "1.2.3", "$5", "NaN", "inf", "٣", "1 000",
        ] {
            assert!(
                matches!(parse_price_cents(input), Err(PriceError::Invalid(_))),
                "{input}: {:?}",
                parse_price_cents(input)
            );
        }
        assert_eq!(parse_price_cents("  "), Err(PriceError::Empty));
    }

    #[test]
    fn prices_beyond_i64_cents_are_too_large() {
        for input in ["92233720368547758.08", "99999999999999999999999"] {
            assert!(
                matches!(parse_price_cents(input), Err(PriceError::TooLarge(_))),
                "{input}"
            );
        }
    }

    #[test]
    fn currencies_are_three_letters_stored_lowercase() {
        assert_eq!(parse_currency("usd").as_deref(), Ok("usd"));
        assert_eq!(parse_currency("EUR").as_deref(), Ok("eur"));
        for bad in ["us", "usdd", "u$d", "", "12a"] {
            assert!(parse_currency(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cents_format_with_two_decimals() {
        assert_eq!(format_cents(7999), "79.99");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-150), "-1.50");
    }
}

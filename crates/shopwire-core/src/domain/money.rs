//! Money: an integer amount in a currency's minor unit, as Stripe counts it.
//!
//! Stripe's API takes every amount in the currency's minor unit, and decides what that
//! unit is (its "Supported currencies" page): for zero-decimal currencies (JPY, KRW, VND,
//! CLP, …) the minor unit is the currency itself, so ¥1,500 is `1500`; for three-decimal
//! currencies (BHD, JOD, KWD, OMR, TND) it is a thousandth, so 1.5 KWD is `1500`; every
//! other currency has two decimals, so $79.99 is `7999`. Stored amounts (`price_cents`,
//! `total_cents`, `amount_cents` — names kept from the contract) hold these minor units.
//!
//! Parsing works on the decimal digits themselves, never through floating point, so
//! `0.29` is exactly 29 cents. Amounts that Stripe cannot charge (below its minimum for
//! the currency, or not a multiple of the step it accepts) are a separate check,
//! [`Money::check_stripe_charge`]: an amount TikTok reports is still an amount.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Stripe's zero-decimal currencies: the amount is in whole units.
const ZERO_DECIMAL: [&str; 16] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Stripe's three-decimal currencies: the amount is in thousandths, and Stripe's payment
/// partners need its last digit to be 0 (so charges move in steps of 10).
const THREE_DECIMAL: [&str; 5] = ["bhd", "jod", "kwd", "omr", "tnd"];

/// Stripe's minimum charge per currency, in that currency's minor units (the table on
/// Stripe's "Supported currencies" page, "Minimum and maximum charge amounts").
const STRIPE_MINIMUMS: [(&str, i64); 24] = [
    ("usd", 50),
    ("aed", 200),
    ("aud", 50),
    ("bgn", 100),
    ("brl", 50),
    ("cad", 50),
    ("chf", 50),
    ("czk", 1500),
    ("dkk", 250),
    ("eur", 50),
    ("gbp", 30),
    ("hkd", 400),
    ("huf", 17500),
    ("inr", 50),
    ("jpy", 50),
    ("mxn", 1000),
    ("myr", 200),
    ("nok", 300),
    ("nzd", 50),
    ("pln", 200),
    ("ron", 200),
    ("sek", 300),
    ("sgd", 50),
    ("thb", 1000),
];

/// A currency: its three-letter ISO 4217 code, lowercase as Stripe spells it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// A currency code that is not three ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("currency `{0}` is not a three-letter code like usd")]
pub struct CurrencyError(String);

impl Currency {
    /// US dollars.
    pub const USD: Currency = Currency(*b"usd");

    /// Parse a three-letter code in any case (`USD`, `usd`, ` Jpy `).
    pub fn parse(code: &str) -> Result<Currency, CurrencyError> {
        let trimmed = code.trim();
        match trimmed.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => Ok(Currency([
                a.to_ascii_lowercase(),
                b.to_ascii_lowercase(),
                c.to_ascii_lowercase(),
            ])),
            _ => Err(CurrencyError(code.to_owned())),
        }
    }

    /// The lowercase code, as Stripe's `currency` parameter wants it.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).expect("three ASCII letters")
    }

    /// Digits after the decimal point in Stripe's API amounts: 0 for zero-decimal
    /// currencies, 3 for three-decimal ones, 2 for every other.
    pub fn exponent(self) -> u32 {
        let code = self.code();
        if ZERO_DECIMAL.contains(&code) {
            0
        } else if THREE_DECIMAL.contains(&code) {
            3
        } else {
            2
        }
    }

    /// Minor units in one unit of the currency: 1, 100 or 1000.
    pub fn minor_per_unit(self) -> i64 {
        10_i64.pow(self.exponent())
    }

    /// The step, in minor units, that Stripe charges in: 10 for three-decimal currencies
    /// (the last digit must be 0), 100 for ISK (two decimals in the API, but only whole
    /// krónur since 2023), 1 otherwise.
    pub fn stripe_step(self) -> i64 {
        match self.exponent() {
            3 => 10,
            _ if self.code() == "isk" => 100,
            _ => 1,
        }
    }

    /// Stripe's published minimum charge, or `None` for a currency its table does not
    /// list (Stripe then checks the equivalent in the account's settlement currency,
    /// which only it can convert).
    pub fn stripe_minimum(self) -> Option<Money> {
        STRIPE_MINIMUMS
            .iter()
            .find(|(code, _)| *code == self.code())
            .map(|&(_, minor)| Money::new(minor, self))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// Why a typed amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing was given.
    #[error("amount is empty (expected e.g. 79.99)")]
    Empty,
    /// A minus sign.
    #[error("amount `{0}` is negative")]
    Negative(String),
    /// Not of the form `123` or `123.45`.
    #[error("amount `{0}` is not a decimal amount like 79.99")]
    Invalid(String),
    /// More digits after the point than the currency has.
    #[error("{}", too_precise(.amount, *.currency))]
    TooPrecise {
        /// What was typed.
        amount: String,
        /// The currency it was for.
        currency: Currency,
    },
    /// More minor units than an i64 holds.
    #[error("amount `{0}` is too large")]
    TooLarge(String),
}

fn too_precise(amount: &str, currency: Currency) -> String {
    match currency.exponent() {
        0 => format!("amount `{amount}` has decimals, but {currency} has none (zero-decimal)"),
        n => format!("amount `{amount}` has more than {n} decimals, the most {currency} has"),
    }
}

/// A non-negative decimal amount as people type it (`79.99`, `1500`, `1.5`), not yet
/// tied to a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalAmount {
    text: String,
    whole: String,
    /// Digits after the point, trailing zeros dropped (`1.50` → `5`).
    fraction: String,
}

impl DecimalAmount {
    /// Parse digits with an optional point and fraction: `79`, `79.9`, `79.99`.
    pub fn parse(input: &str) -> Result<DecimalAmount, AmountError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        if s.starts_with('-') {
            return Err(AmountError::Negative(s.to_owned()));
        }
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || s.ends_with('.') {
            return Err(AmountError::Invalid(s.to_owned()));
        }
        Ok(DecimalAmount {
            text: s.to_owned(),
            whole: whole.to_owned(),
            fraction: fraction.trim_end_matches('0').to_owned(),
        })
    }

    /// This amount in `currency`'s minor units. Trailing zeros beyond the currency's
    /// decimals are fine (`1500.00` yen is 1500); other digits there are refused.
    pub fn in_currency(&self, currency: Currency) -> Result<Money, AmountError> {
        let exponent = currency.exponent() as usize;
        if self.fraction.len() > exponent {
            return Err(AmountError::TooPrecise {
                amount: self.text.clone(),
                currency,
            });
        }
        let too_large = || AmountError::TooLarge(self.text.clone());
        let whole: i64 = self.whole.parse().map_err(|_| too_large())?;
        let fraction: i64 = if self.fraction.is_empty() {
            0
        } else {
            // `9` with two decimals is 90 minor units, `09` is 9.
            format!("{:0<exponent$}", self.fraction)
                .parse()
                .map_err(|_| too_large())?
        };
        let minor = whole
            .checked_mul(currency.minor_per_unit())
            .and_then(|m| m.checked_add(fraction))
            .ok_or_else(too_large)?;
        Ok(Money::new(minor, currency))
    }
}

impl FromStr for DecimalAmount {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DecimalAmount::parse(s)
    }
}

impl fmt::Display for DecimalAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An amount of money: minor units of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// Minor units as Stripe counts them (cents, yen, fils).
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

/// Why Stripe would refuse to charge an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChargeError {
    /// Below Stripe's minimum charge for the currency.
    #[error("{amount} is below Stripe's minimum charge of {minimum}")]
    BelowMinimum {
        /// The amount.
        amount: Money,
        /// The least Stripe charges in that currency.
        minimum: Money,
    },
    /// Not a multiple of the step Stripe charges the currency in.
    #[error("{amount} cannot be charged: Stripe charges {} in steps of {}", .amount.currency, Money::new(*.step, .amount.currency).amount())]
    NotChargeableStep {
        /// The amount.
        amount: Money,
        /// The step, in minor units.
        step: i64,
    },
}

impl Money {
    /// `minor` units of `currency`.
    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Minor units with a stored currency code (`"usd"`).
    pub fn from_stored(minor: i64, currency: &str) -> Result<Money, CurrencyError> {
        Ok(Money::new(minor, Currency::parse(currency)?))
    }

    /// A typed amount (`"79.99"`, `"1500"`) in `currency`.
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, AmountError> {
        DecimalAmount::parse(amount)?.in_currency(currency)
    }

    /// The decimal amount of `minor` units stored with the code `currency` (reports read
    /// both from a row): `1500` yen is `1500`, 7999 cents `79.99`. A code that is not a
    /// currency (or none) is shown with two decimals.
    pub fn stored_amount(minor: i64, currency: Option<&str>) -> String {
        let currency = currency
            .and_then(|c| Currency::parse(c).ok())
            .unwrap_or(Currency::USD);
        Money::new(minor, currency).amount()
    }

    /// The amount as a decimal with the currency's decimals and no code: `79.99`,
    /// `1500`, `1.500`.
    pub fn amount(&self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let per_unit = 10_u64.pow(exponent);
        let width = exponent as usize;
        format!("{sign}{}.{:0width$}", abs / per_unit, abs % per_unit)
    }

    /// Whether Stripe can charge this amount: at least its minimum for the currency (for
    /// a currency its table does not list, at least one chargeable step — Stripe still
    /// checks the settlement-currency equivalent itself), and a multiple of the step it
    /// charges the currency in (three-decimal currencies end in 0, ISK in 00).
    pub fn check_stripe_charge(&self) -> Result<(), ChargeError> {
        let step = self.currency.stripe_step();
        let minimum = self
            .currency
            .stripe_minimum()
            .unwrap_or(Money::new(step, self.currency));
        if self.minor < minimum.minor {
            return Err(ChargeError::BelowMinimum {
                amount: *self,
                minimum,
            });
        }
        if self.minor % step != 0 {
            return Err(ChargeError::NotChargeableStep {
                amount: *self,
                step,
            });
        }
        Ok(())
    }
}

impl fmt::Display for Money {
    /// `79.99 usd`, `1500 jpy`, `1.500 kwd`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency)
    }
}

#[cfg(test)]
mod tests;
